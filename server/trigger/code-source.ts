// Where a hook's code lives, settled with the provider before the build is created (in the
// delivery workers, never at intake): the full hash of its commit, and the repository that
// holds it. Bitbucket's pull request deliveries name the head by 12 characters, and a fork's
// pull request there has no ref in the destination repository (Bitbucket Cloud has no pull
// request refs), so its pipeline file is read from, and its commit cloned from, the fork.
import type { Hook } from '../../core/domain.ts';
import type { ServerContext } from '../context.ts';
import type { Repo as RepoRow } from '../db/generated/sqlite/client.ts';
import { asRepoOwner } from '../builds/repo-token.ts';

const FULL_HASH = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i;

export interface CodeSource {
  /** The hook with `after` as the full hash. */
  hook: Hook;
  /** The repository the pipeline file is read from and the commit lives in: the fork's slug, or the repository's. */
  slug: string;
  /** The fork's clone URL, as its provider lists it, when the runner must clone the fork; empty otherwise. */
  cloneUrl: string;
  /** Why the runner could not clone the code (a private fork), for the build's error; empty when it can. */
  problem: string;
}

/**
 * Whether the hook's ref is a branch of the fork rather than of the repository: a fork's pull
 * request whose ref is refs/heads/… (GitHub's refs/pull/N/head lives in the destination repository).
 */
function refInFork(hook: Pick<Hook, 'event' | 'fork' | 'ref' | 'sourceRepo'>, repoSlug: string): boolean {
  return hook.event === 'pull_request' && hook.fork && hook.ref.startsWith('refs/heads/') && hook.sourceRepo !== '' && hook.sourceRepo.toLowerCase() !== repoSlug.toLowerCase();
}

/** Asks the provider only for what the hook leaves open: an abbreviated hash, a fork's clone URL. */
export async function codeSource(ctx: ServerContext, repo: RepoRow, hook: Hook): Promise<CodeSource> {
  const inFork = refInFork(hook, repo.slug);
  const slug = inFork ? hook.sourceRepo : repo.slug;
  if (!inFork && FULL_HASH.test(hook.after)) return { hook, slug, cloneUrl: '', problem: '' };
  const scm = ctx.providers.get(repo.provider);
  return asRepoOwner(ctx, repo, async (token) => {
    const after = FULL_HASH.test(hook.after) ? hook.after : await scm.commitHash(token, slug, hook.after);
    const fork = inFork ? await scm.repo(token, slug) : undefined;
    // The repository's credentials are for the repository alone, so a private fork has none to clone with.
    const problem = fork?.private
      ? `pull request #${hook.pullRequest} comes from the private fork ${slug}: Harrier clones a fork without the repository's credentials, so only a public fork can be built; make the fork public, or push the branch to ${repo.slug}`
      : '';
    return { hook: { ...hook, after }, slug, cloneUrl: fork?.cloneUrl ?? '', problem };
  });
}
