// What running a stage takes and gives: the calls the executor makes to the server, the
// compiler it is handed, its options and its outcome. Shared by the runner, `harrier exec`
// and the executor itself (execute-stage.ts).
import type { LogLine, Status } from '../core/domain.ts';
import type { Logger } from '../core/log.ts';
import type { StageDetails, StageUpdate, StepUpdate } from '../core/protocol.ts';
import type { Pipeline, Plan } from '../pipeline/types.ts';
import type { Backend } from './backend/backend.ts';
import type { RegistryCredential } from './backend/registry-auth.ts';
import type { cloneRepo } from './clone.ts';
import type { BuildWatcher } from './watch-build.ts';

/** The calls the executor makes; RpcClient has them. */
export interface StageRpc extends BuildWatcher {
  updateStage(stageId: number, update: StageUpdate): Promise<unknown>;
  updateStep(stepId: number, update: StepUpdate): Promise<unknown>;
  sendLogs(stepId: number, lines: LogLine[]): Promise<void>;
}

export interface CompileRequest {
  workspaceHostPath: string;
  idPrefix: string;
  labels: Record<string, string>;
  /** Images run privileged when a step uses them as a plugin; the executor leaves out those the build may not have. */
  privilegedImages?: string[];
}

export type CompiledStage = { ok: true; pipeline: Pipeline; plan: Plan } | { ok: false; error: string };

/** Finds the stage's pipeline in the config and compiles it; errors carry line:col. */
export type StageCompiler = (details: StageDetails, request: CompileRequest) => CompiledStage;

/** What the runner's operator adds to every stage (HARRIER_RUNNER_* settings); none when left out. */
export interface RunnerStageSettings {
  /** Images that run privileged as plugins, except in a fork's pull request nobody approved. */
  privilegedImages?: string[];
  /** Variables of every step and service, below everything the pipeline and Drone set. */
  environ?: Record<string, string>;
  /** Logins for every image pull, below the pipeline's image_pull_secrets. */
  registryCredentials?: RegistryCredential[];
  /** Keep the clone credentials to the clone: steps get no DRONE_NETRC_* variables. */
  netrcCloneOnly?: boolean;
}

export interface ExecuteStageOptions {
  rpc: StageRpc;
  backend: Backend;
  compile: StageCompiler;
  /** Host folder under which the stage's workspace is made. */
  workspaceDir: string;
  runnerName: string;
  /** Bytes of log each step may write before the rest is cut (HARRIER_RUNNER_LOG_LIMIT); no limit when left out. */
  logLimitBytes?: number;
  logger?: Logger;
  /** Aborting kills the stage (the runner is shutting down and its grace period is over). */
  signal?: AbortSignal;
  /**
   * Aborting says the runner no longer holds the stage (its lease ended, the build is gone,
   * or the runner handed it back): the stage stops at once, its containers and workspace
   * are removed, and nothing more is reported for it. The abort reason is logged.
   */
  lost?: AbortSignal;
  /**
   * Called synchronously when the first step is reported running: from then on the server
   * will not take the stage back, so a runner that stops must kill it rather than release it.
   */
  onStepStarted?: () => void;
  clone?: typeof cloneRepo;
  settings?: RunnerStageSettings;
}

export interface StageOutcome {
  status: Status;
  error: string;
  /** The runner lost the stage while running it: `status` is what the runner saw, and was not reported. */
  lost?: boolean;
}
