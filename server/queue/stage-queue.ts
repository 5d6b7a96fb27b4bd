// Stages waiting for a runner are rows in the database, never entries in a server's
// memory or only in Redis: a pending stage without a machine IS the queue entry, so
// Redis can lose everything and no build is lost. Redis carries only wake-ups.
//
// Dispatch cost follows the number of lanes (repository × label set) with waiting
// work, not the number of waiting stages: one indexed lookup per lane finds its head
// (lanes.ts). Among the lanes a runner may serve, the repository holding the fewest
// runners goes first, so one repository's 300 queued stages do not starve another's
// one; within a lane, first come first served.
//
// A request only offers a stage; accept takes it with a conditional update, so two
// runners, or two servers, can race for a stage and exactly one wins.
//
// A pipeline's `concurrency: limit: N` holds a stage back while N stages of the same
// pipeline name in the same repository are running or held by a runner; the count comes
// from the Stage rows, so it holds across servers.
import type { Logger } from '../../core/log.ts';
import type { RunnerInfo } from '../../core/protocol.ts';
import type { Db } from '../db/client.ts';
import type { Stage as StageRow } from '../db/generated/sqlite/client.ts';
import { channels, type EventBus } from '../events/event-bus.ts';
import { waitUntil } from '../events/wait-until.ts';
import { parseLane, runnerMatches, type Lane } from './lanes.ts';

interface Waiter {
  runner: RunnerInfo;
  wake(): void;
}

interface LaneHead extends Lane {
  lane: string;
  head: number;
}

/** The statuses in which a runner may hold a stage: accepted (pending with a machine) or running. */
export const HELD_STATUS = { status: { in: ['pending', 'running'] } };
/** A stage a runner holds. */
export const HELD = { machine: { not: '' }, ...HELD_STATUS };

export class StageQueue {
  private readonly waiters = new Set<Waiter>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly db: Db,
    private readonly events: EventBus,
    private readonly logger: Logger,
  ) {}

  async ready(): Promise<void> {
    this.unsubscribe = await this.events.subscribe(channels.queue, (message) => {
      const lanes = (message as { lanes?: unknown }).lanes;
      if (Array.isArray(lanes)) this.wakeFor(lanes.filter((l): l is string => typeof l === 'string'));
    });
  }

  /**
   * Tells every server that stages are waiting in these lanes (one entry per stage).
   * Never fails its caller: the stages are already in the database, and every server
   * looks at its lanes again within seconds (reconciler.ts) should Redis be away.
   */
  announce(lanes: string[]): void {
    if (lanes.length === 0) return;
    this.events.publish(channels.queue, { lanes }).catch((err) => this.logger.warn({ event: 'queue_announce_failed', err: String(err) }, 'could not announce queued stages; runners will find them at the next sweep'));
  }

  /** Wakes one waiting runner of this server per lane entry that it may serve; the others sleep on. */
  wakeFor(lanes: string[]): void {
    const woken = new Set<Waiter>();
    for (const text of lanes) {
      const lane = parseLane(text);
      if (!lane) continue;
      for (const waiter of this.waiters) {
        if (woken.has(waiter) || !runnerMatches(lane, waiter.runner)) continue;
        woken.add(waiter);
        waiter.wake();
        break;
      }
    }
  }

  /** The lanes with waiting stages and the oldest stage of each, in one indexed walk. */
  async lanes(): Promise<LaneHead[]> {
    // A loose index scan on (status, machine, lane, id): each step jumps to the next lane.
    const rows = await this.db.$queryRaw<{ lane: string; head: number | bigint }[]>`
      WITH RECURSIVE lanes(lane) AS (
        SELECT (SELECT "lane" FROM "Stage" WHERE "status" = 'pending' AND "machine" = '' AND "lane" > '' ORDER BY "lane" LIMIT 1)
        UNION ALL
        SELECT (SELECT "lane" FROM "Stage" WHERE "status" = 'pending' AND "machine" = '' AND "lane" > lanes."lane" ORDER BY "lane" LIMIT 1)
        FROM lanes WHERE lanes."lane" IS NOT NULL
      )
      SELECT lanes."lane" AS lane,
        (SELECT "id" FROM "Stage" WHERE "status" = 'pending' AND "machine" = '' AND "lane" = lanes."lane" ORDER BY "id" LIMIT 1) AS head
      FROM lanes WHERE lanes."lane" IS NOT NULL`;
    return rows.flatMap((row) => {
      const lane = parseLane(row.lane);
      return lane && row.head !== null ? [{ ...lane, lane: row.lane, head: Number(row.head) }] : [];
    });
  }

  /** The stage this runner should take next, or undefined: fairest lane first, concurrency limits respected. */
  async next(runner: RunnerInfo): Promise<StageRow | undefined> {
    if (runner.sick || runner.stopping) return undefined;
    const lanes = (await this.lanes()).filter((lane) => runnerMatches(lane, runner));
    if (lanes.length === 0) return undefined;
    const held = await this.heldPerRepo();
    lanes.sort((a, b) => (held.get(a.repoId) ?? 0) - (held.get(b.repoId) ?? 0) || a.head - b.head);
    for (const lane of lanes) {
      const stage = await this.headWithinLimits(lane);
      if (stage) return stage;
    }
    return undefined;
  }

  private async heldPerRepo(): Promise<Map<number, number>> {
    const rows = await this.db.stage.groupBy({ by: ['repoId'], where: HELD, _count: { _all: true } });
    return new Map(rows.map((r) => [r.repoId, r._count._all]));
  }

  /** The lane's oldest stage whose pipeline is under its concurrency limit. */
  private async headWithinLimits(lane: LaneHead): Promise<StageRow | undefined> {
    const full: string[] = [];
    let stage = await this.db.stage.findUnique({ where: { id: lane.head } });
    // Each round rules out one pipeline name, so this ends after as many rounds as the repository has limited pipelines.
    while (stage && stage.status === 'pending' && stage.machine === '') {
      if (!(await this.atLimit(stage))) return stage;
      full.push(stage.name);
      stage = await this.db.stage.findFirst({
        where: { status: 'pending', machine: '', lane: lane.lane, name: { notIn: full } },
        orderBy: { id: 'asc' },
      });
    }
    return undefined;
  }

  /** Whether `limit` other stages of the stage's pipeline in its repository are running or held by a runner. */
  private async atLimit(stage: StageRow): Promise<boolean> {
    if (stage.limit <= 0) return false;
    const busy = await this.db.stage.count({
      where: { repoId: stage.repoId, name: stage.name, id: { not: stage.id }, ...HELD },
    });
    return busy >= stage.limit;
  }

  /** A stage ended: if it held back stages of its pipeline (concurrency limit), wake runners for them. */
  async finished(stage: Pick<StageRow, 'repoId' | 'name' | 'limit' | 'lane'>): Promise<void> {
    if (stage.limit <= 0) return;
    const held = await this.db.stage.findFirst({ where: { repoId: stage.repoId, name: stage.name, status: 'pending', machine: '' }, select: { lane: true } });
    if (held) this.announce([held.lane]);
  }

  /**
   * Long-poll for a runner: returns a stage the moment one it may take is waiting,
   * or undefined after timeoutMs or when the signal aborts (runner went away, server stopping).
   */
  waitForStage(runner: RunnerInfo, timeoutMs: number, signal: AbortSignal): Promise<StageRow | undefined> {
    return waitUntil(
      () => this.next(runner),
      (wake) => {
        const waiter: Waiter = { runner, wake };
        this.waiters.add(waiter);
        return () => this.waiters.delete(waiter);
      },
      timeoutMs,
      signal,
    );
  }

  /**
   * Gives the stage to the runner unless another got it first or its pipeline is at its
   * concurrency limit. The lease starts here; the runner's pings renew it.
   */
  async claim(stageId: number, machine: string, now: number, leaseSeconds: number): Promise<StageRow | undefined> {
    const { count } = await this.db.stage.updateMany({
      where: { id: stageId, status: 'pending', machine: '' },
      data: { machine, leaseUntil: now + leaseSeconds, updatedAt: now, version: { increment: 1 } },
    });
    if (count !== 1) return undefined;
    const stage = await this.db.stage.findUnique({ where: { id: stageId } });
    if (stage && (await this.atLimit(stage))) {
      // Another runner took a stage of the same pipeline between our look and this claim; give it back.
      const released = await this.db.stage.updateMany({ where: { id: stageId, machine, status: 'pending' }, data: { machine: '', leaseUntil: 0, updatedAt: now } });
      if (released.count) this.announce([stage.lane]);
      return undefined;
    }
    return stage ?? undefined;
  }

  async close(): Promise<void> {
    for (const waiter of this.waiters) waiter.wake();
    this.unsubscribe?.();
  }
}
