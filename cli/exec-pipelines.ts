// Which pipelines `harrier exec` runs and in what order, with the server's rules: a
// pipeline whose `trigger` does not match the local facts is not part of the build; the
// others run one after another, each after the pipelines it depends on, and whether one
// with `depends_on` runs after a failure is decided by the server's own readyStages.
import { isDone } from '../core/domain.ts';
import { failedSoFar, matchConditions, readyStages, runsAfter, type MatchFacts, type ReadinessStage } from '../pipeline/index.ts';
import type { Pipeline } from '../pipeline/types.ts';
import { UsageError } from './command-io.ts';

export interface PipelineChoice {
  /** In file order; nextStage orders them by depends_on. */
  run: Pipeline[];
  /** Left out, with why. */
  left: { pipeline: Pipeline; reason: string }[];
}

export function choosePipelines(pipelines: Pipeline[], names: string[], facts: MatchFacts): PipelineChoice {
  const known = pipelines.map((p) => p.name);
  for (const name of names) {
    if (!known.includes(name)) throw new UsageError(`--pipeline ${name}: the file has no pipeline of that name; it has ${known.map((n) => `"${n}"`).join(', ')}`);
  }
  const run: Pipeline[] = [];
  const left: PipelineChoice['left'] = [];
  for (const p of pipelines) {
    if (names.length > 0 && !names.includes(p.name)) continue;
    const { status: _status, ...trigger } = p.trigger;
    if (matchConditions(trigger, facts)) run.push(p);
    else left.push({ pipeline: p, reason: `its trigger does not match event ${facts.event} on branch ${facts.branch} (ref ${facts.ref}); try --event or --branch` });
  }
  return { run, left };
}

/** A chosen pipeline as the shared readiness rules see it, with where `harrier exec` has got to. */
export interface ExecStage extends ReadinessStage {
  pipeline: Pipeline;
}

/**
 * The chosen pipelines as stages, in file order, set up as the server sets up a build's:
 * one that depends on another chosen pipeline waits for it, the rest start at once.
 */
export function execStages(pipelines: Pipeline[]): ExecStage[] {
  const names = new Set(pipelines.map((p) => p.name));
  return pipelines.map((pipeline) => {
    const dependsOn = pipeline.dependsOn.filter((d) => names.has(d));
    return {
      pipeline,
      name: pipeline.name,
      status: dependsOn.length > 0 ? 'waiting_on_dependencies' : 'pending',
      dependsOn,
      ...runsAfter(pipeline.trigger.status),
      errignore: false,
    };
  });
}

export type NextStage = { stage: ExecStage; run: true } | { stage: ExecStage; run: false; reason: string };

/**
 * What `harrier exec` does next, one pipeline at a time: the first stage in file order
 * that may start or whose dependencies are all done, which then runs or is skipped by
 * the server's rules (readyStages). Undefined once every stage is done. The caller
 * records the outcome in the stage's status before asking again.
 */
export function nextStage(stages: ExecStage[]): NextStage | undefined {
  const { run, skip } = readyStages(stages);
  const next =
    stages.find((s) => s.status === 'pending' || run.includes(s) || skip.includes(s)) ??
    // The linter rejects cycles; should one get here, run the rest in file order.
    stages.find((s) => !isDone(s.status));
  if (!next) return undefined;
  if (!skip.includes(next)) return { stage: next, run: true };
  const reason = failedSoFar(stages)
    ? 'an earlier pipeline failed (add `status: [failure]` to its trigger to run it then)'
    : 'its trigger runs it only after a failure';
  return { stage: next, run: false, reason };
}
