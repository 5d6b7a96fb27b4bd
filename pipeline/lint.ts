// Checks that need more than one node at a time: dependencies between pipelines
// and steps, volumes named by steps, and what only a trusted repository may do.

import type { EnvValue, ParseResult, Pipeline, PipelineError, PipelineStep, Position } from './types.ts';
import { parsePipelines, sortErrors } from './parse.ts';
import { substitutePipelineFile, type SubstitutionInput } from './substitute.ts';
import { didYouMean } from './suggest.ts';
import { isSecretRef } from './plugin-settings.ts';

export interface LintOptions {
  /** Trusted repositories may run privileged steps and mount host paths. */
  trusted: boolean;
}

export type CheckResult =
  | { ok: true; pipelines: Pipeline[]; warnings: PipelineError[] }
  | { ok: false; errors: PipelineError[] };

/** Volume names Drone keeps for itself; Harrier keeps them too so files mean the same. */
const RESERVED_VOLUMES = ['workspace', '_workspace', '_docker_socket'];

const TRUST_FIX = 'mark the repository trusted in its settings (an admin can)';

/** Parses then lints: the one call the server makes before creating a build. */
export function checkPipelines(text: string, opts: LintOptions): CheckResult {
  const parsed = parsePipelines(text);
  if (!parsed.ok) return parsed;
  const errors = lintPipelines(parsed.pipelines, opts);
  if (errors.length > 0) return { ok: false, errors: sortErrors(errors) };
  return { ok: true, pipelines: parsed.pipelines, warnings: parsed.warnings ?? [] };
}

/**
 * Substitutes the build's facts into the file, then parses and lints it: how the server
 * reads a build's file when it creates the build, and how the runner reads it for a stage.
 */
export function checkBuildFile(text: string, facts: SubstitutionInput, opts: LintOptions): CheckResult {
  const substituted = substitutePipelineFile(text, facts);
  return substituted.ok ? checkPipelines(substituted.text, opts) : substituted;
}

/** Substitutes then parses, for what needs only the pipelines (the secrets a stage names). */
export function parseBuildFile(text: string, facts: SubstitutionInput): ParseResult {
  const substituted = substitutePipelineFile(text, facts);
  return substituted.ok ? parsePipelines(substituted.text) : substituted;
}

export function lintPipelines(pipelines: Pipeline[], opts: LintOptions): PipelineError[] {
  const errors: PipelineError[] = [];
  const add: Add = Object.assign((at: Position, message: string) => void errors.push({ line: at.line, col: at.col, message }), {
    full: () => errors.length >= MAX_ERRORS,
  });
  checkPipelineGraph(pipelines, add);
  for (const p of pipelines) {
    checkStepGraph(p, add);
    checkVolumes(p, opts, add);
    checkTrust(p, opts, add);
    checkSecrets(p, add);
  }
  return errors;
}

/**
 * A file can hold a thousand mistakes, each costing a "did you mean" search; the first
 * hundred are as useful and the rest would only cost time.
 */
const MAX_ERRORS = 100;

type Add = ((at: Position, message: string) => void) & { full(): boolean };

function checkPipelineGraph(pipelines: Pipeline[], add: Add): void {
  const byName = new Map<string, Pipeline>();
  for (const p of pipelines) {
    if (byName.has(p.name)) {
      add(p.position, `pipeline name \`${p.name}\` is used more than once; give each pipeline its own \`name:\``);
    } else {
      byName.set(p.name, p);
    }
  }
  const names = [...byName.keys()];
  for (const p of pipelines) {
    for (const dep of p.dependsOn) {
      if (add.full()) return;
      if (dep === p.name) add(p.position, `pipeline \`${p.name}\` depends on itself; remove \`${dep}\` from its depends_on`);
      else if (!byName.has(dep)) add(p.position, `pipeline \`${p.name}\` depends on \`${dep}\`, which is not a pipeline in this file.${didYouMean(dep, names)}`);
    }
  }
  const cycle = findCycle(names, (n) => byName.get(n)!.dependsOn.filter((d) => byName.has(d) && d !== n));
  if (cycle) add(byName.get(cycle[0])!.position, `pipelines depend on each other in a cycle: ${cycle.join(' -> ')}; remove one of these depends_on`);
}

function checkStepGraph(p: Pipeline, add: Add): void {
  const all = [...p.services, ...p.steps];
  const byName = new Map(all.map((s) => [s.name, s]));
  const known = [...(p.clone.disable ? [] : ['clone']), ...byName.keys()];
  const knownSet = new Set(known);
  for (const step of all) {
    for (const dep of step.dependsOn) {
      if (add.full()) return;
      if (dep === step.name) add(step.position, `step \`${step.name}\` depends on itself; remove \`${dep}\` from its depends_on`);
      else if (!knownSet.has(dep)) add(step.position, `step \`${step.name}\` depends on \`${dep}\`, which is not a step of pipeline \`${p.name}\`.${didYouMean(dep, known)}`);
    }
  }
  const cycle = findCycle([...byName.keys()], (n) => byName.get(n)!.dependsOn.filter((d) => byName.has(d) && d !== n));
  if (cycle) add(byName.get(cycle[0])!.position, `steps depend on each other in a cycle: ${cycle.join(' -> ')}; remove one of these depends_on`);
}

/** The first cycle found, as names with the first repeated at the end; undefined when there is none. */
export function findCycle(nodes: string[], edges: (n: string) => string[]): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === 'done') return undefined;
    if (state.get(n) === 'visiting') return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 'visiting');
    stack.push(n);
    for (const next of edges(n)) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const n of nodes) {
    const cycle = visit(n);
    if (cycle) return cycle;
  }
  return undefined;
}

function checkVolumes(p: Pipeline, opts: LintOptions, add: Add): void {
  const declared = p.volumes.map((v) => v.name);
  const seen = new Set<string>();
  for (const v of p.volumes) {
    const at = v.position ?? p.position;
    if (seen.has(v.name)) add(at, `volume \`${v.name}\` is declared more than once in pipeline \`${p.name}\``);
    seen.add(v.name);
    if (RESERVED_VOLUMES.includes(v.name)) add(at, `volume name \`${v.name}\` is reserved for Harrier's own use; rename the volume`);
    if (v.host && !opts.trusted) add(at, `volume \`${v.name}\` mounts host path \`${v.host.path}\`, which only trusted repositories may do: ${TRUST_FIX}, or use \`temp: {}\``);
    if (v.temp?.medium === 'memory' && !opts.trusted) add(at, `volume \`${v.name}\` is held in memory, which only trusted repositories may do: ${TRUST_FIX}, or drop \`medium: memory\``);
  }
  for (const step of [...p.services, ...p.steps]) {
    for (const mount of step.volumes) {
      if (RESERVED_VOLUMES.includes(mount.name)) {
        add(step.position, `step \`${step.name}\` mounts \`${mount.name}\`, a name reserved for Harrier's own use; the workspace is mounted in every step already`);
      } else if (!declared.includes(mount.name)) {
        add(step.position, `step \`${step.name}\` mounts volume \`${mount.name}\`, which pipeline \`${p.name}\` does not declare: add it under \`volumes:\` with \`temp: {}\` or \`host: {path: ...}\`.${didYouMean(mount.name, declared)}`);
      }
    }
  }
}

function checkTrust(p: Pipeline, opts: LintOptions, add: Add): void {
  if (opts.trusted) return;
  for (const step of [...p.services, ...p.steps]) {
    if (step.privileged) add(step.position, `step \`${step.name}\` is privileged, which only trusted repositories may use: ${TRUST_FIX}, or remove \`privileged: true\``);
  }
}

function checkSecrets(p: Pipeline, add: Add): void {
  const empty = (env: Record<string, EnvValue>) => Object.entries(env).filter(([, v]) => v.fromSecret !== undefined && !v.fromSecret.trim());
  for (const [name] of empty(p.environment)) add(p.position, `environment \`${name}\` of pipeline \`${p.name}\` takes its value from no secret: write \`from_secret: <secret name>\``);
  for (const step of [...p.services, ...p.steps]) checkStepSecrets(step, empty, add);
}

function checkStepSecrets(step: PipelineStep, empty: (env: Record<string, EnvValue>) => [string, EnvValue][], add: Add): void {
  for (const [name] of empty(step.environment)) add(step.position, `environment \`${name}\` of step \`${step.name}\` takes its value from no secret: write \`from_secret: <secret name>\``);
  for (const [name, value] of Object.entries(step.settings)) {
    if (isSecretRef(value) && !value.from_secret.trim()) add(step.position, `setting \`${name}\` of step \`${step.name}\` takes its value from no secret: write \`from_secret: <secret name>\``);
  }
}
