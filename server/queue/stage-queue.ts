// Stages waiting for a runner live in a BullMQ queue in Redis, never in a server's
// memory. A runner's long-poll looks through the waiting jobs for one its labels
// match; the database decides who gets it (accept is a conditional update), so two
// runners, or two servers, can race for a stage and exactly one wins.
//
// A pipeline's `concurrency: limit: N` holds a stage back while N stages of the same
// pipeline name in the same repository are running or held by a runner; the count comes
// from the Stage rows, so it holds across servers. When such a stage ends, the stages it
// held back get a "progress" event on their jobs, which wakes long-polls everywhere.
import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../../core/log.ts';
import type { RunnerInfo } from '../../core/protocol.ts';
import type { Db } from '../db/client.ts';
import type { Stage as StageRow } from '../db/generated/sqlite/client.ts';
import { waitUntil } from '../events/wait-until.ts';

export const STAGE_QUEUE = 'harrier-stages';

export interface StageJob {
  stageId: number;
  buildId: number;
  os: string;
  arch: string;
  labels: Record<string, string>;
}

/** Whether a runner may take a stage: same platform where the stage names one, and every stage label present on the runner. */
export function runnerMatches(job: Pick<StageJob, 'os' | 'arch' | 'labels'>, runner: Pick<RunnerInfo, 'os' | 'arch' | 'labels'>): boolean {
  if (job.os && runner.os && job.os !== runner.os) return false;
  if (job.arch && runner.arch && job.arch !== runner.arch) return false;
  return Object.entries(job.labels).every(([k, v]) => runner.labels[k] === v);
}

export class StageQueue {
  private readonly queue: Queue;
  private readonly events: QueueEvents;
  private readonly waiters = new Set<() => void>();
  // BullMQ leaves connections it was given open on close; these are ours to end.
  private readonly connections: Redis[];

  constructor(
    redis: Redis,
    private readonly db: Db,
    private readonly logger: Logger,
    prefix: string,
  ) {
    // QueueEvents blocks on Redis' event stream; it needs its own connection.
    this.connections = [redis.duplicate(), redis.duplicate()];
    this.queue = new Queue(STAGE_QUEUE, { connection: this.connections[0], prefix });
    this.events = new QueueEvents(STAGE_QUEUE, { connection: this.connections[1], prefix });
    const wakeAll = () => {
      for (const wake of this.waiters) wake();
    };
    this.events.on('waiting', wakeAll);
    this.events.on('progress', wakeAll);
    this.events.on('error', (error) => this.logger.warn({ err: error }, 'stage queue events error'));
  }

  async ready(): Promise<void> {
    await Promise.all([this.queue.waitUntilReady(), this.events.waitUntilReady()]);
  }

  async enqueue(stage: Pick<StageRow, 'id' | 'buildId' | 'os' | 'arch' | 'labels'>): Promise<void> {
    const job: StageJob = {
      stageId: stage.id,
      buildId: stage.buildId,
      os: stage.os,
      arch: stage.arch,
      labels: JSON.parse(stage.labels) as Record<string, string>,
    };
    await this.queue.add('stage', job, { jobId: jobId(stage.id), removeOnComplete: true, removeOnFail: true });
  }

  async remove(stageId: number): Promise<void> {
    await this.queue.remove(jobId(stageId)).catch(() => 0);
  }

  /** The oldest queued stage this runner may take, or undefined. Cleans out jobs whose stage is no longer pending. */
  async next(runner: RunnerInfo): Promise<StageRow | undefined> {
    const jobs = await this.queue.getJobs(['waiting', 'prioritized'], 0, 499, true);
    for (const job of jobs) {
      const data = job.data as StageJob;
      if (!runnerMatches(data, runner)) continue;
      const stage = await this.db.stage.findUnique({ where: { id: data.stageId } });
      if (!stage || stage.status !== 'pending' || stage.machine !== '') {
        // Taken or finished while queued (a server stopped between accept and removal, or a cancel).
        await this.remove(data.stageId);
        continue;
      }
      if (await this.atLimit(stage)) continue;
      return stage;
    }
    return undefined;
  }

  /** Whether `limit` other stages of the stage's pipeline in its repository are running or held by a runner. */
  private async atLimit(stage: StageRow): Promise<boolean> {
    if (stage.limit <= 0) return false;
    const busy = await this.db.stage.count({
      where: {
        repoId: stage.repoId,
        name: stage.name,
        id: { not: stage.id },
        OR: [{ status: 'running' }, { status: 'pending', machine: { not: '' } }],
      },
    });
    return busy >= stage.limit;
  }

  /** A stage ended: wake the runners if it held back stages of its pipeline (concurrency limit). */
  async finished(stage: Pick<StageRow, 'repoId' | 'name' | 'limit'>): Promise<void> {
    if (stage.limit <= 0) return;
    const held = await this.db.stage.findMany({
      where: { repoId: stage.repoId, name: stage.name, status: 'pending', machine: '' },
      select: { id: true },
    });
    for (const { id } of held) await this.queue.updateJobProgress(jobId(id), Date.now()).catch(() => undefined);
  }

  /**
   * Long-poll for a runner: returns a stage the moment one it may take is queued,
   * or undefined after timeoutMs or when the signal aborts (runner went away, server stopping).
   */
  waitForStage(runner: RunnerInfo, timeoutMs: number, signal: AbortSignal): Promise<StageRow | undefined> {
    return waitUntil(
      () => this.next(runner),
      (wake) => {
        this.waiters.add(wake);
        return () => this.waiters.delete(wake);
      },
      timeoutMs,
      signal,
    );
  }

  /** Gives the stage to the machine unless another runner got it first. */
  async claim(stageId: number, machine: string, now: number): Promise<StageRow | undefined> {
    const { count } = await this.db.stage.updateMany({
      where: { id: stageId, status: 'pending', machine: '' },
      data: { machine, updatedAt: now, version: { increment: 1 } },
    });
    if (count !== 1) return undefined;
    await this.remove(stageId);
    const stage = await this.db.stage.findUnique({ where: { id: stageId } });
    if (stage && (await this.atLimit(stage))) {
      // Another runner took a stage of the same pipeline between our look and this claim; give it back.
      const released = await this.db.stage.updateMany({ where: { id: stageId, machine, status: 'pending' }, data: { machine: '', updatedAt: now } });
      if (released.count) await this.enqueue(stage);
      return undefined;
    }
    return stage ?? undefined;
  }

  async close(): Promise<void> {
    for (const wake of this.waiters) wake();
    await Promise.allSettled([this.events.close(), this.queue.close()]);
    for (const connection of this.connections) connection.disconnect();
  }
}

function jobId(stageId: number): string {
  return `stage-${stageId}`;
}
