// A build as the commands name it: its number, or `last` (drone's word) for the newest.
import type { Build } from '../../core/domain.ts';
import { countArg } from './client-command.ts';
import { repoPath, type HarrierClient } from './harrier-client.ts';

export async function buildNumber(client: HarrierClient, slug: string, given: string | undefined): Promise<number> {
  if (given === 'last') return (await client.get<Build>(`/api/repos/${repoPath(slug)}/builds/latest`)).number;
  return countArg(given, 'the build number');
}

export function fetchBuild(client: HarrierClient, slug: string, given: string | undefined): Promise<Build> {
  const which = given === 'last' ? 'latest' : countArg(given, 'the build number');
  return client.get<Build>(`/api/repos/${repoPath(slug)}/builds/${which}`);
}
