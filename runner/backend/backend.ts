// The one surface every execution backend implements (Docker now; others later).
// A backend runs a compiled Plan and knows nothing about the server.
import type { Plan, PlanStep } from '../../pipeline/types.ts';
import type { RegistryCredential } from './registry-auth.ts';

export interface StepResult {
  exitCode: number;
  /** The kernel killed the container for using too much memory. */
  oomKilled: boolean;
}

/**
 * Receives a step's output. It may return a promise when it cannot take more for now
 * (its send buffer is full); the backend then stops reading the container's output
 * until the promise settles, so a slow server slows the step's log, not the runner's memory.
 */
export type StepOutput = (chunk: Buffer) => void | Promise<void>;

/**
 * What every step and service container may use at most, set per runner. 0 means no limit.
 * A backend that cannot enforce a limit says so in its documentation.
 */
export interface StepLimits {
  /** Memory in bytes; no swap is added on top. */
  memoryBytes: number;
  /** CPUs, e.g. 1.5. Left out: all the engine's CPUs but one. */
  cpus?: number;
  /** Processes and threads together. */
  pids: number;
}

/**
 * Called when a step's output could not be read to its end (the backend gave up waiting
 * for it): what was delivered is all there will be, and `reason` says why, for the log.
 */
export type OutputLost = (reason: string) => void;

/** What a backend needs beyond the plan, resolved by the runner. */
export interface SetupOptions {
  /** For pulling private images (the plan's `imagePullSecrets`, resolved and parsed). */
  registryCredentials?: RegistryCredential[];
}

export interface Backend {
  /** Creates the stage's network and volumes. `options` is optional: a backend without registries ignores it. */
  setup(plan: Plan, signal: AbortSignal, options?: SetupOptions): Promise<void>;
  /**
   * Runs one step (or starts a detached step or service) and streams its combined
   * stdout and stderr to `output` as it arrives. Resolves when the container exits;
   * for detached steps and services, as soon as they have started (their output keeps
   * flowing to `output` until they stop or `destroy` returns).
   * Aborting the signal kills the container and rejects with the abort reason.
   * A step whose `timeoutSeconds` runs out is killed and rejects with a StepTimeoutError.
   * The container's environment is `step.env` only: the caller resolves `secretEnv` into it.
   * `outputLost` hears when the rest of the output was given up on, also for detached steps
   * and services after `run` returned; nothing reaches `output` after it was called.
   */
  run(plan: Plan, step: PlanStep, output: StepOutput, signal: AbortSignal, outputLost?: OutputLost): Promise<StepResult>;
  /**
   * Optional. Makes a step's container ready ahead of its run (while the stage's workspace
   * is cloned), so that `run` only starts it. `step` is the one `run` will get. Best effort:
   * whatever could not be made now, `run` makes, and reports its failure.
   */
  prepare?(plan: Plan, step: PlanStep, signal: AbortSignal): void;
  /** Removes every container, network and volume of the plan; safe to call more than once and after a failed setup. */
  destroy(plan: Plan): Promise<void>;
  /**
   * Optional. Removes the plan's containers only, stopping its steps and services; `destroy`
   * removes the rest later. The runner reports a stage done between the two, since the
   * rest (a network) is slow to remove and holds nothing that runs.
   */
  removeContainers?(plan: Plan): Promise<void>;
  /** Optional. Lets go of what the backend keeps between stages (idle networks): the runner is stopping. */
  close?(): Promise<void>;
  /**
   * Resolves when the engine answers; rejects with an error whose message says, for a
   * person, what is wrong (e.g. "the Docker engine does not answer: connect ENOENT
   * /var/run/docker.sock"). The runner asks before each request for work and takes none
   * while this rejects. Gives up by itself after a few seconds; aborting `signal` ends it sooner.
   */
  healthy(signal: AbortSignal): Promise<void>;
  /**
   * Optional. Removes whatever a previous process left behind: every container, network
   * and volume carrying all of `labels` (e.g. this runner's name after a crash).
   * Resolves to the number of objects removed.
   */
  removeLeftovers?(labels: Record<string, string>): Promise<number>;
  /**
   * Optional. When this process runs inside a container of the engine whose host name is
   * `hostname`, that container's name. Replicas of one compose service get distinct names
   * that stay the same when a replica is re-created (harrier-runner-1, -2, ...), which a
   * runner needs to find what its crashed predecessor left.
   */
  ownContainerName?(hostname: string): Promise<string | undefined>;
}

/** A step ran longer than its `timeout` and was killed. */
export class StepTimeoutError extends Error {
  constructor(readonly seconds: number) {
    super(`step timed out after ${seconds}s`);
    this.name = 'StepTimeoutError';
  }
}

/** The step's image is not on the engine and could not be pulled. */
export class ImageUnavailableError extends Error {
  constructor(
    readonly image: string,
    reason: string,
  ) {
    super(`image "${image}" is not available: ${reason}`);
    this.name = 'ImageUnavailableError';
  }
}
