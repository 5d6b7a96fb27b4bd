// One run of a cron job: the head of its branch, as the provider says now, built as
// trigger/trigger.ts builds a push, with event "cron", trigger "@cron" and the job's
// name as the build's `cron` (the `cron` condition's fact and DRONE_CRON), as Drone's
// cron scheduler and POST /api/repos/{owner}/{name}/cron/{cron} do.
import type { Hook, Provider } from '../../core/domain.ts';
import { asRepoOwner } from '../builds/repo-token.ts';
import type { ServerContext } from '../context.ts';
import type { Repo as RepoRow } from '../db/generated/sqlite/client.ts';
import { trigger, type TriggerResult } from '../trigger/trigger.ts';
import { type CronClaim, type CronRow, finishCronRunWithBuild } from './cron-store.ts';

/** The job's branch does not exist (deleted, renamed, or the repository is empty): retrying will not help. */
export class CronBranchGone extends Error {}

/** With a scheduler's claim, the build and the job's following time commit together (cron-store.ts finishCronRunWithBuild). */
export async function runCronJob(ctx: ServerContext, repo: RepoRow, job: Pick<CronRow, 'name' | 'branch'>, claim?: CronClaim): Promise<TriggerResult> {
  const head = await asRepoOwner(ctx, repo, (token) => ctx.providers.get(repo.provider).findCommit(token, repo.slug, { branch: job.branch }));
  if (!head) {
    throw new CronBranchGone(
      `cron job "${job.name}" builds branch "${job.branch}", which ${repo.slug} does not have (deleted or renamed?); ` +
        `change the job's branch (PATCH /api/repos/${repo.slug}/cron/${job.name} {"branch": "…"}) or delete the job`,
    );
  }
  const now = ctx.now();
  const hook: Hook = {
    provider: repo.provider as Provider,
    deliveryId: '',
    event: 'cron',
    action: '',
    repo: {
      uid: repo.uid,
      namespace: repo.namespace,
      name: repo.name,
      slug: repo.slug,
      cloneUrl: repo.cloneUrl,
      sshUrl: repo.sshUrl,
      link: head.link,
      defaultBranch: repo.defaultBranch,
      private: repo.private,
    },
    ref: `refs/heads/${job.branch}`,
    target: job.branch,
    source: job.branch,
    sourceRepo: repo.slug,
    fork: false,
    before: '',
    after: head.sha,
    message: head.message,
    title: '',
    link: head.link,
    pullRequest: 0,
    author: head.author,
    // Drone's cron builds answer the commit's author.
    sender: head.author.login,
    timestamp: head.timestamp || now,
    trigger: '@cron',
    cron: job.name,
  };
  return trigger(ctx, hook, claim ? { claim: (tx) => finishCronRunWithBuild(tx, claim, ctx.now()) } : {});
}
