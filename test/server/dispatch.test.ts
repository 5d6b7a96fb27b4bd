// Dispatch from the database: repositories share runners fairly, stages waiting for
// labels no runner has hold up nothing, and the queue reads one head per lane.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunnerInfo } from '../../core/protocol.ts';
import { RpcClient } from '../../runner/rpc-client.ts';
import { laneOf } from '../../server/queue/lanes.ts';
import { longPollHeld } from '../support/long-poll.ts';
import { startTestServer, TEST_RPC_SECRET, type TestServer } from '../support/server.ts';

const runner = (name: string, labels: Record<string, string> = {}): RunnerInfo => ({ name, labels, capacity: 1, running: [], os: 'linux', arch: 'amd64', version: 'test' });

describe.each(['sqlite', 'postgres'] as const)('dispatch on %s', (flavour) => {
  let server: TestServer;
  let repos = 0;

  beforeAll(async () => {
    server = await startTestServer({ flavour });
  });
  afterAll(async () => {
    await server?.close();
  });

  /** A repository with one build of `count` waiting stages needing `labels`; returns the stage ids, oldest first. */
  async function backlog(count: number, labels: Record<string, string> = {}): Promise<number[]> {
    const { db } = server.ctx;
    const now = server.ctx.now();
    const n = ++repos;
    const repo = await db.repo.create({ data: { provider: 'github', uid: `d${n}`, namespace: 'd', name: `r${n}`, slug: `d/r${n}`, active: true, createdAt: now, updatedAt: now } });
    const build = await db.build.create({ data: { repoId: repo.id, number: 1, status: 'pending', event: 'push', createdAt: now, updatedAt: now } });
    const text = JSON.stringify(labels);
    const lane = laneOf({ repoId: repo.id, os: 'linux', arch: 'amd64', labels: text });
    await db.stage.createMany({
      data: Array.from({ length: count }, (_, i) => ({ repoId: repo.id, buildId: build.id, number: i + 1, name: `p${i + 1}`, status: 'pending', os: 'linux', arch: 'amd64', labels: text, lane, queuedAt: now, createdAt: now, updatedAt: now })),
    });
    const stages = await db.stage.findMany({ where: { buildId: build.id }, orderBy: { id: 'asc' }, select: { id: true } });
    return stages.map((s) => s.id);
  }

  async function take(name: string, labels: Record<string, string> = {}): Promise<number> {
    const rpc = new RpcClient({ serverUrl: server.host, secret: TEST_RPC_SECRET, runner: name, attempts: 1 });
    const stage = await rpc.request(runner(name, labels));
    expect(stage).not.toBeNull();
    expect((await rpc.accept(stage!.id, name)).accepted).toBe(true);
    return stage!.id;
  }

  async function clear(ids: number[]): Promise<void> {
    await server.ctx.db.stage.updateMany({ where: { id: { in: ids } }, data: { status: 'skipped' } });
  }

  it('shares runners between repositories: one repository\'s 300 queued stages do not starve another\'s one', async () => {
    const crowd = await backlog(300);
    const [single] = await backlog(1);
    expect(await take('fair-1')).toBe(crowd[0]);
    // The crowded repository holds a runner now; the other holds none, so it goes next.
    expect(await take('fair-2')).toBe(single);
    expect(await take('fair-3')).toBe(crowd[1]);
    await clear([...crowd, single]);
  });

  it('hands out other work while thousands of stages wait for labels no runner has', async () => {
    const gpu = await backlog(2_000, { gpu: 'yes' });
    const [plain] = await backlog(1);
    expect(await take('plain-runner')).toBe(plain);
    expect(await take('gpu-runner', { gpu: 'yes' })).toBe(gpu[0]);
    const lanes = await server.ctx.queue.lanes();
    const gpuLane = lanes.find((l) => l.labels.gpu === 'yes');
    expect(gpuLane?.head).toBe(gpu[1]);
    await clear([...gpu, plain]);
  });

  it('reads one head per lane, whatever the number of stages in it', async () => {
    const a = await backlog(50);
    const b = await backlog(50, { arch: 'arm' });
    const lanes = (await server.ctx.queue.lanes()).filter((l) => [a[0], b[0]].includes(l.head));
    expect(lanes).toHaveLength(2);
    expect(lanes.map((l) => l.labels)).toEqual(expect.arrayContaining([{}, { arch: 'arm' }]));
    await clear([...a, ...b]);
  });

  it('answers a held long poll with 204 when the server stops, so the runner polls another server at once', async () => {
    const leaving = await startTestServer({ flavour });
    const rpc = new RpcClient({ serverUrl: leaving.host, secret: TEST_RPC_SECRET, runner: 'moving-runner', attempts: 1 });
    const polling = rpc.request(runner('moving-runner'));
    await longPollHeld(leaving.ctx);
    const closed = leaving.close();
    expect(await polling).toBeNull();
    await closed;
  });
});
