// What the first page will ask for, asked for while the app starts: a build page opened
// from a commit status link would otherwise wait for the user, then the build, then the
// log, one after another. Each answer is handed out once, to the first component that asks.
import { matchRoute } from '../router.tsx';
import { api, repoPath } from './client.ts';

const early = new Map<string, Promise<unknown>>();

export function takePrefetched<T>(path: string): Promise<T> | undefined {
  const p = early.get(path) as Promise<T> | undefined;
  early.delete(path);
  return p;
}

function prefetch(path: string): void {
  const p = api(path);
  p.catch(() => undefined); // a failure is seen by whoever takes it
  early.set(path, p);
}

export function prefetchFor(pathname: string): void {
  const route = matchRoute(pathname);
  if (route.page !== 'build') return;
  const repo = `/api/repos/${repoPath(route.slug)}`;
  prefetch(`${repo}/builds/${route.number}`);
  if (route.stage !== undefined && route.step !== undefined) prefetch(`${repo}/builds/${route.number}/logs/${route.stage}/${route.step}`);
}
