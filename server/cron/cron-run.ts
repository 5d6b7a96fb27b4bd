// One run of a cron job: the head of its branch, as the provider says now, built as a
// manual build is (trigger/build-from-ref.ts), with event "cron", trigger "@cron" and the
// job's name as the build's `cron` (the `cron` condition's fact and DRONE_CRON), as Drone's
// cron scheduler and POST /api/repos/{owner}/{name}/cron/{cron} do.
import type { ServerContext } from '../context.ts';
import type { Repo as RepoRow } from '../db/generated/sqlite/client.ts';
import { BranchNotFound, buildFromRef, NoPipelineRuns } from '../trigger/build-from-ref.ts';
import type { TriggerResult } from '../trigger/trigger.ts';
import { type CronClaim, type CronRow, finishCronRunWithBuild } from './cron-store.ts';

/** The job's branch does not exist (deleted, renamed, or the repository is empty): retrying will not help. */
export class CronBranchGone extends Error {}

/**
 * With a scheduler's claim, the build and the job's following time commit together (cron-store.ts
 * finishCronRunWithBuild), or a ClaimLost says another server holds the run. No pipeline for the
 * build is no failure: the answer says why nothing was built, for the job to record.
 */
export async function runCronJob(ctx: ServerContext, repo: RepoRow, job: Pick<CronRow, 'name' | 'branch'>, claim?: CronClaim): Promise<TriggerResult> {
  try {
    const build = await buildFromRef(ctx, repo, {
      event: 'cron',
      branch: job.branch,
      params: {},
      cron: job.name,
      trigger: '@cron',
      claim: claim && ((tx) => finishCronRunWithBuild(tx, claim, ctx.now())),
    });
    return { kind: 'build', build };
  } catch (err) {
    if (err instanceof NoPipelineRuns) return { kind: 'ignored', reason: err.message };
    if (err instanceof BranchNotFound) {
      throw new CronBranchGone(
        `cron job "${job.name}" builds branch "${job.branch}", which ${repo.slug} does not have (deleted or renamed?); ` +
          `change the job's branch (PATCH /api/repos/${repo.slug}/cron/${job.name} {"branch": "…"}) or delete the job`,
      );
    }
    throw err;
  }
}
