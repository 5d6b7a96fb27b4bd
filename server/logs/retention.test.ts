import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Build, LogLine, Status } from '../../core/domain.ts';
import { startApiHarness, type ApiHarness } from '../../test/support/http.ts';
import { ConfigError, loadServerConfig } from '../config.ts';
import { encodeChunk } from './log-chunk.ts';
import { appendLogLines, readLogLines } from './log-store.ts';
import { LOGS_PURGED_HEADER } from './log-json.ts';
import { purgeLogs, startLogRetention } from './retention.ts';

const DAY = 86_400;
const line = (pos: number): LogLine => ({ pos, out: `line ${pos}\n`, time: pos });

describe.each(['sqlite', 'postgres'] as const)('log retention on %s', (flavour) => {
  let h: ApiHarness;
  let repoNo = 0;
  beforeAll(async () => {
    h = await startApiHarness({ flavour });
  });
  afterAll(async () => {
    await h?.close();
  });
  /** The clock stands still unless a test moves it, so "purged now" means one second however long a purge takes. */
  let pinned = 0;
  const advance = (seconds: number) => void (pinned += seconds);
  beforeEach(async () => {
    pinned = Math.floor(Date.now() / 1000);
    h.ctx.now = () => pinned;
    // Each test purges only what it made.
    await h.db.repo.deleteMany();
    h.ctx.config.logRetentionDays = 0;
    h.ctx.config.logRetentionBuilds = 0;
  });

  /**
   * A public repository with builds of these statuses, each with two steps of `lines` log lines, sent in batches
   * of `batch` lines (a chunk each); finished (or created) now.
   */
  async function repoWithBuilds(statuses: Status[], lines = 3, batch = lines) {
    const now = h.ctx.now();
    const name = `r${++repoNo}`;
    const repo = await h.db.repo.create({
      data: { provider: 'github', uid: `${name}-${flavour}`, namespace: 'octo', name, slug: `octo/${name}`, visibility: 'public', active: true, createdAt: now, updatedAt: now },
    });
    const steps: number[][] = [];
    for (const [i, status] of statuses.entries()) {
      const finished = ['pending', 'running', 'blocked'].includes(status) ? 0 : now;
      const build = await h.db.build.create({
        data: {
          repoId: repo.id, number: i + 1, status, event: 'push', createdAt: now, updatedAt: now, finished,
          stages: { create: [{ repoId: repo.id, number: 1, name: 'test', status, createdAt: now, updatedAt: now, steps: { create: [{ number: 1, name: 'a', status }, { number: 2, name: 'b', status }] } }] },
        },
        include: { stages: { include: { steps: true } } },
      });
      const ids = build.stages[0].steps.map((s) => s.id);
      for (const id of ids) {
        const all = Array.from({ length: lines }, (_, p) => line(p));
        if (batch === lines) await appendLogLines({ db: h.db, events: { publish: async () => undefined, listening: async () => true } as never }, id, all);
        // Many small batches, written in one statement: what appending them one by one would leave.
        else await h.db.logChunk.createMany({ data: Array.from({ length: Math.ceil(lines / batch) }, (_, b) => ({ stepId: id, codec: 'deflate', ...encodeChunk(all, b * batch, Math.min(lines, (b + 1) * batch)) })) });
      }
      steps.push(ids);
    }
    return { repo, steps };
  }
  /** How many lines the steps' logs hold, as a reader gets them. */
  const linesOf = async (stepIds: number[]) => {
    let n = 0;
    for (const id of stepIds) n += (await readLogLines(h.ctx, id)).length;
    return n;
  };
  const purgedAt = async (repoId: number) =>
    (await h.db.build.findMany({ where: { repoId }, orderBy: { number: 'asc' }, select: { logsPurged: true } })).map((b) => b.logsPurged);

  it('purges nothing while neither HARRIER_LOG_RETENTION_DAYS nor HARRIER_LOG_RETENTION_BUILDS is set, however old the logs', async () => {
    const { repo, steps } = await repoWithBuilds(['success']);
    advance(3650 * DAY);
    expect(await purgeLogs(h.ctx)).toEqual({ builds: 0, lines: 0 });
    expect(await linesOf(steps[0])).toBe(6);
    expect(await purgedAt(repo.id)).toEqual([0]);
  });

  it('removes the logs of finished builds older than the retention days, and never those of pending, running or blocked builds', async () => {
    h.ctx.config.logRetentionDays = 30;
    const old = await repoWithBuilds(['success', 'failure', 'running', 'pending', 'blocked', 'killed']);
    advance(20 * DAY);
    const recent = await repoWithBuilds(['success']);
    expect(await purgeLogs(h.ctx)).toEqual({ builds: 0, lines: 0 });

    advance(11 * DAY);
    const result = await purgeLogs(h.ctx);
    const now = h.ctx.now();
    expect(await purgedAt(old.repo.id)).toEqual([now, now, 0, 0, 0, now]);
    expect(await Promise.all(old.steps.map(linesOf))).toEqual([0, 0, 6, 6, 6, 0]);
    expect(await linesOf(recent.steps[0])).toBe(6);
    expect(await purgedAt(recent.repo.id)).toEqual([0]);
    expect(result).toEqual({ builds: 3, lines: 18 });
    expect(await purgeLogs(h.ctx)).toEqual({ builds: 0, lines: 0 });
  });

  it('keeps the logs of only the newest HARRIER_LOG_RETENTION_BUILDS builds of each repository', async () => {
    h.ctx.config.logRetentionBuilds = 2;
    const a = await repoWithBuilds(['success', 'running', 'failure', 'success', 'success']);
    const b = await repoWithBuilds(['success', 'success']);
    await purgeLogs(h.ctx);
    const now = h.ctx.now();
    expect(await purgedAt(a.repo.id)).toEqual([now, 0, now, 0, 0]);
    expect(await Promise.all(a.steps.map(linesOf))).toEqual([0, 6, 0, 6, 6]);
    expect(await purgedAt(b.repo.id)).toEqual([0, 0]);
  });

  it('answers a purged step\'s log as [] with X-Logs-Purged, and the build as logs_purged, and counts what it removed', async () => {
    h.ctx.config.logRetentionBuilds = 1;
    const { repo } = await repoWithBuilds(['success', 'success'], 12_345);
    const before = await h.ctx.metrics.exposition({ labelSets: [], runners: { connected: 0, busy: 0, capacity: 0 } });
    await purgeLogs(h.ctx);
    const now = h.ctx.now();
    const purged = await fetch(`${h.url}/api/repos/${repo.slug}/builds/1/logs/1/1`);
    expect(purged.headers.get(LOGS_PURGED_HEADER)).toBe(String(now));
    expect(await purged.text()).toBe('[]');
    const kept = await fetch(`${h.url}/api/repos/${repo.slug}/builds/2/logs/1/1`);
    expect(kept.headers.get(LOGS_PURGED_HEADER)).toBeNull();
    expect(((await kept.json()) as LogLine[]).length).toBe(12_345);
    const build = (await h.browser().json<Build>(`/api/repos/${repo.slug}/builds/1`)).body;
    expect(build.logs_purged).toBe(now);
    expect((await h.browser().json<Build>(`/api/repos/${repo.slug}/builds/2`)).body.logs_purged).toBe(0);

    const after = await h.ctx.metrics.exposition({ labelSets: [], runners: { connected: 0, busy: 0, capacity: 0 } });
    const sample = (text: string, name: string) => Number(/^(\S+) (\S+)$/m.exec(text.split('\n').find((l) => l.startsWith(`${name} `)) ?? '')?.[2]);
    expect(sample(after, 'harrier_log_purged_lines_total') - sample(before, 'harrier_log_purged_lines_total')).toBe(2 * 12_345);
    expect(sample(after, 'harrier_log_purged_builds_total') - sample(before, 'harrier_log_purged_builds_total')).toBe(1);
  });

  it('purges each build once when several servers purge at the same time, each deleting a log of many chunks a part at a time', async () => {
    h.ctx.config.logRetentionBuilds = 1;
    // 700 chunks a step: more than one DELETE takes.
    const { repo, steps } = await repoWithBuilds(['success', 'success', 'success', 'success'], 7_000, 10);
    expect(await h.db.logChunk.count({ where: { stepId: steps[0][0] } })).toBe(700);
    const results = await Promise.all([purgeLogs(h.ctx), purgeLogs(h.ctx), purgeLogs(h.ctx)]);
    expect(results.reduce((n, r) => n + r.builds, 0)).toBe(3);
    expect(results.reduce((n, r) => n + r.lines, 0)).toBe(3 * 2 * 7_000);
    expect(await Promise.all(steps.map(linesOf))).toEqual([0, 0, 0, 14_000]);
    expect((await purgedAt(repo.id)).map(Boolean)).toEqual([true, true, true, false]);
  });

  it("purges every attempt's log of a retried stage, the same positions under each attempt", async () => {
    h.ctx.config.logRetentionBuilds = 1;
    const { repo, steps } = await repoWithBuilds(['success', 'success'], 30, 10);
    const events = { publish: async () => undefined, listening: async () => false } as never;
    const all = Array.from({ length: 30 }, (_, p) => line(p));
    for (const id of steps[0]) for (const attempt of [2, 3]) expect(await appendLogLines({ db: h.db, events }, id, all, attempt)).toBe(30);
    expect(await readLogLines(h.ctx, steps[0][0], -1, undefined, 3)).toHaveLength(30);
    expect(await purgeLogs(h.ctx)).toEqual({ builds: 1, lines: 2 * 3 * 30 });
    expect(await h.db.logChunk.count({ where: { stepId: { in: steps[0] } } })).toBe(0);
    expect(await linesOf(steps[1])).toBe(60);
    expect((await purgedAt(repo.id)).map(Boolean)).toEqual([true, false]);
  });

  it('purges by itself, at start and then on its interval', async () => {
    h.ctx.config.logRetentionBuilds = 1;
    const passes: number[] = [];
    let wake = () => {};
    const counted = { ...h.ctx, metrics: { ...h.ctx.metrics, logsPurged: (builds: number) => (passes.push(builds), wake()) } };
    const first = await repoWithBuilds(['success', 'success']);
    const retention = startLogRetention(counted, 50);
    try {
      while ((await purgedAt(first.repo.id))[0] === 0) await new Promise<void>((resolve) => (wake = resolve));
      const second = await repoWithBuilds(['success', 'success']);
      while ((await purgedAt(second.repo.id))[0] === 0) await new Promise<void>((resolve) => (wake = resolve));
      expect(await Promise.all([...first.steps, ...second.steps].map(linesOf))).toEqual([0, 6, 0, 6]);
    } finally {
      await retention.stop();
    }
  });
});

describe('log retention settings', () => {
  it('default to keeping every log', () => {
    expect(loadServerConfig({})).toMatchObject({ logRetentionDays: 0, logRetentionBuilds: 0 });
    expect(loadServerConfig({ HARRIER_LOG_RETENTION_DAYS: '90', HARRIER_LOG_RETENTION_BUILDS: '500' })).toMatchObject({ logRetentionDays: 90, logRetentionBuilds: 500 });
  });

  it.each([
    ['HARRIER_LOG_RETENTION_DAYS', '-1', /HARRIER_LOG_RETENTION_DAYS=-1 must be a whole number of days, or 0, which keeps logs forever/],
    ['HARRIER_LOG_RETENTION_DAYS', '1.5', /must be a whole number of days/],
    ['HARRIER_LOG_RETENTION_BUILDS', 'ten', /HARRIER_LOG_RETENTION_BUILDS=ten must be a whole number of builds per repository, or 0, which keeps the logs of every build/],
  ])('refuses %s=%s saying what it takes', (name, value, message) => {
    expect(() => loadServerConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadServerConfig({ [name]: value })).toThrow(message);
  });
});
