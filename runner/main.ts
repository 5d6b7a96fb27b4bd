// Wires the runner together: the server's RPC client, the Docker backend, the pipeline
// compiler and JSON logs. The caller owns the process: it aborts `signal` on SIGTERM.
import { createLogger, type Logger } from '../core/log.ts';
import type { Backend } from './backend/backend.ts';
import { DockerBackend } from './backend/docker/docker-backend.ts';
import { compileStagePlan } from './compile-plan.ts';
import { LABEL_RUNNER } from './labels.ts';
import type { RunnerConfig } from './config.ts';
import { RpcClient } from './rpc-client.ts';
import { runRunner } from './runner.ts';
import { ensurePrivateDir } from './workspace-dir.ts';

export interface StartRunnerOptions {
  /**
   * Aborting stops polling at once; running stages get the grace period, then those whose
   * steps have not started are handed back and the others are killed.
   */
  signal: AbortSignal;
  logger?: Logger;
  backend?: Backend;
}

/** Runs until `signal` aborts and every stage it started has ended. */
export async function startRunner(given: RunnerConfig, options: StartRunnerOptions): Promise<void> {
  const logger = options.logger ?? createLogger('runner');
  // Before anything is cloned there: a folder that others may read or change fails the start.
  if ((await ensurePrivateDir(given.workspaceDir)).tightened) {
    logger.warn({ event: 'workspace_tightened', dir: given.workspaceDir }, 'the workspace folder could be read or written by other users; it is now private to the runner (mode 0700)');
  }
  const config = await named(given, options.backend ?? new DockerBackend(), logger);
  // Networks kept between stages carry the runner's name, so that a crashed runner's are found again.
  const backend = options.backend ?? new DockerBackend(undefined, { limits: given.stepLimits, networkLabels: { [LABEL_RUNNER]: config.name } });
  await runRunner({
    config,
    rpc: new RpcClient({ serverUrl: config.serverUrl, secret: config.rpcSecret, runner: config.name }),
    backend,
    compile: compileStagePlan,
    logger,
    signal: options.signal,
  });
}

/** Without HARRIER_RUNNER_NAME, a runner in a container of its own engine is named after the container. */
async function named(config: RunnerConfig, backend: Backend, logger: Logger): Promise<RunnerConfig> {
  if (!config.nameFromHost) return config;
  const name = await backend.ownContainerName?.(config.name);
  if (!name) return config;
  logger.info({ event: 'runner_named', name, hostname: config.name }, `runner named after its container: ${name}`);
  return { ...config, name };
}
