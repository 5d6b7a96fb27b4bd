// Which pipelines `harrier exec` runs and in what order, with the server's rules: a
// pipeline whose `trigger` does not match the local facts is not part of the build; the
// others run one after another, each after the pipelines it depends on; one with
// `depends_on` runs after a failure only when its trigger asks for `status: failure`.
import type { Status } from '../core/domain.ts';
import { isFailed } from '../core/domain.ts';
import { matchCondition, matchConditions, type MatchFacts } from '../pipeline/index.ts';
import type { Pipeline } from '../pipeline/types.ts';
import { UsageError } from './command-io.ts';

export interface PipelineChoice {
  /** In an order that respects depends_on (file order otherwise). */
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
  return { run: dependencyOrder(run), left };
}

/** Each pipeline after those it depends on; dependencies outside the list count as met, as the server's do. */
export function dependencyOrder(pipelines: Pipeline[]): Pipeline[] {
  const names = new Set(pipelines.map((p) => p.name));
  const placed = new Set<string>();
  const out: Pipeline[] = [];
  let waiting = [...pipelines];
  while (waiting.length > 0) {
    const ready = waiting.find((p) => p.dependsOn.every((d) => !names.has(d) || placed.has(d)));
    // The linter rejects cycles; should one get here, run the rest in file order.
    const next = ready ?? waiting[0];
    out.push(next);
    placed.add(next.name);
    waiting = waiting.filter((p) => p !== next);
  }
  return out;
}

/**
 * Whether a pipeline runs now, given the results so far: as on the server, a pipeline
 * without depends_on always starts; one with depends_on runs after success unless its
 * trigger excludes `success`, and after a failure only when it includes `failure`.
 */
export function startsAfter(pipeline: Pipeline, results: Map<string, Status>): { run: true } | { run: false; reason: string } {
  if (pipeline.dependsOn.length === 0) return { run: true };
  const failed = [...results.values()].some(isFailed);
  const status = pipeline.trigger.status;
  const wants = (outcome: 'success' | 'failure') => (status ? matchCondition(status, outcome) : outcome === 'success');
  if (failed ? wants('failure') : wants('success')) return { run: true };
  return { run: false, reason: failed ? 'an earlier pipeline failed (add `status: [failure]` to its trigger to run it then)' : 'its trigger runs it only after a failure' };
}
