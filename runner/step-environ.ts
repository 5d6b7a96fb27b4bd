// What the runner itself adds to its stages beyond the plan, and what a fork's pull
// request is kept from: the operator's environment (HARRIER_RUNNER_ENV_FILE), the clone
// credentials as Drone's DRONE_NETRC_* variables, and privileged plugin images.
import type { StageDetails } from '../core/protocol.ts';
import type { RunnerStageSettings } from './stage-execution.ts';

type BuildFacts = Pick<StageDetails, 'build' | 'repo'>;

/**
 * A pull request whose code comes from another repository. The build's `source_repo` names
 * where the code comes from; one that does not name this repository (or is empty, as for a
 * deleted fork) is taken for a fork, so that doubt never hands out credentials.
 */
export function isForkPullRequest({ build, repo }: BuildFacts): boolean {
  return build.event === 'pull_request' && build.source_repo.toLowerCase() !== repo.slug.toLowerCase();
}

/** A fork's pull request that no user with write permission approved (Build.approved_by). */
export function isUnapprovedFork(details: BuildFacts): boolean {
  return isForkPullRequest(details) && !details.build.approved_by;
}

/** The images that run privileged as plugins in this stage: none for a fork's pull request nobody approved. */
export function privilegedImagesFor(details: BuildFacts, settings: RunnerStageSettings | undefined): string[] {
  return isUnapprovedFork(details) ? [] : [...(settings?.privilegedImages ?? [])];
}

/**
 * Drone's netrc variables for the steps of a private repository (the server sends a netrc
 * for those only), unless the operator keeps them to the clone or the code comes from a fork.
 */
export function netrcEnviron(details: BuildFacts & Pick<StageDetails, 'netrc'>, settings: RunnerStageSettings | undefined): Record<string, string> {
  const { netrc } = details;
  if (!netrc?.machine || settings?.netrcCloneOnly || isForkPullRequest(details)) return {};
  return {
    DRONE_NETRC_MACHINE: netrc.machine,
    DRONE_NETRC_USERNAME: netrc.login,
    DRONE_NETRC_PASSWORD: netrc.password,
    DRONE_NETRC_FILE: `machine ${netrc.machine} login ${netrc.login} password ${netrc.password}`,
  };
}

/** What every step and service of the stage starts from, below the plan's own environment. */
export function runnerEnviron(details: BuildFacts & Pick<StageDetails, 'netrc'>, settings: RunnerStageSettings | undefined): Record<string, string> {
  return { ...settings?.environ, ...netrcEnviron(details, settings) };
}
