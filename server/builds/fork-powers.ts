// What a build may do, decided by who sent its code. A fork's pull request runs code from
// someone with no write access to the repository: until a user with write permission
// approves it, it gets none of the repository's trusted powers (privileged containers,
// host volumes, in-memory volumes) and no secrets. The trigger (who waits in `blocked`),
// the runner's stage details (repo.trusted) and the secrets picked for a stage all ask here.
import type { Build as BuildRow, Repo as RepoRow } from '../db/generated/sqlite/client.ts';

type BuildFacts = Pick<BuildRow, 'event' | 'fork'>;

/** A pull request whose code comes from another repository than the one it builds in. */
export function isForkPullRequest(build: BuildFacts): boolean {
  return build.event === 'pull_request' && build.fork;
}

/** Whether a user with write permission approved the build (Build.approvedBy; a declined build never runs). */
export function isApproved(build: Pick<BuildRow, 'approvedBy' | 'status'>): boolean {
  return build.approvedBy !== '' && build.status !== 'declined';
}

/**
 * Why a new build must wait in `blocked` for approval, or undefined when it may start.
 * `fromHook` is false for a build a user started (a restart): Drone blocks only what a
 * webhook starts on a protected repository, since the user starting it has write permission.
 */
export function approvalReason(repo: Pick<RepoRow, 'protected' | 'trusted'>, build: BuildFacts & Pick<BuildRow, 'approvedBy'>, fromHook: boolean): string | undefined {
  if (build.approvedBy) return undefined;
  if (repo.protected && fromHook) return 'the repository is protected: every build waits for approval';
  if (repo.trusted && isForkPullRequest(build)) return "the repository is trusted and this pull request comes from a fork: it waits for approval before it may use the repository's trusted powers";
  return undefined;
}

/** The repository's `trusted` as the runner must see it for this build: never for a fork's pull request nobody approved. */
export function trustedFor(repo: Pick<RepoRow, 'trusted'>, build: BuildFacts & Pick<BuildRow, 'approvedBy' | 'status'>): boolean {
  return repo.trusted && (!isForkPullRequest(build) || isApproved(build));
}
