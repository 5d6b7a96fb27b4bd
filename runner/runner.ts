// The runner loop: `capacity` slots, each long-polling the server for a stage, accepting
// it and executing it. An idle slot always has a poll open, so a queued stage is picked
// up as soon as the server answers. On shutdown polling stops at once; running stages
// get a grace period, then are killed.
import os from 'node:os';
import type { Stage } from '../core/domain.ts';
import type { Logger } from '../core/log.ts';
import type { RunnerInfo, StageDetails } from '../core/protocol.ts';
import type { Backend } from './backend/backend.ts';
import type { RunnerConfig } from './config.ts';
import { executeStage, type StageCompiler, type StageRpc } from './execute-stage.ts';
import { LABEL_MANAGED, LABEL_RUNNER } from './labels.ts';
import { type AcceptResult, sleep } from './rpc-client.ts';

export const RUNNER_VERSION = '0.1.0';

/** The calls the loop makes; RpcClient has them. */
export interface RunnerRpc extends StageRpc {
  request(info: RunnerInfo, signal?: AbortSignal): Promise<Stage | null>;
  accept(stageId: number, machine: string, signal?: AbortSignal): Promise<AcceptResult>;
  details(stageId: number, signal?: AbortSignal): Promise<StageDetails>;
  ping(info: RunnerInfo, signal?: AbortSignal): Promise<void>;
}

export interface RunnerOptions {
  config: RunnerConfig;
  rpc: RunnerRpc;
  backend: Backend;
  compile: StageCompiler;
  logger: Logger;
  /** Aborting stops the runner. */
  signal: AbortSignal;
  pingIntervalMs?: number;
}

/** Drone's names for the machine: amd64, arm64. */
function goArch(arch: string): string {
  return ({ x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm' } as Record<string, string>)[arch] ?? arch;
}

export async function runRunner(options: RunnerOptions): Promise<void> {
  const { config, rpc, backend, logger, signal } = options;
  const running = new Set<number>();
  const kill = new AbortController();
  const info = (): RunnerInfo => ({
    name: config.name,
    labels: config.labels,
    capacity: config.capacity,
    running: [...running],
    os: os.platform(),
    arch: goArch(os.arch()),
    version: RUNNER_VERSION,
  });

  try {
    const removed = (await backend.removeLeftovers?.({ [LABEL_MANAGED]: 'true', [LABEL_RUNNER]: config.name })) ?? 0;
    if (removed > 0) logger.info({ event: 'leftovers_removed', count: removed }, 'removed containers, networks and volumes a previous run left behind');
  } catch (err) {
    logger.warn({ event: 'leftovers_failed', err: String(err) }, 'could not remove what a previous run left behind');
  }

  const ping = () =>
    rpc.ping(info()).catch((err) => logger.warn({ event: 'ping_failed', err: String(err) }, 'could not reach the server'));
  void ping();
  const pinger = setInterval(ping, options.pingIntervalMs ?? 15_000);

  let graceTimer: NodeJS.Timeout | undefined;
  const onStop = () => {
    const graceMs = (config.shutdownGraceSeconds ?? 60) * 1000;
    logger.info({ event: 'runner_stopping', running: [...running], grace_seconds: graceMs / 1000 }, 'stopping: no new stages, running ones may finish');
    graceTimer = setTimeout(() => {
      if (running.size > 0) logger.warn({ event: 'runner_grace_over', running: [...running] }, 'grace period over; killing running stages');
      kill.abort();
    }, graceMs);
  };
  if (signal.aborted) onStop();
  else signal.addEventListener('abort', onStop, { once: true });

  logger.info({ event: 'runner_started', name: config.name, capacity: config.capacity, server: config.serverUrl }, 'runner started');
  const slot = async (index: number) => {
    let backoff = 1_000;
    while (!signal.aborted) {
      let stage: Stage | null;
      try {
        stage = await rpc.request(info(), signal);
        backoff = 1_000;
      } catch (err) {
        if (signal.aborted) break;
        logger.warn({ event: 'request_failed', slot: index, err: String(err), retry_ms: backoff }, 'could not ask the server for work');
        await sleep(backoff, signal).catch(() => {});
        backoff = Math.min(backoff * 2, 30_000);
        continue;
      }
      if (!stage || signal.aborted) continue;
      await runOne(stage);
    }
  };

  const runOne = async (offered: Stage) => {
    let accepted: AcceptResult;
    try {
      accepted = await rpc.accept(offered.id, config.name);
    } catch (err) {
      logger.warn({ event: 'accept_failed', stage: offered.id, err: String(err) }, 'could not accept the stage');
      return;
    }
    if (!accepted.accepted) {
      logger.debug({ event: 'stage_taken', stage: offered.id }, 'another runner took the stage');
      return;
    }
    running.add(offered.id);
    try {
      const details = await rpc.details(offered.id);
      logger.info({ event: 'stage_started', stage: offered.id, build: details.build.id, repo: details.repo.slug, pipeline: details.stage.name }, 'running stage');
      await executeStage(details, {
        rpc,
        backend,
        compile: options.compile,
        workspaceDir: config.workspaceDir,
        runnerName: config.name,
        logger,
        signal: kill.signal,
      });
    } catch (err) {
      // Only a failure to fetch the details gets here: executeStage reports its own failures.
      logger.error({ event: 'stage_failed', stage: offered.id, err: String(err) }, 'could not run the stage');
      await rpc.updateStage(offered.id, { status: 'error', error: `runner ${config.name} could not start the stage: ${String(err)}` }).catch(() => {});
    } finally {
      running.delete(offered.id);
    }
  };

  await Promise.all(Array.from({ length: config.capacity }, (_, i) => slot(i)));
  clearInterval(pinger);
  clearTimeout(graceTimer);
  signal.removeEventListener('abort', onStop);
  logger.info({ event: 'runner_stopped' }, 'runner stopped');
}
