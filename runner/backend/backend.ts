// The one surface every execution backend implements (Docker now; others later).
// A backend runs a compiled Plan and knows nothing about the server.
import type { Plan, PlanStep } from '../../pipeline/types.ts';

export interface StepResult {
  exitCode: number;
  /** The kernel killed the container for using too much memory. */
  oomKilled: boolean;
}

export interface Backend {
  /** Creates the stage's network and volumes. */
  setup(plan: Plan, signal: AbortSignal): Promise<void>;
  /**
   * Runs one step (or starts a detached step or service) and streams its combined
   * stdout and stderr to `output` as it arrives. Resolves when the container exits;
   * for detached steps and services, as soon as they have started.
   * Aborting the signal kills the container and rejects with the abort reason.
   */
  run(plan: Plan, step: PlanStep, output: (chunk: Buffer) => void, signal: AbortSignal): Promise<StepResult>;
  /** Removes every container, network and volume of the plan; safe to call more than once and after a failed setup. */
  destroy(plan: Plan): Promise<void>;
}
