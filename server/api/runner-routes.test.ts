import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Build } from '../../core/domain.ts';
import type { RunnerInfo } from '../../core/protocol.ts';
import { RpcClient } from '../../runner/rpc-client.ts';
import { githubScenario, SLUG, type GithubScenario } from '../../test/support/scenario.ts';
import { TEST_RPC_SECRET } from '../../test/support/server.ts';
import { createApiToken } from '../auth/api-token.ts';
import type { RunnerJson } from '../../core/domain.ts';

const PIPELINE = `kind: pipeline
type: docker
name: unit

steps:
- name: test
  image: alpine:3
  commands:
  - echo test
`;

const runner = (name: string, over: Partial<RunnerInfo> = {}): RunnerInfo => ({
  name,
  labels: {},
  capacity: 2,
  running: [],
  os: 'linux',
  arch: 'amd64',
  version: '0.1.0',
  ...over,
});

describe.each(['sqlite', 'postgres'] as const)('GET /api/runners on %s', (flavour) => {
  let s: GithubScenario;
  let rpc: RpcClient;
  let stageId: number;
  /** The clock, in unix seconds, just before and after idle-a's ping. */
  const idlePinged = { from: 0, to: 0 };
  /** A signed-in user with no permission on the scenario's repository. */
  let strangerToken: string;

  beforeAll(async () => {
    s = await githubScenario({ pipeline: PIPELINE, flavour });
    // worker-b is the one runner that takes a stage; the others only ping.
    rpc = new RpcClient({ serverUrl: s.server.host, secret: TEST_RPC_SECRET, runner: 'worker-b', attempts: 1 });
    const { responses } = await s.push({ 'a.txt': 'a' }, 'Add a');
    // Build 1, once a worker made it.
    expect((await responses[0].build()).number).toBe(1);
    const build = (await (await s.api(`/api/repos/${SLUG}/builds/1`)).json()) as Build;
    stageId = build.stages![0].id;
    const worker = runner('worker-b', { labels: { gpu: 'yes', zone: 'eu' } });
    await rpc.ping(worker);
    expect(await rpc.request(worker)).toMatchObject({ id: stageId });
    expect((await rpc.accept(stageId, 'worker-b')).accepted).toBe(true);
    await rpc.updateStage(stageId, { status: 'running', started: s.server.ctx.now() });
    await rpc.ping({ ...worker, running: [stageId] });
    idlePinged.from = Math.floor(Date.now() / 1000);
    await rpc.ping(runner('idle-a', { capacity: 1, os: 'linux', arch: 'arm64', version: '0.0.9' }));
    idlePinged.to = Math.ceil(Date.now() / 1000);
    await rpc.ping(runner('gone-c'));
    await s.server.ctx.db.runner.update({ where: { name: 'gone-c' }, data: { lastSeen: s.server.ctx.now() - 3600 } });
    const now = s.server.ctx.now();
    const stranger = await s.server.ctx.db.user.create({ data: { provider: 'github', providerId: '777', login: 'stranger', createdAt: now, updatedAt: now } });
    strangerToken = await createApiToken(s.server.ctx, stranger.id);
  });
  afterAll(async () => {
    await s?.close();
  });

  const runners = async (token = s.token) => {
    const res = await fetch(`${s.server.host}/api/runners`, { headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    return (await res.json()) as RunnerJson[];
  };

  it('lists every runner the server heard from, sorted by name', async () => {
    expect((await runners()).map((r) => r.name)).toEqual(['gone-c', 'idle-a', 'worker-b']);
  });

  it('answers each runner\'s labels, capacity, platform, version and last contact in unix seconds', async () => {
    const idle = (await runners()).find((r) => r.name === 'idle-a')!;
    expect(idle).toEqual({
      name: 'idle-a',
      labels: {},
      capacity: 1,
      os: 'linux',
      arch: 'arm64',
      version: '0.0.9',
      last_contact: expect.any(Number),
      online: true,
      sick: '',
      stopping: false,
      running: [],
    });
    expect(idle.last_contact).toBeGreaterThanOrEqual(idlePinged.from);
    expect(idle.last_contact).toBeLessThanOrEqual(idlePinged.to);
    expect((await runners()).find((r) => r.name === 'worker-b')!.labels).toEqual({ gpu: 'yes', zone: 'eu' });
  });

  it('marks a runner not heard from for over a minute offline', async () => {
    const byName = Object.fromEntries((await runners()).map((r) => [r.name, r.online]));
    expect(byName).toEqual({ 'gone-c': false, 'idle-a': true, 'worker-b': true });
  });

  it('says which stage of which build of which repository a runner is running', async () => {
    const worker = (await runners()).find((r) => r.name === 'worker-b')!;
    expect(worker.running).toEqual([{ stage_id: stageId, stage: 'unit', build: 1, repo: SLUG, status: 'running' }]);
  });

  it('shows stages of public repositories to any signed-in user, and hides those of private repositories they cannot read unless they administer Harrier', async () => {
    expect((await runners(strangerToken)).find((r) => r.name === 'worker-b')!.running).toHaveLength(1);
    const { db } = s.server.ctx;
    const repo = await db.repo.findFirstOrThrow({ where: { slug: SLUG } });
    await db.repo.update({ where: { id: repo.id }, data: { private: true, visibility: 'private' } });
    try {
      expect((await runners(strangerToken)).find((r) => r.name === 'worker-b')!.running).toEqual([]);
      // The scenario's user has read permission on it; Harrier's administrator sees every stage.
      expect((await runners()).find((r) => r.name === 'worker-b')!.running).toHaveLength(1);
      await db.user.update({ where: { provider_login: { provider: 'github', login: 'stranger' } }, data: { admin: true } });
      expect((await runners(strangerToken)).find((r) => r.name === 'worker-b')!.running).toHaveLength(1);
    } finally {
      await db.user.update({ where: { provider_login: { provider: 'github', login: 'stranger' } }, data: { admin: false } });
      await db.repo.update({ where: { id: repo.id }, data: { private: false, visibility: 'public' } });
    }
  });

  it('says why a sick runner takes no work, and that a stopping one is shutting down', async () => {
    const reason = 'the Docker engine does not answer: connect ENOENT /var/run/docker.sock';
    await rpc.ping(runner('sick-e', { sick: reason }));
    await rpc.ping(runner('stopping-f', { stopping: true }));
    try {
      const byName = Object.fromEntries((await runners()).map((r) => [r.name, { sick: r.sick, stopping: r.stopping }]));
      expect(byName['sick-e']).toEqual({ sick: reason, stopping: false });
      expect(byName['stopping-f']).toEqual({ sick: '', stopping: true });
      // Healthy again, it says so in its next ping.
      await rpc.ping(runner('sick-e'));
      expect((await runners()).find((r) => r.name === 'sick-e')!.sick).toBe('');
    } finally {
      await s.server.ctx.db.runner.deleteMany({ where: { name: { in: ['sick-e', 'stopping-f'] } } });
    }
  });

  it('refuses callers who are not signed in with 401', async () => {
    const res = await fetch(`${s.server.host}/api/runners`);
    expect(res.status).toBe(401);
  });
});
