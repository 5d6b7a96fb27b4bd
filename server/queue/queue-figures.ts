// How much work waits and runs per label set, and how many runners could take it: read
// from the database at the moment of asking, so every server process answers the same.
// The Prometheus gauges (server/metrics/) and GET /api/queue both come from here, so a
// dashboard and an autoscaler never disagree.
import type { ServerContext } from '../context.ts';
import { knownRunner } from '../runners/known-runners.ts';
import { labelSetKey, labelSetOf, parseLane, runnerMatches, type LabelSet } from './lanes.ts';
import { HELD } from './stage-queue.ts';

export interface LabelSetFigures extends LabelSet {
  /** labelSetKey of the set: the `label_set` label of the gauges. */
  key: string;
  /** Pending stages no runner holds yet. */
  waiting: number;
  /** Stages a runner holds: running, or pending and accepted. */
  running: number;
  /** Seconds since the longest-waiting stage was queued; 0 when none waits. */
  oldestWaitingSeconds: number;
  /** Online runners, neither sick nor stopping, whose platform and labels let them take this set's stages. */
  runners: number;
}

export interface QueueFigures {
  /** Every label set with a waiting or running stage, sorted by key. */
  labelSets: LabelSetFigures[];
  runners: {
    /** Runners heard from within ONLINE_SECONDS. */
    connected: number;
    /** Stages the online runners say they run. */
    busy: number;
    /** Slots the online runners have in all. */
    capacity: number;
  };
}

export async function queueFigures(ctx: ServerContext): Promise<QueueFigures> {
  const now = ctx.now();
  const [waiting, held, runnerRows] = await Promise.all([
    ctx.db.stage.groupBy({
      by: ['lane', 'os', 'arch', 'labels'],
      where: { status: 'pending', machine: '' },
      _count: { _all: true },
      _min: { queuedAt: true, createdAt: true },
    }),
    ctx.db.stage.groupBy({
      by: ['os', 'arch', 'labels'],
      where: HELD,
      _count: { _all: true },
    }),
    ctx.db.runner.findMany(),
  ]);

  const sets = new Map<string, LabelSetFigures>();
  const figuresOf = (set: LabelSet) => {
    const key = labelSetKey(set);
    let figures = sets.get(key);
    if (!figures) sets.set(key, (figures = { key, os: set.os, arch: set.arch, labels: set.labels, waiting: 0, running: 0, oldestWaitingSeconds: 0, runners: 0 }));
    return figures;
  };
  for (const group of waiting) {
    // The lane is what dispatch reads; a stage queued before lanes existed has none, and its columns say the same.
    const figures = figuresOf(parseLane(group.lane) ?? labelSetOf(group));
    figures.waiting += group._count._all;
    // queuedAt is 0 on stages queued before it was recorded; their creation time is the best guess.
    const queuedAt = group._min.queuedAt || group._min.createdAt || now;
    figures.oldestWaitingSeconds = Math.max(figures.oldestWaitingSeconds, now - queuedAt);
  }
  for (const group of held) figuresOf(labelSetOf(group)).running += group._count._all;

  const online = runnerRows.map((row) => knownRunner(row, now)).filter((runner) => runner.online);
  // A sick or stopping runner takes no new stage, so it is no capacity for the work that waits.
  const available = online.filter((runner) => !runner.sick && !runner.stopping);
  const labelSets = [...sets.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const figures of labelSets) figures.runners = available.filter((runner) => runnerMatches(figures, runner)).length;

  return {
    labelSets,
    runners: {
      connected: online.length,
      busy: online.reduce((sum, runner) => sum + runner.running.length, 0),
      capacity: online.reduce((sum, runner) => sum + runner.capacity, 0),
    },
  };
}
