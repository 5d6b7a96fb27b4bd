// The runner loop: `capacity` slots, each long-polling the server for a stage, accepting
// it and executing it. An idle slot always has a poll open, so a queued stage is picked
// up as soon as the server answers.
//
// The runner holds each stage under a lease that its pings renew; it pings as often as
// the server's lease time asks, and stops (without reporting more) any stage the server
// says it lost. A slot asks the backend whether its engine answers before each request:
// a sick runner takes no work and says so in its pings. On shutdown polling stops at
// once; running stages get a grace period, then those whose steps have not started are
// handed back and the others are killed.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Stage } from '../core/domain.ts';
import type { Logger } from '../core/log.ts';
import type { PingResponse, RunnerInfo, StageDetails } from '../core/protocol.ts';
import type { Backend } from './backend/backend.ts';
import type { RunnerConfig } from './config.ts';
import { executeStage, type StageCompiler, type StageRpc } from './execute-stage.ts';
import { LABEL_MANAGED, LABEL_RUNNER } from './labels.ts';
import { type AcceptResult, isConflict, sleep } from './rpc-client.ts';

export const RUNNER_VERSION = '0.1.0';

/** The calls the loop makes; RpcClient has them. */
export interface RunnerRpc extends StageRpc {
  request(info: RunnerInfo, signal?: AbortSignal): Promise<Stage | null>;
  accept(stageId: number, machine: string, signal?: AbortSignal): Promise<AcceptResult>;
  /** Hands a stage back; false when the server refused (a step started, or the runner does not hold it). */
  release(stageId: number, signal?: AbortSignal): Promise<boolean>;
  details(stageId: number, signal?: AbortSignal): Promise<StageDetails>;
  ping(info: RunnerInfo, signal?: AbortSignal): Promise<PingResponse>;
  /**
   * The runner is done with the stage: drop its stage token (RpcClient keeps the token of each
   * stage it accepted in memory, and sends it on every call about the stage).
   */
  forget?(stageId: number): void;
}

export interface RunnerOptions {
  config: RunnerConfig;
  rpc: RunnerRpc;
  backend: Backend;
  compile: StageCompiler;
  logger: Logger;
  /** Aborting stops the runner. */
  signal: AbortSignal;
  /** The longest time between pings; shorter when the server's lease time asks for it. Default 15 s. */
  pingIntervalMs?: number;
  /** While the backend is sick, how often to ask it again. Default 5 s. */
  healthRetryMs?: number;
}

/** Drone's names for the machine: amd64, arm64. */
function goArch(arch: string): string {
  return ({ x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm' } as Record<string, string>)[arch] ?? arch;
}

/**
 * The folder holding one runner's stage workspaces: `root/<name>`, the name made safe as
 * one path segment. Runners sharing a host and a workspace root clean only their own.
 */
export function runnerWorkspaceDir(root: string, runnerName: string): string {
  const segment = runnerName.replace(/[^A-Za-z0-9._-]/g, '_');
  return path.join(root, /^\.*$/.test(segment) ? `_${segment}` : segment);
}

/** A stage the runner holds: `lost` stops it silently; `stepStarted` says it can no longer be handed back. */
interface HeldStage {
  lost: AbortController;
  stepStarted: boolean;
}

/** The server's lease time when it has not said yet; pings come four times within it. */
const DEFAULT_LEASE_SECONDS = 60;
/** Handing a stage back at shutdown must not hold the runner's exit for long. */
const RELEASE_TIMEOUT_MS = 10_000;
const FINAL_PING_TIMEOUT_MS = 3_000;

export async function runRunner(options: RunnerOptions): Promise<void> {
  const { config, rpc, backend, logger, signal } = options;
  const instance = crypto.randomUUID();
  const held = new Map<number, HeldStage>();
  const kill = new AbortController();
  /** Aborted once every slot and stage has ended: stops the pinger. */
  const finished = new AbortController();
  const releases = new Set<Promise<void>>();
  const workspaceDir = runnerWorkspaceDir(config.workspaceDir, config.name);
  let sick = '';
  let stopping = false;
  const info = (): RunnerInfo => ({
    name: config.name,
    labels: config.labels,
    capacity: config.capacity,
    running: [...held.keys()],
    os: os.platform(),
    arch: goArch(os.arch()),
    version: RUNNER_VERSION,
    instance,
    sick,
    stopping,
  });

  await removeLeftovers(backend, config.name, workspaceDir, logger);

  // Pings renew the leases of the stages listed in `running`, so they go on until the last stage ended.
  const maxIntervalMs = options.pingIntervalMs ?? 15_000;
  let leaseSeconds = DEFAULT_LEASE_SECONDS;
  /** Four pings within the server's lease time, so one or two lost on the way do not cost a stage. */
  const nextPingMs = () => Math.min(maxIntervalMs, (leaseSeconds * 1000) / 4);
  let pingAgain = false;
  let wakePinger = () => {};
  /** Pings as soon as the one in flight (if any) is answered: the runners page shows a change at once. */
  const pingNow = () => {
    pingAgain = true;
    wakePinger();
  };
  const pinging = (async () => {
    while (!finished.signal.aborted) {
      pingAgain = false;
      try {
        // A ping that hangs must not hold up the next one for long.
        const answer = await rpc.ping(info(), AbortSignal.any([finished.signal, AbortSignal.timeout(Math.max(nextPingMs(), 5_000))]));
        leaseSeconds = answer.lease_seconds > 0 ? answer.lease_seconds : DEFAULT_LEASE_SECONDS;
        for (const id of answer.lost) {
          held.get(id)?.lost.abort(new Error(`the server says runner ${config.name} no longer holds stage ${id} (its lease ended, or the build is gone)`));
        }
      } catch (err) {
        if (finished.signal.aborted) break;
        logger.warn({ event: 'ping_failed', err: String(err) }, 'could not reach the server');
      }
      if (pingAgain) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, nextPingMs());
        wakePinger = () => {
          clearTimeout(timer);
          resolve();
        };
        finished.signal.addEventListener('abort', wakePinger, { once: true });
      });
      finished.signal.removeEventListener('abort', wakePinger);
      wakePinger = () => {};
    }
  })();

  // One health check at a time, shared by every slot that asks while it runs.
  let checking: Promise<boolean> | undefined;
  const checkHealth = (): Promise<boolean> =>
    (checking ??= (async () => {
      let problem = '';
      try {
        await backend.healthy(signal);
      } catch (err) {
        if (signal.aborted) return true;
        problem = err instanceof Error ? err.message : String(err);
      }
      if (problem && !sick) {
        logger.error({ event: 'runner_sick', reason: problem }, `taking no work: ${problem}`);
        sick = problem;
        pingNow();
      } else if (problem && problem !== sick) {
        sick = problem;
        pingNow();
      } else if (!problem && sick) {
        logger.info({ event: 'runner_healthy' }, 'the engine answers again; taking work');
        sick = '';
        pingNow();
      }
      return !problem;
    })().finally(() => (checking = undefined)));
  const healthRetryMs = options.healthRetryMs ?? 5_000;
  const untilHealthy = async () => {
    while (!signal.aborted && !(await checkHealth())) await sleep(healthRetryMs, signal).catch(() => {});
  };

  /** Hands back a stage this runner will not run; whatever the answer, the server sorts it out by lease. */
  const handBack = (stageId: number, why: string): Promise<void> => {
    const released = rpc
      .release(stageId, AbortSignal.timeout(RELEASE_TIMEOUT_MS))
      .then((ok) => logger.info({ event: 'stage_released', stage: stageId, accepted: ok, why }, ok ? `handed stage ${stageId} back: ${why}` : `stage ${stageId} was not this runner's to hand back`))
      .catch((err) => logger.warn({ event: 'release_failed', stage: stageId, err: String(err) }, 'could not hand the stage back; the server takes it back when its lease ends'));
    releases.add(released);
    return released.finally(() => releases.delete(released));
  };

  let graceTimer: NodeJS.Timeout | undefined;
  const onGraceOver = () => {
    if (held.size > 0) logger.warn({ event: 'runner_grace_over', running: [...held.keys()] }, 'grace period over; handing back stages not started and killing the others');
    // Checked and stopped in one go: a stage whose steps have not started cannot start one after this.
    for (const [id, stage] of held) {
      if (stage.stepStarted) continue;
      stage.lost.abort(new Error(`runner ${config.name} shut down before the stage's steps started; handed back`));
      void handBack(id, 'the runner shut down before its steps started');
    }
    kill.abort();
  };
  const onStop = () => {
    const graceMs = (config.shutdownGraceSeconds ?? 60) * 1000;
    stopping = true;
    pingNow();
    logger.info({ event: 'runner_stopping', running: [...held.keys()], grace_seconds: graceMs / 1000 }, 'stopping: no new stages, running ones may finish');
    graceTimer = setTimeout(onGraceOver, graceMs);
  };
  if (signal.aborted) onStop();
  else signal.addEventListener('abort', onStop, { once: true });

  logger.info({ event: 'runner_started', name: config.name, instance, capacity: config.capacity, server: config.serverUrl }, 'runner started');
  const slot = async (index: number) => {
    let backoff = 1_000;
    while (!signal.aborted) {
      await untilHealthy();
      if (signal.aborted) break;
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
      if (!stage) continue;
      if (signal.aborted) {
        await handBack(stage.id, 'offered after the runner began to stop');
        break;
      }
      // The engine may have gone away while the poll was open: a stage taken now would only fail.
      if (!(await checkHealth())) {
        await handBack(stage.id, 'the runner is sick');
        continue;
      }
      await runOne(stage);
    }
  };

  // Two slots' polls may both be offered the stage before either accepts it, and accept
  // answers the same runner twice alike (it is idempotent): only the first slot runs it.
  const taking = new Set<number>();
  const runOne = async (offered: Stage) => {
    if (taking.has(offered.id) || held.has(offered.id)) {
      logger.debug({ event: 'stage_taken', stage: offered.id }, 'another slot of this runner took the stage');
      return;
    }
    taking.add(offered.id);
    let accepted: AcceptResult;
    try {
      accepted = await rpc.accept(offered.id, config.name);
    } catch (err) {
      taking.delete(offered.id);
      // If the server took the accept, the stage comes back from the queue once its lease ends.
      rpc.forget?.(offered.id);
      logger.warn({ event: 'accept_failed', stage: offered.id, err: String(err) }, 'could not accept the stage');
      return;
    }
    if (!accepted.accepted) {
      taking.delete(offered.id);
      logger.debug({ event: 'stage_taken', stage: offered.id }, 'another runner took the stage');
      return;
    }
    if (signal.aborted) {
      taking.delete(offered.id);
      await handBack(offered.id, 'accepted while the runner began to stop');
      rpc.forget?.(offered.id);
      return;
    }
    const stage: HeldStage = { lost: new AbortController(), stepStarted: false };
    held.set(offered.id, stage);
    taking.delete(offered.id);
    try {
      const details = await rpc.details(offered.id);
      logger.info({ event: 'stage_started', stage: offered.id, build: details.build.id, repo: details.repo.slug, pipeline: details.stage.name }, 'running stage');
      await executeStage(details, {
        rpc,
        backend,
        compile: options.compile,
        workspaceDir,
        runnerName: config.name,
        logLimitBytes: config.logLimitBytes,
        settings: config.stageSettings,
        logger,
        signal: kill.signal,
        lost: stage.lost.signal,
        onStepStarted: () => (stage.stepStarted = true),
      });
    } catch (err) {
      // Only a failure to fetch the details gets here: executeStage reports its own failures.
      if (isConflict(err) || stage.lost.signal.aborted) {
        logger.warn({ event: 'stage_lost', stage: offered.id, reason: String(stage.lost.signal.reason ?? err) }, 'the runner no longer holds this stage; not running it');
      } else {
        logger.error({ event: 'stage_failed', stage: offered.id, err: String(err) }, 'could not run the stage');
        await rpc.updateStage(offered.id, { status: 'error', error: `runner ${config.name} could not start the stage: ${String(err)}` }).catch(() => {});
      }
    } finally {
      held.delete(offered.id);
      // A hand-back begun at the end of the grace period took the token when it was called.
      rpc.forget?.(offered.id);
    }
  };

  await Promise.all(Array.from({ length: config.capacity }, (_, i) => slot(i)));
  await Promise.all(releases);
  await backend.close?.().catch((err: unknown) => logger.warn({ event: 'backend_close_failed', err: String(err) }, 'could not remove the networks kept for later stages'));
  finished.abort();
  await pinging;
  // The last word: holding nothing, stopping. Brief, so a server that is gone cannot hold the exit.
  await rpc.ping(info(), AbortSignal.timeout(FINAL_PING_TIMEOUT_MS)).catch(() => {});
  clearTimeout(graceTimer);
  signal.removeEventListener('abort', onStop);
  logger.info({ event: 'runner_stopped' }, 'runner stopped');
}

/**
 * Removes what an earlier process of this runner left behind after a crash: containers,
 * networks and volumes labelled with its name, and every workspace in its own folder.
 */
async function removeLeftovers(backend: Backend, runnerName: string, workspaceDir: string, logger: Logger): Promise<void> {
  let objects = 0;
  let workspaces = 0;
  try {
    objects = (await backend.removeLeftovers?.({ [LABEL_MANAGED]: 'true', [LABEL_RUNNER]: runnerName })) ?? 0;
  } catch (err) {
    logger.warn({ event: 'leftovers_failed', err: String(err) }, 'could not remove the containers, networks and volumes a previous run left behind');
  }
  try {
    const entries = await fs.readdir(workspaceDir).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? [] : Promise.reject(err)));
    for (const entry of entries) {
      await fs.rm(path.join(workspaceDir, entry), { recursive: true, force: true });
      workspaces++;
    }
  } catch (err) {
    logger.warn({ event: 'leftovers_failed', dir: workspaceDir, err: String(err) }, 'could not remove the workspaces a previous run left behind');
  }
  if (objects + workspaces > 0) {
    logger.info({ event: 'leftovers_removed', objects, workspaces, dir: workspaceDir }, 'removed containers, networks, volumes and workspaces a previous run left behind');
  }
}
