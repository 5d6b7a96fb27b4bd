import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiHarness, type ApiHarness } from '../../test/support/http.ts';
import type { Db } from '../db/client.ts';
import { appendLogLines } from '../logs/log-store.ts';

/** A build with two stages; stage 1 has two steps with log lines sent out of order. */
async function seed(db: Db, now: number) {
  const repo = await db.repo.create({
    data: { provider: 'github', uid: '1', namespace: 'octo', name: 'app', slug: 'octo/app', private: false, visibility: 'public', active: true, createdAt: now, updatedAt: now },
  });
  await db.repo.create({
    data: { provider: 'github', uid: '2', namespace: 'octo', name: 'hidden', slug: 'octo/hidden', private: true, visibility: 'private', createdAt: now, updatedAt: now },
  });
  for (let number = 1; number <= 30; number++) {
    await db.build.create({
      data: {
        repoId: repo.id,
        number,
        status: number === 30 ? 'running' : 'success',
        event: 'push',
        target: number % 2 ? 'main' : 'dev',
        source: number % 2 ? 'main' : 'dev',
        ref: number % 2 ? 'refs/heads/main' : 'refs/heads/dev',
        after: `sha${number}`,
        message: `commit ${number}`,
        params: '{"DEPLOY":"yes"}',
        createdAt: now + number,
        updatedAt: now + number,
      },
    });
  }
  const build = await db.build.findUniqueOrThrow({ where: { repoId_number: { repoId: repo.id, number: 30 } } });
  const stage2 = await db.stage.create({
    data: { repoId: repo.id, buildId: build.id, number: 2, name: 'deploy', status: 'pending', dependsOn: '["test"]', createdAt: now, updatedAt: now },
  });
  const stage1 = await db.stage.create({
    data: {
      repoId: repo.id,
      buildId: build.id,
      number: 1,
      name: 'test',
      status: 'running',
      labels: '{"gpu":"yes"}',
      started: now,
      createdAt: now,
      updatedAt: now,
      steps: {
        create: [
          { number: 2, name: 'unit', status: 'failure', exitCode: 1, image: 'node:20', started: now + 5, stopped: now + 9, dependsOn: '["clone"]' },
          { number: 1, name: 'clone', status: 'success', exitCode: 0, image: 'harrier/git', started: now, stopped: now + 5 },
        ],
      },
    },
    include: { steps: true },
  });
  const unit = stage1.steps.find((s) => s.name === 'unit')!;
  const noListeners = { publish: async () => undefined, listening: async () => false } as never;
  for (const pos of [2, 0, 1]) await appendLogLines({ db, events: noListeners }, unit.id, [{ pos, out: `line ${pos}\n`, time: pos }]);
  return { repo, build, stage1, stage2 };
}

describe.each(['sqlite', 'postgres'] as const)('builds on %s', (flavour) => {
  let harness: ApiHarness;
  let now: number;

  beforeAll(async () => {
    harness = await startApiHarness({ flavour });
    now = harness.ctx.now();
    await seed(harness.db, now);
  });
  afterAll(async () => {
    await harness?.close();
  });

  const get = (path: string) => harness.browser().json(path);

  it('lists builds newest first, 25 per page by default', async () => {
    const res = await get('/api/repos/octo/app/builds');
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(25);
    expect(res.body.map((b: any) => b.number).slice(0, 3)).toEqual([30, 29, 28]);
    expect(res.body[0]).toMatchObject({ number: 30, status: 'running', event: 'push', after: 'sha30', target: 'dev', params: { DEPLOY: 'yes' } });
    expect(res.body[0].stages).toBeUndefined();
  });

  it('pages with ?page and ?per_page, capping per_page at 100', async () => {
    const second = await get('/api/repos/octo/app/builds?page=2&per_page=10');
    expect(second.body.map((b: any) => b.number)).toEqual([20, 19, 18, 17, 16, 15, 14, 13, 12, 11]);
    const big = await get('/api/repos/octo/app/builds?per_page=1000');
    expect(big.status).toBe(200);
    expect(big.body).toHaveLength(30);
    const beyond = await get('/api/repos/octo/app/builds?page=9');
    expect(beyond.body).toEqual([]);
  });

  it('filters by ?branch', async () => {
    const res = await get('/api/repos/octo/app/builds?branch=main&per_page=100');
    expect(res.body).toHaveLength(15);
    expect(res.body.every((b: any) => b.target === 'main')).toBe(true);
  });

  it.each([
    ['page=0', /page: must be a page number of at least 1/],
    ['page=x', /page: must be a page number/],
    ['per_page=-3', /per_page: /],
  ])('refuses ?%s with 400 naming the parameter', async (query, message) => {
    const res = await get(`/api/repos/octo/app/builds?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(message);
  });

  it('answers a build with its stages and their steps, both ordered by number', async () => {
    const res = await get('/api/repos/octo/app/builds/30');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ number: 30, status: 'running' });
    expect(res.body.stages.map((s: any) => [s.number, s.name, s.status])).toEqual([
      [1, 'test', 'running'],
      [2, 'deploy', 'pending'],
    ]);
    expect(res.body.stages[0].labels).toEqual({ gpu: 'yes' });
    expect(res.body.stages[1].depends_on).toEqual(['test']);
    expect(res.body.stages[1].steps).toEqual([]);
    const steps = res.body.stages[0].steps;
    expect(steps.map((s: any) => ({ number: s.number, name: s.name, status: s.status, exit_code: s.exit_code, started: s.started, stopped: s.stopped }))).toEqual([
      { number: 1, name: 'clone', status: 'success', exit_code: 0, started: now, stopped: now + 5 },
      { number: 2, name: 'unit', status: 'failure', exit_code: 1, started: now + 5, stopped: now + 9 },
    ]);
    expect(steps[1].step_id).toBe(res.body.stages[0].id);
    expect(steps[1].depends_on).toEqual(['clone']);
  });

  it('answers the newest build for /builds/latest, optionally of a branch', async () => {
    const newest = await get('/api/repos/octo/app/builds/latest');
    expect(newest.body).toMatchObject({ number: 30 });
    expect(newest.body.stages).toHaveLength(2);
    const main = await get('/api/repos/octo/app/builds/latest?branch=main');
    expect(main.body).toMatchObject({ number: 29, target: 'main' });
    const none = await get('/api/repos/octo/app/builds/latest?branch=gone');
    expect(none.status).toBe(404);
    expect(none.body.message).toMatch(/no builds for branch gone yet/);
  });

  it('answers a step\'s log as [{pos,out,time}] ordered by pos', async () => {
    const res = await get('/api/repos/octo/app/builds/30/logs/1/2');
    expect(res.status).toBe(200);
    expect(res.body).toEqual([
      { pos: 0, out: 'line 0\n', time: 0 },
      { pos: 1, out: 'line 1\n', time: 1 },
      { pos: 2, out: 'line 2\n', time: 2 },
    ]);
    const empty = await get('/api/repos/octo/app/builds/30/logs/1/1');
    expect(empty.body).toEqual([]);
  });

  it.each([
    ['/api/repos/octo/app/builds/99', /octo\/app has no build 99/],
    ['/api/repos/octo/app/builds/99/logs/1/1', /octo\/app has no build 99/],
    ['/api/repos/octo/app/builds/30/logs/7/1', /build 30 of octo\/app has no stage 7/],
    ['/api/repos/octo/app/builds/30/logs/1/9', /stage 1 \(test\) of build 30 of octo\/app has no step 9/],
    ['/api/repos/octo/nope/builds/1', /repository octo\/nope not found/],
  ])('answers 404 for %s with a message naming what is missing', async (path, message) => {
    const res = await get(path);
    expect(res.status).toBe(404);
    expect(res.body.message).toMatch(message);
  });

  it('answers 400 for a build number that is not a number', async () => {
    const res = await get('/api/repos/octo/app/builds/latest-ish');
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/number: must be a build number/);
  });

  it('hides the builds of a private repository from a caller without permission (404)', async () => {
    const res = await get('/api/repos/octo/hidden/builds');
    expect(res.status).toBe(404);
  });
});
