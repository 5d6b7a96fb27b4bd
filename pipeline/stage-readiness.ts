// When a stage (a pipeline of the build) runs: the one rule the server's trigger and
// build state and `harrier exec` all follow, so a pipeline file behaves the same on
// the server and on a laptop. As in Drone, a stage without depends_on starts at once;
// one with depends_on waits until they are all done, then runs when its trigger's
// `status` accepts the build's outcome so far, and is skipped otherwise.
import type { Status } from '../core/domain.ts';
import { isDone, isFailed } from '../core/domain.ts';
import { matchCondition } from './conditions.ts';
import type { Condition } from './types.ts';

/** What readiness needs to know of a stage; callers pass their own records with more fields. */
export interface ReadinessStage {
  name: string;
  status: Status;
  /**
   * Names of the stages it waits for. A name that is not among the stages counts as met:
   * the server's trigger has already replaced left-out pipelines by their own
   * dependencies, and `harrier exec --pipeline` runs only the ones asked for.
   */
  dependsOn: string[];
  /** Runs when nothing has failed (from runsAfter). */
  onSuccess: boolean;
  /** Runs when something has failed (from runsAfter). */
  onFailure: boolean;
  /** Its failure does not fail the build, so it does not count as one here either. */
  errignore: boolean;
}

/**
 * After which outcomes a stage runs, from its trigger's `status` condition, matched as
 * globs as Drone matches every condition (`status: [fail*]` means after a failure).
 * Without one, a stage runs after success only.
 */
export function runsAfter(status: Condition | undefined): { onSuccess: boolean; onFailure: boolean } {
  if (!status) return { onSuccess: true, onFailure: false };
  return { onSuccess: matchCondition(status, 'success'), onFailure: matchCondition(status, 'failure') };
}

/** Whether a stage that counts has failed: the outcome a waiting stage's onSuccess/onFailure answers to. */
export function failedSoFar(stages: readonly Pick<ReadinessStage, 'status' | 'errignore'>[]): boolean {
  return stages.some((s) => isDone(s.status) && isFailed(s.status) && !s.errignore);
}

/**
 * The stages waiting on dependencies whose dependencies are all done, split into those
 * to start and those to skip. A skipped stage is done too, so a caller that records
 * the skips asks again to learn which stages that unblocked.
 */
export function readyStages<T extends ReadinessStage>(stages: T[]): { run: T[]; skip: T[] } {
  const byName = new Map(stages.map((s) => [s.name, s]));
  const failed = failedSoFar(stages);
  const run: T[] = [];
  const skip: T[] = [];
  for (const stage of stages) {
    if (stage.status !== 'waiting_on_dependencies') continue;
    const met = stage.dependsOn.every((name) => {
      const dep = byName.get(name);
      return dep === undefined || isDone(dep.status);
    });
    if (!met) continue;
    (failed ? stage.onFailure : stage.onSuccess) ? run.push(stage) : skip.push(stage);
  }
  return { run, skip };
}
