import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiHarness, type ApiHarness } from '../../test/support/http.ts';
import { createApiToken } from '../auth/api-token.ts';
import { labelSetKey, laneOf, type LabelSet } from '../queue/lanes.ts';
import type { QueueJson } from './queue-routes.ts';

const messageOf = async (res: Response) => ((await res.json()) as { message: string }).message;

const AMD64: LabelSet = { os: 'linux', arch: 'amd64', labels: {} };
const GPU: LabelSet = { os: 'linux', arch: 'arm64', labels: { gpu: 'yes', zone: 'eu' } };
const WINDOWS: LabelSet = { os: 'windows', arch: 'amd64', labels: {} };

/** The samples of one gauge by its label_set label, from Prometheus' text format. */
function byLabelSet(text: string, name: string): Record<string, number> {
  const samples: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(\w+)\{label_set="((?:[^"\\]|\\.)*)"\} (\S+)$/.exec(line);
    if (m && m[1] === name) samples[m[2].replace(/\\(.)/g, '$1')] = Number(m[3]);
  }
  return samples;
}

describe.each(['sqlite', 'postgres'] as const)('GET /api/queue and the queue gauges on %s', (flavour) => {
  let h: ApiHarness;
  let adminToken: string;
  let userToken: string;
  /** queuedAt of the longest-waiting stage of each label set. */
  const oldest = new Map<string, number>();

  beforeAll(async () => {
    h = await startApiHarness({ flavour });
    const { db } = h;
    const now = h.ctx.now();
    const user = (login: string, admin: boolean) =>
      db.user.create({ data: { provider: 'github', providerId: login, login, admin, createdAt: now, updatedAt: now } });
    adminToken = await createApiToken(h.ctx, (await user('boss', true)).id);
    userToken = await createApiToken(h.ctx, (await user('dev', false)).id);

    const repo = (name: string) =>
      db.repo.create({ data: { provider: 'github', uid: name, namespace: 'octo', name, slug: `octo/${name}`, active: true, createdAt: now, updatedAt: now } });
    const app = await repo('app');
    const lib = await repo('lib');
    let number = 0;
    const stage = async (repoId: number, set: LabelSet, status: string, machine = '', queuedAt = now, lane = true) => {
      const build = await db.build.create({ data: { repoId, number: ++number, status: 'running', event: 'push', createdAt: now, updatedAt: now } });
      // Labels stored in another key order than the set's: the figures must not tell them apart.
      const labels = JSON.stringify(Object.fromEntries(Object.entries(set.labels).reverse()));
      const row = { repoId, os: set.os, arch: set.arch, labels };
      await db.stage.create({
        data: { ...row, buildId: build.id, number: 1, name: 'unit', status, machine, lane: lane ? laneOf(row) : '', queuedAt, createdAt: now, updatedAt: now },
      });
      if (status === 'pending' && !machine) {
        const key = labelSetKey(set);
        oldest.set(key, Math.min(oldest.get(key) ?? Infinity, queuedAt));
      }
    };
    await stage(app.id, AMD64, 'pending', '', now - 300);
    await stage(app.id, AMD64, 'pending', '', now - 60);
    // Queued before stages had lanes: its columns say where it waits.
    await stage(lib.id, AMD64, 'pending', '', now - 30, false);
    await stage(app.id, AMD64, 'running', 'amd-1');
    // Accepted but not started yet: a runner holds it.
    await stage(lib.id, AMD64, 'pending', 'amd-1');
    await stage(app.id, GPU, 'pending', '', now - 20);
    await stage(lib.id, GPU, 'pending', '', now - 10);
    await stage(app.id, WINDOWS, 'running', 'win-1');
    // Over: in no figure.
    await stage(app.id, AMD64, 'success', 'amd-1');
    await stage(lib.id, GPU, 'killed', '');

    const runner = (name: string, set: LabelSet, capacity: number, running: number[], over: { lastSeen?: number; sick?: string; stopping?: boolean } = {}) =>
      db.runner.create({
        data: { name, os: set.os, arch: set.arch, labels: JSON.stringify(set.labels), capacity, running: JSON.stringify(running), lastSeen: now, ...over },
      });
    await runner('amd-1', { ...AMD64, labels: { zone: 'eu' } }, 2, [4, 5]);
    await runner('gpu-1', GPU, 3, []);
    await runner('gpu-sick', GPU, 1, [], { sick: 'the Docker engine does not answer' });
    await runner('win-1', WINDOWS, 1, [8], { stopping: true });
    await runner('amd-gone', AMD64, 4, [], { lastSeen: now - 3600 });
  });
  afterAll(async () => {
    await h?.close();
  });

  const queue = async (token = adminToken) => {
    const res = await fetch(`${h.url}/api/queue`, { headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    return (await res.json()) as QueueJson;
  };

  it('counts waiting and held stages per label set, whatever repository they belong to', async () => {
    const figures = (await queue()).label_sets.map(({ os, arch, labels, waiting, running }) => ({ os, arch, labels, waiting, running }));
    expect(figures).toEqual([
      { ...AMD64, waiting: 3, running: 2 },
      { ...GPU, waiting: 2, running: 0 },
      { ...WINDOWS, waiting: 0, running: 1 },
    ]);
  });

  it('counts, per label set, the online runners that could take its stages, leaving out sick and stopping ones', async () => {
    expect((await queue()).label_sets.map((s) => [s.os, s.arch, s.runners])).toEqual([
      ['linux', 'amd64', 1],
      ['linux', 'arm64', 1],
      ['windows', 'amd64', 0],
    ]);
  });

  it('sums the connected runners, their busy slots and their capacity; a runner silent for an hour is not connected', async () => {
    expect((await queue()).runners).toEqual({ connected: 4, busy: 3, capacity: 7 });
  });

  it('says how long the oldest stage of each label set has waited', async () => {
    const from = h.ctx.now();
    const body = await queue();
    const to = h.ctx.now();
    for (const set of [AMD64, GPU]) {
      const queuedAt = oldest.get(labelSetKey(set))!;
      const seconds = body.label_sets.find((s) => labelSetKey(s) === labelSetKey(set))!.oldest_waiting_seconds;
      expect(seconds).toBeGreaterThanOrEqual(from - queuedAt);
      expect(seconds).toBeLessThanOrEqual(to - queuedAt);
    }
    expect(body.label_sets.find((s) => s.os === 'windows')!.oldest_waiting_seconds).toBe(0);
  });

  it('gives the same figures on /metrics as on /api/queue', async () => {
    const body = await queue();
    const text = await (await fetch(`${h.url}/metrics`)).text();
    const expected = (field: 'waiting' | 'running') => Object.fromEntries(body.label_sets.map((s) => [labelSetKey(s), s[field]]));
    expect(byLabelSet(text, 'harrier_stages_waiting')).toEqual(expected('waiting'));
    expect(byLabelSet(text, 'harrier_stages_running')).toEqual(expected('running'));
    expect(text).toMatch(/^harrier_runners_connected 4$/m);
    expect(text).toMatch(/^harrier_runner_slots\{state="busy"\} 3$/m);
    expect(text).toMatch(/^harrier_runner_slots\{state="total"\} 7$/m);
  });

  it('refuses callers who are not signed in with 401 and users who are not administrators with 403', async () => {
    const anonymous = await fetch(`${h.url}/api/queue`);
    expect(anonymous.status).toBe(401);
    expect(await messageOf(anonymous)).toMatch(/sign in/);
    const user = await fetch(`${h.url}/api/queue`, { headers: { Authorization: `Bearer ${userToken}` } });
    expect(user.status).toBe(403);
    expect(await messageOf(user)).toMatch(/dev is not an administrator/);
  });
});
