// One stage of a build -> the backend-neutral plan a runner executes: a network,
// the workspace and declared volumes, and a container per service and step with
// its environment, mounts, order and run policy. Pure: the same input always
// gives the same plan, which the golden tests under testdata/ pin down.
//
// The clone is not a container: the runner clones on its host into
// workspaceHostPath before any step starts, and the plan mounts that folder.
// Clone credentials (netrc) stay out of the plan; the runner holds them.

import type { CompileInput, Condition, Conditions, Plan, PlanMount, PlanStep, PlanVolume, Pipeline, PipelineStep, PipelineVolume } from './types.ts';
import { matchCondition, matchConditions, type MatchFacts } from './conditions.ts';
import { stageEnvironment, stepEnviron, workspaceEnviron } from './environ.ts';
import { settingsEnv } from './plugin-settings.ts';
import { SCRIPT_COMMAND, SCRIPT_ENTRYPOINT, shellScript } from './step-script.ts';
import { stepOrder } from './step-order.ts';
import { stageSteps } from './stage-steps.ts';

/** Drone's default privileged plugins, for a runner that wants Drone's behaviour. */
export const DRONE_PRIVILEGED_IMAGES = ['plugins/docker', 'plugins/acr', 'plugins/ecr', 'plugins/gcr', 'plugins/heroku'];

export const LABEL_MANAGED = 'io.harrier.managed';
export const LABEL_STAGE = 'io.harrier.stage';
export const LABEL_BUILD = 'io.harrier.build';
export const LABEL_REPO = 'io.harrier.repo';
export const LABEL_STEP = 'io.harrier.step';

/** The plan for the stage `input.stage` of `input.pipeline`. */
export function compileStage(input: CompileInput): Plan {
  const { pipeline, idPrefix } = input;
  const labels = planLabels(input);
  const workspaceVolume: PlanVolume = { id: `${idPrefix}-workspace`, name: 'workspace', kind: 'host', hostPath: input.workspaceHostPath };
  const volumes = [workspaceVolume, ...pipelineVolumes(pipeline, idPrefix)];
  const network = { id: idPrefix, labels };
  const shared = sharedEnv(input);
  const facts = buildFacts(input);
  const numbers = stepNumbers(input);

  const candidates = [...pipeline.services.map((s) => ({ src: s, service: true })), ...pipeline.steps.map((s) => ({ src: s, service: false }))];
  const runOn = new Map(candidates.map(({ src }) => [src.name, runOnOf(src.when.status)]));
  const skipped = candidates
    .filter(({ src }) => runOn.get(src.name) === null || !matchConditions(withoutStatus(src.when), facts))
    .map(({ src }) => src.name);
  const order = stepOrder(
    pipeline.steps.map((s) => ({ name: s.name, dependsOn: s.dependsOn, skipped: skipped.includes(s.name) })),
    candidates.some(({ src }) => src.dependsOn.length > 0),
  );

  const steps = candidates
    .filter(({ src }) => !skipped.includes(src.name))
    .map(({ src, service }) => {
      const number = numbers.get(src.name) ?? 0;
      return compileStep({
        input,
        src,
        service,
        number,
        env: shared,
        volumes,
        labels: { ...labels, [LABEL_STEP]: src.name },
        dependsOn: service ? [] : (order.get(src.name) ?? []),
        runOn: runOn.get(src.name) ?? [],
      });
    });

  return {
    network,
    volumes,
    workspace: { volumeId: workspaceVolume.id, path: pipeline.workspace.path },
    steps,
    labels,
    skipped,
    imagePullSecrets: [...pipeline.imagePullSecrets],
  };
}

/** Labels on every object of the plan; Harrier's own win over the runner's extras. */
export function planLabels(input: CompileInput): Record<string, string> {
  return {
    ...input.labels,
    [LABEL_MANAGED]: 'true',
    [LABEL_STAGE]: String(input.stage.id),
    [LABEL_BUILD]: String(input.build.id),
    [LABEL_REPO]: input.repo.slug,
  };
}

function pipelineVolumes(pipeline: Pipeline, idPrefix: string): PlanVolume[] {
  return pipeline.volumes.map((v) =>
    v.host
      ? { id: `${idPrefix}-vol-${safeName(v.name)}`, name: v.name, kind: 'host', hostPath: v.host.path }
      : { id: `${idPrefix}-vol-${safeName(v.name)}`, name: v.name, kind: 'temp', ...memoryMedium(v.temp) },
  );
}

function memoryMedium(temp: PipelineVolume['temp']): Pick<PlanVolume, 'medium' | 'sizeLimit'> {
  if (temp?.medium !== 'memory') return {};
  return { medium: 'memory', ...(temp.sizeLimit !== undefined && { sizeLimit: temp.sizeLimit }) };
}

/** What `when` is evaluated against: the build as the trigger saw it. */
export function buildFacts(input: Pick<CompileInput, 'build' | 'repo' | 'system' | 'changedFiles'>): MatchFacts {
  const { build, repo, system } = input;
  return {
    branch: build.target,
    event: build.event,
    ref: build.ref,
    target: build.deploy_to,
    cron: build.cron,
    action: build.action,
    repo: repo.slug,
    instance: system.host,
    status: 'success',
    changedFiles: input.changedFiles,
  };
}

function withoutStatus(conds: Conditions): Conditions {
  const { status: _status, ...rest } = conds;
  return rest;
}

/**
 * The outcomes a step runs after, from `when.status`: [] (success only) when
 * absent; null when it names no outcome at all, so the step can never run.
 */
export function runOnOf(status: Condition | undefined): PlanStep['runOn'] | null {
  if (!status) return [];
  const out = (['success', 'failure'] as const).filter((s) => matchCondition(status, s));
  return out.length > 0 ? out : null;
}

/** Step numbers as the server recorded them; the shared numbering when the stage carries no steps. */
function stepNumbers(input: CompileInput): Map<string, number> {
  const numbers = new Map(stageSteps(input.pipeline).map((s) => [s.name, s.number]));
  for (const s of input.stage.steps ?? []) numbers.set(s.name, s.number);
  return numbers;
}

/** Build parameters < DRONE_* variables; what every step of the stage starts from. */
export function baseEnvironment(input: CompileInput): Record<string, string> {
  return {
    ...input.build.params,
    ...stageEnvironment(input),
    ...workspaceEnviron(input.pipeline.workspace.path),
    DRONE_DOCKER_NETWORK_ID: input.idPrefix,
  };
}

/** The base environment < pipeline environment; steps add their own on top. */
function sharedEnv(input: CompileInput): Layered {
  return layer({ env: baseEnvironment(input), secretEnv: {} }, input.pipeline.environment);
}

interface Layered {
  env: Record<string, string>;
  secretEnv: Record<string, string>;
}

/** Lays `values` over `base`: a name set later wins, whether plain or from a secret. */
function layer(base: Layered, values: PipelineStep['environment']): Layered {
  const out: Layered = { env: { ...base.env }, secretEnv: { ...base.secretEnv } };
  for (const [name, v] of Object.entries(values)) {
    if (v.fromSecret !== undefined) {
      out.secretEnv[name] = v.fromSecret;
      delete out.env[name];
    } else {
      out.env[name] = v.value ?? '';
      delete out.secretEnv[name];
    }
  }
  return out;
}

interface StepInput {
  input: CompileInput;
  src: PipelineStep;
  service: boolean;
  number: number;
  env: Layered;
  volumes: PlanVolume[];
  labels: Record<string, string>;
  dependsOn: string[];
  runOn: PlanStep['runOn'];
}

function compileStep(s: StepInput): PlanStep {
  const { src, input } = s;
  const settings = settingsEnv(src.settings);
  const withStep = layer(s.env, src.environment);
  const env = { ...withStep.env, ...settings.env, ...stepEnviron(src.name, s.number) };
  const secretEnv = { ...withStep.secretEnv, ...settings.secretEnv };
  // Settings are laid over the step's environment: a plain setting drops a secret of
  // the same name and a secret setting drops a plain variable, so one source is left.
  for (const name of Object.keys(settings.env)) delete secretEnv[name];
  for (const name of Object.keys(settings.secretEnv)) delete env[name];
  const hasScript = src.commands.length > 0;
  if (hasScript) env.DRONE_SCRIPT = shellScript(src.commands);
  const detach = s.service || src.detach;
  return {
    id: `${input.idPrefix}-${s.number}-${safeName(src.name)}`,
    name: src.name,
    number: s.number,
    image: src.image,
    pull: src.pull,
    entrypoint: hasScript ? [...SCRIPT_ENTRYPOINT] : [...src.entrypoint],
    command: hasScript ? [...SCRIPT_COMMAND] : [...src.command],
    env,
    secretEnv,
    // A service or detached container without commands keeps its image's working directory, as in Drone.
    workingDir: src.workingDir ?? (detach && !hasScript ? '' : input.pipeline.workspace.path),
    mounts: stepMounts(src, s.volumes, input.pipeline.workspace.path),
    privileged: src.privileged || (!s.service && isPrivilegedPlugin(src, input.privilegedImages ?? [])),
    detach,
    service: s.service,
    errIgnore: src.failure === 'ignore',
    dependsOn: s.dependsOn,
    runOn: s.runOn,
    timeoutSeconds: src.timeout,
    labels: s.labels,
    aliases: [src.name],
  };
}

function stepMounts(src: PipelineStep, volumes: PlanVolume[], workspacePath: string): PlanMount[] {
  const mounts: PlanMount[] = [{ volumeId: volumes[0].id, target: workspacePath }];
  for (const m of src.volumes) {
    const volume = volumes.find((v) => v.name === m.name && v !== volumes[0]);
    if (!volume) {
      throw new Error(`step "${src.name}" mounts volume "${m.name}", which the pipeline does not declare; lint the pipeline before compiling it`);
    }
    mounts.push({ volumeId: volume.id, target: m.path });
  }
  return mounts;
}

/** Variables that would point a privileged plugin somewhere else; setting one forfeits the privilege, as in Drone. */
const RESTRICTED_VARIABLES = ['XDG_RUNTIME_DIR', 'DOCKER_OPTS', 'DOCKER_HOST', 'PATH', 'HOME'];

/**
 * Drone's rule: only a plugin step (no commands, command, entrypoint or volumes, none of the
 * restricted variables) gets an image's privilege; services never do.
 */
function isPrivilegedPlugin(src: PipelineStep, images: string[]): boolean {
  if (src.commands.length || src.command.length || src.entrypoint.length || src.volumes.length) return false;
  if (RESTRICTED_VARIABLES.some((name) => name in src.environment)) return false;
  return images.some((image) => imageName(image) === imageName(src.image));
}

/** The repository part of an image reference, without registry default, tag or digest. */
export function imageName(image: string): string {
  const noDigest = image.split('@')[0];
  const noTag = noDigest.replace(/:[^/]*$/, '');
  return noTag.replace(/^(docker\.io|index\.docker\.io)\//, '').replace(/^library\//, '');
}

/** A name Docker accepts in container and volume names: [a-zA-Z0-9_.-], starting with a letter or digit. */
export function safeName(name: string): string {
  const cleaned = name.replace(/[^a-zA-Z0-9_.-]+/g, '-').replace(/^[^a-zA-Z0-9]+/, '').slice(0, 60);
  return cleaned || 'step';
}
