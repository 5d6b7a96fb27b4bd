// Types of the pipeline engine: what the parser reads from `.drone.yml`, and the
// backend-neutral execution plan the compiler makes of one stage.

/** Where in the YAML file something was written; 1-based, as editors count. */
export interface Position {
  line: number;
  col: number;
}

export interface PipelineError extends Position {
  message: string;
}

/** A condition list: `branch: [main]` or `branch: {include: [...], exclude: [...]}`. */
export interface Condition {
  include: string[];
  exclude: string[];
}

export interface Conditions {
  branch?: Condition;
  event?: Condition;
  ref?: Condition;
  status?: Condition;
  target?: Condition;
  cron?: Condition;
  action?: Condition;
  repo?: Condition;
  instance?: Condition;
  paths?: Condition;
}

export type PullPolicy = 'always' | 'never' | 'if-not-exists' | 'default';

export interface EnvValue {
  value?: string;
  fromSecret?: string;
}

export interface VolumeMount {
  name: string;
  path: string;
}

export interface PipelineStep {
  name: string;
  image: string;
  commands: string[];
  entrypoint: string[];
  command: string[];
  environment: Record<string, EnvValue>;
  /** Plugin settings, passed to the container as PLUGIN_<NAME>; objects and lists as JSON. */
  settings: Record<string, unknown>;
  pull: PullPolicy;
  privileged: boolean;
  detach: boolean;
  failure: 'always' | 'ignore';
  dependsOn: string[];
  when: Conditions;
  volumes: VolumeMount[];
  /** Seconds; 0 means only the stage's timeout applies. */
  timeout: number;
  /** Added by the pipeline engine: Drone's `working_dir`; unset means the workspace path. */
  workingDir?: string;
  position: Position;
}

export interface PipelineVolume {
  name: string;
  /** `sizeLimit` (Drone's `size_limit`) in bytes; it bounds an in-memory volume. */
  temp?: { medium?: string; sizeLimit?: number };
  host?: { path: string };
  /** Added by the pipeline engine: where the volume was declared, for the linter's messages. */
  position?: Position;
}

export interface Pipeline {
  kind: 'pipeline';
  type: string;
  name: string;
  platform: { os: string; arch: string; variant: string; version: string };
  node: Record<string, string>;
  clone: { disable: boolean; depth: number; retries: number };
  workspace: { path: string };
  environment: Record<string, EnvValue>;
  steps: PipelineStep[];
  services: PipelineStep[];
  volumes: PipelineVolume[];
  trigger: Conditions;
  dependsOn: string[];
  concurrency: { limit: number };
  imagePullSecrets: string[];
  position: Position;
}

export type ParseResult =
  /** `warnings` (added by the pipeline engine): Drone keys Harrier reads but ignores, and the like. */
  | { ok: true; pipelines: Pipeline[]; warnings?: PipelineError[] }
  | { ok: false; errors: PipelineError[] };

// ---------------------------------------------------------------------------
// The execution plan: what a backend needs to run one stage, and nothing else.

export interface PlanVolume {
  /** Unique per stage, e.g. harrier-<stageId>-<name>. */
  id: string;
  name: string;
  kind: 'temp' | 'host';
  /** For host volumes, and for the workspace: a path on the machine running the engine. */
  hostPath?: string;
  /** A temp volume held in memory (`temp: {medium: memory}`): each container gets its own, as in Drone. */
  medium?: 'memory';
  /** Bytes an in-memory volume may hold; no limit of its own when left out. */
  sizeLimit?: number;
}

export interface PlanMount {
  volumeId: string;
  /** Path inside the container. */
  target: string;
}

export interface PlanStep {
  /** The container's name; unique on the engine. */
  id: string;
  name: string;
  /** Step number as the server recorded it (1-based, clone first). */
  number: number;
  image: string;
  pull: PullPolicy;
  entrypoint: string[];
  command: string[];
  env: Record<string, string>;
  /** Environment variables whose values come from secrets, resolved by the runner. */
  secretEnv: Record<string, string>;
  workingDir: string;
  mounts: PlanMount[];
  privileged: boolean;
  detach: boolean;
  /** A service: started before the steps, reachable by its name, stopped at the end. */
  service: boolean;
  errIgnore: boolean;
  /**
   * (Comment added by the pipeline engine.) Names of non-service steps of this plan that must
   * finish first. The compiler writes Drone's serial order out (each step after the previous)
   * when no step names depends_on, drops `clone` and services (done or started before any
   * step), and replaces a step left out by `when` with what that step waited for.
   */
  dependsOn: string[];
  /** Statuses of the stage this step runs in (`when.status`); empty means success only. */
  runOn: ('success' | 'failure')[];
  timeoutSeconds: number;
  labels: Record<string, string>;
  /** Names the container answers to on the stage's network. */
  aliases: string[];
}

export interface Plan {
  /** Network shared by the stage's containers. */
  network: { id: string; labels: Record<string, string> };
  volumes: PlanVolume[];
  /** The stage's workspace, mounted at /drone/src (or workspace.path) in every step. */
  workspace: { volumeId: string; path: string };
  steps: PlanStep[];
  /** Labels put on every container, network and volume so Harrier can find and clean up its own. */
  labels: Record<string, string>;
  /**
   * Added by the pipeline engine: names of the stage's steps left out of `steps` because their
   * `when` does not match this build (or their `when.status` matches no outcome). The runner
   * marks them skipped. The compiler always sets it.
   */
  skipped?: string[];
  /**
   * Added by the pipeline engine: names of secrets holding registry credentials (a Docker
   * config.json) for pulling private images, from `image_pull_secrets`. The runner resolves them.
   */
  imagePullSecrets?: string[];
}

// ---------------------------------------------------------------------------
// Compiler input: one stage of a build, and the facts of the machine running it.

import type { Build, Netrc, Repo, Stage } from '../core/domain.ts';
import type { SystemInfo } from '../core/protocol.ts';

export interface CompileInput {
  pipeline: Pipeline;
  repo: Repo;
  build: Build;
  /** The stage with its recorded steps; the plan's step numbers match them. */
  stage: Stage;
  system: SystemInfo;
  /** Host folder the runner cloned the commit into; mounted as the workspace. */
  workspaceHostPath: string;
  netrc: Netrc | null;
  /** Names of secrets available to this stage (values stay with the runner). */
  secretNames: string[];
  /** Prefix making container, network and volume names unique on the engine, e.g. harrier-<stageId>-<random>. */
  idPrefix: string;
  /** Extra labels to put on everything (runner name, ...). */
  labels: Record<string, string>;
  /**
   * Added by the pipeline engine: files the build changed, for `when.paths`. Undefined when the
   * provider did not say (or truncated the list): `paths` conditions then match.
   */
  changedFiles?: string[];
  /**
   * Added by the pipeline engine: images run privileged when a step uses them as a plugin
   * (no commands, command, entrypoint or volumes), like Drone's DRONE_RUNNER_PRIVILEGED_IMAGES.
   * None unless the runner opts in (DRONE_PRIVILEGED_IMAGES in compile.ts is Drone's list).
   */
  privilegedImages?: string[];
}
