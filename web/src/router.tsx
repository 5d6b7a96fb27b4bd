// A router the size of this app needs: the History API, one subscription, and a Link
// that keeps ctrl/middle-click opening a new tab. Paths follow Drone's:
//   /                                  repositories
//   /runners                           runners
//   /users                             users (administrators)
//   /account                           your personal tokens
//   /orgs/{namespace}/secrets[?provider=]   an organisation's secrets (its administrators)
//   /{owner}/{name}                    builds of a repository
//   /{owner}/{name}/settings           its settings
//   /{owner}/{name}/settings/deliveries   its webhook deliveries (a tab of the settings)
//   /{owner}/{name}/{build}[/{stage}/{step}][#L42]   a build, a step's log, a line
import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';

const listeners = new Set<() => void>();
const notify = () => listeners.forEach((l) => l());
window.addEventListener('popstate', notify);
window.addEventListener('hashchange', notify);

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  const here = location.pathname + location.search + location.hash;
  if (to === here) return;
  const samePage = new URL(to, location.href).pathname === location.pathname;
  history[opts.replace ? 'replaceState' : 'pushState'](null, '', to);
  if (!samePage) window.scrollTo(0, 0);
  notify();
}

export interface Location {
  path: string;
  search: string;
  hash: string;
}

let cached: Location = { path: '', search: '', hash: '' };
function snapshot(): Location {
  const { pathname, search, hash } = location;
  if (cached.path !== pathname || cached.search !== search || cached.hash !== hash) cached = { path: pathname, search, hash };
  return cached;
}

export function useLocation(): Location {
  return useSyncExternalStore(subscribe, snapshot);
}

export type Route =
  | { page: 'repos' }
  | { page: 'runners' }
  | { page: 'users' }
  | { page: 'account' }
  | { page: 'org-secrets'; namespace: string }
  | { page: 'builds'; slug: string }
  | { page: 'settings'; slug: string; tab?: 'deliveries' }
  | { page: 'build'; slug: string; number: number; stage?: number; step?: number }
  | { page: 'not-found' };

export function matchRoute(path: string): Route {
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return { page: 'repos' };
  if (parts.length === 1 && parts[0] === 'runners') return { page: 'runners' };
  if (parts.length === 1 && parts[0] === 'users') return { page: 'users' };
  if (parts.length === 1 && parts[0] === 'account') return { page: 'account' };
  if (parts.length < 2) return { page: 'not-found' };
  // No repository page has three parts ending in "secrets", so this takes nothing from a repository named "orgs/…".
  if (parts.length === 3 && parts[0] === 'orgs' && parts[2] === 'secrets') return { page: 'org-secrets', namespace: parts[1] };
  const slug = `${parts[0]}/${parts[1]}`;
  if (parts.length === 2) return { page: 'builds', slug };
  if (parts.length === 3 && parts[2] === 'settings') return { page: 'settings', slug };
  if (parts.length === 4 && parts[2] === 'settings' && parts[3] === 'deliveries') return { page: 'settings', slug, tab: 'deliveries' };
  const nums = parts.slice(2).map(Number);
  if (!nums.every((n) => Number.isInteger(n) && n > 0)) return { page: 'not-found' };
  if (nums.length === 1) return { page: 'build', slug, number: nums[0] };
  if (nums.length === 3) return { page: 'build', slug, number: nums[0], stage: nums[1], step: nums[2] };
  return { page: 'not-found' };
}

/** The organisation secrets page of a namespace on a provider (a GitHub organisation and a Bitbucket workspace may share a name). */
export function orgSecretsUrl(namespace: string, provider: string): string {
  return `/orgs/${encodeURIComponent(namespace)}/secrets?provider=${encodeURIComponent(provider)}`;
}

export function repoUrl(slug: string, rest = ''): string {
  return `/${slug.split('/').map(encodeURIComponent).join('/')}${rest}`;
}

type LinkProps = AnchorHTMLAttributes<HTMLAnchorElement> & { to: string; replace?: boolean };

export function Link({ to, replace, onClick, ...rest }: LinkProps) {
  const handle = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey || rest.target) return;
    e.preventDefault();
    navigate(to, { replace });
  };
  return <a href={to} onClick={handle} {...rest} />;
}
