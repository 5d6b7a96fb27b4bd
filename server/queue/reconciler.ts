// The database is the source of truth; this sweep makes everything else agree with it,
// at server start and every few seconds after, on every server process (each step is
// conditional, so several servers sweeping at once do each thing once):
// - leases that ran out end (stage-state.ts): the stage goes back to the queue or fails;
// - builds left between states by a process that died mid-transition move on;
// - runners of this server waiting for work look at the lanes again, so a wake-up lost
//   with Redis (flushed, restarted) delays a stage by one sweep at most.
// Beside it, on its own slower clock, the log retention purge (server/logs/retention.ts).
import type { ServerContext } from '../context.ts';
import { advanceBuild } from '../builds/build-state.ts';
import { expireLeases } from '../builds/stage-state.ts';
import { startLogRetention } from '../logs/retention.ts';
import { laneOf } from './lanes.ts';

export interface Reconciler {
  stop(): Promise<void>;
}

/** Often enough that an expired lease is acted on within a quarter of the lease time, and within 5 s. */
export function sweepIntervalMs(leaseSeconds: number): number {
  return Math.min(5_000, Math.max(1_000, (leaseSeconds * 1000) / 4));
}

export async function sweep(ctx: ServerContext): Promise<void> {
  await fillLanes(ctx);
  await expireLeases(ctx);
  const stuck = await ctx.db.build.findMany({
    where: { status: { in: ['pending', 'running'] }, stages: { none: { status: { in: ['pending', 'running'] } } } },
    select: { id: true },
  });
  for (const build of stuck) await advanceBuild(ctx, build.id);
  const lanes = await ctx.queue.lanes();
  ctx.queue.wakeFor(lanes.map((l) => l.lane));
}

/** Stages recorded before lanes existed get theirs, so dispatch sees them. */
async function fillLanes(ctx: ServerContext): Promise<void> {
  const stages = await ctx.db.stage.findMany({
    where: { lane: '', status: { in: ['pending', 'waiting_on_dependencies', 'blocked'] } },
    select: { id: true, repoId: true, os: true, arch: true, labels: true, createdAt: true },
  });
  for (const stage of stages) {
    await ctx.db.stage.updateMany({ where: { id: stage.id, lane: '' }, data: { lane: laneOf(stage), queuedAt: stage.createdAt } });
  }
}

export async function startReconciler(ctx: ServerContext): Promise<Reconciler> {
  const interval = sweepIntervalMs(ctx.config.leaseSeconds);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const once = async () => {
    try {
      await sweep(ctx);
    } catch (err) {
      ctx.logger.warn({ event: 'sweep_failed', err: String(err) }, 'the queue sweep failed; trying again shortly');
    }
  };
  const loop = () => {
    if (stopped) return;
    running = once().finally(() => {
      if (!stopped) timer = setTimeout(loop, interval);
    });
  };
  await once();
  timer = setTimeout(loop, interval);
  const retention = startLogRetention(ctx);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await Promise.all([running, retention.stop()]);
    },
  };
}
