// The files a delivery changed, for `paths` conditions. Asked of the provider only when
// the pipeline file has a `paths` condition somewhere, so most pushes cost no extra call.
// Undefined means unknown (not asked, a capped list, a provider error): `paths` then
// matches, so a build is never lost or skipped because the provider could not say.
import type { Hook } from '../../core/domain.ts';
import type { Pipeline } from '../../pipeline/types.ts';
import type { ServerContext } from '../context.ts';
import type { Repo as RepoRow } from '../db/generated/sqlite/client.ts';
import type { ChangeSet } from '../providers/scm.ts';

/** Whether a pipeline's trigger, or a step's or service's `when`, has a `paths` condition. */
export function usesPaths(pipelines: Pipeline[]): boolean {
  return pipelines.some((p) => p.trigger.paths || [...p.steps, ...p.services].some((s) => s.when.paths));
}

/** What the hook changed as the provider diffs it; tags change nothing a path filter can judge. */
export function changeSetOf(hook: Hook): ChangeSet | undefined {
  if (hook.event === 'pull_request') return { event: 'pull_request', number: hook.pullRequest, after: hook.after };
  if (hook.event === 'push') return { event: 'push', before: hook.before, after: hook.after };
  return undefined;
}

/** Asked only when usesPaths says the file looks at paths (the server learns that from its pipeline thread). */
export async function changedFilesFor(ctx: ServerContext, repo: RepoRow, token: string, hook: Hook): Promise<string[] | undefined> {
  const change = changeSetOf(hook);
  if (!change) return undefined;
  try {
    const files = await ctx.providers.get(repo.provider).changedFiles(token, repo.slug, change);
    if (!files) ctx.logger.info({ event: 'changed_files_unknown', repo: repo.slug, after: hook.after }, 'the provider capped the list of changed files; paths conditions match');
    return files;
  } catch (err) {
    ctx.logger.warn(
      { event: 'changed_files_failed', repo: repo.slug, after: hook.after, err: err instanceof Error ? err.message : String(err) },
      'could not list the changed files; paths conditions match',
    );
    return undefined;
  }
}
