// Tells the provider how a build went, as a commit status linking to the build page.
// A failure to report is logged, never fatal: the build itself is already recorded.
import type { ServerContext } from '../context.ts';
import type { Build as BuildRow, Repo as RepoRow } from '../db/generated/sqlite/client.ts';
import type { CommitState } from '../providers/scm.ts';
import { asRepoOwner } from './repo-token.ts';

const DESCRIPTIONS: Record<CommitState, string> = {
  pending: 'Build is pending',
  running: 'Build is running',
  success: 'Build is passing',
  failure: 'Build is failing',
  error: 'Build encountered an error',
  killed: 'Build was killed',
};

export function buildLink(host: string, repo: Pick<RepoRow, 'slug'>, build: Pick<BuildRow, 'number'>): string {
  return `${host}/${repo.slug}/${build.number}`;
}

export function statusContext(event: string): string {
  const kind = event === 'pull_request' ? 'pr' : event;
  return `continuous-integration/harrier/${kind}`;
}

function commitState(status: string): CommitState | undefined {
  switch (status) {
    case 'pending':
    case 'waiting_on_dependencies':
    case 'blocked':
      return 'pending';
    case 'running':
      return 'running';
    case 'success':
      return 'success';
    case 'failure':
      return 'failure';
    case 'error':
      return 'error';
    case 'killed':
    // Stopped before it ran, as Drone reports it: GitHub shows an error, Bitbucket STOPPED.
    case 'declined':
      return 'killed';
    default:
      return undefined;
  }
}

/** The status's words: a blocked or declined build says why it did not run. */
export function statusDescription(build: Pick<BuildRow, 'status' | 'approvedBy'>, state: CommitState): string {
  if (build.status === 'blocked') return 'Waiting for approval by a user with write permission';
  if (build.status === 'declined') return build.approvedBy ? `Declined by ${build.approvedBy}` : 'Build was declined';
  return DESCRIPTIONS[state];
}

export async function reportCommitStatus(ctx: ServerContext, repo: RepoRow, build: BuildRow): Promise<void> {
  const state = commitState(build.status);
  if (!state || !build.after) return;
  try {
    await asRepoOwner(ctx, repo, (token) =>
      ctx.providers.get(repo.provider).status(token, repo.slug, build.after, {
        state,
        link: buildLink(ctx.config.host, repo, build),
        description: statusDescription(build, state),
        context: statusContext(build.event),
      }),
    );
  } catch (error) {
    ctx.logger.warn({ err: error, repo: repo.slug, build: build.number, state }, 'could not report the commit status');
  }
}
