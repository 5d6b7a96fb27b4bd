// What a pull request, a fork's above all, may do: the repository settings that ignore
// pull requests and forks, builds that wait in `blocked` (a protected repository, a fork's
// pull request on a trusted one) until a user with write permission approves or declines
// them, the commit status that says so, and what a runner is handed for a fork's pull
// request (repo.trusted, secrets) before and after approval. Through the server's real
// /hook, with deliveries the GitHub stand-in builds from recorded payloads, and at the end
// through the real runner code on Docker.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Build, Repo } from '../../core/domain.ts';
import type { RunnerInfo, StageDetails } from '../../core/protocol.ts';
import { DockerBackend } from '../../runner/backend/docker/docker-backend.ts';
import { compileStagePlan } from '../../runner/compile-plan.ts';
import { executeStage } from '../../runner/execute-stage.ts';
import { LABEL_RUNNER } from '../../runner/labels.ts';
import { RpcClient } from '../../runner/rpc-client.ts';
import { testRunnerName } from '../../runner/testing/test-runner-names.ts';
import { createApiToken } from '../../server/auth/api-token.ts';
import type { FakeGithubRepo } from '../fakes/github-api.ts';
import { githubScenario, SLUG, type GithubScenario } from '../support/scenario.ts';
import { TEST_RPC_SECRET } from '../support/server.ts';
import type { DeliveredResponse } from '../fakes/delivered.ts';

const KEY = 'f00d'.repeat(16);
const PIPELINE = `kind: pipeline
type: docker
name: build
steps:
- name: test
  image: alpine:3
  environment:
    TOKEN:
      from_secret: api_token
    REGISTRY:
      from_secret: registry_password
  commands: [echo test]
---
kind: pipeline
type: docker
name: deploy
depends_on: [build]
steps:
- name: ship
  image: alpine:3
  commands: [echo ship]
`;

/** An API answer's message, or why a delivery built nothing (once a worker handled it). */
async function message(res: Response | DeliveredResponse): Promise<string> {
  if ('outcome' in res && res.status < 300) return (await res.outcome()).reason;
  return ((await res.json()) as { message: string }).message;
}

describe('pull requests, forks and approval', () => {
  let s: GithubScenario;
  let fork: FakeGithubRepo;
  let rpc: RpcClient;
  let branch = 0;
  let prNumber = 100;

  beforeAll(async () => {
    s = await githubScenario({ pipeline: PIPELINE, env: { HARRIER_DATABASE_SECRET: KEY } });
    fork = s.fake.addRepo({ slug: 'stranger/hello-world', gitDir: s.git.dir, private: false });
    rpc = new RpcClient({ serverUrl: s.server.host, secret: TEST_RPC_SECRET, runner: 'fork-test-runner', attempts: 1 });
    // The signed-in user is a Harrier administrator here, so the test may mark the repository trusted.
    await s.server.ctx.db.user.updateMany({ data: { admin: true } });
    for (const [name, data, pullRequest] of [
      ['api_token', 'api-token-value-1234', false],
      ['registry_password', 'registry-value-5678', true],
    ] as const) {
      const res = await s.api(`/api/repos/${SLUG}/secrets`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name, data, pull_request: pullRequest }),
      });
      expect(res.status).toBe(200);
    }
  });
  afterAll(async () => {
    await s?.close();
  });

  async function settings(patch: Partial<Pick<Repo, 'trusted' | 'protected' | 'ignore_forks' | 'ignore_pull_requests'>>): Promise<void> {
    const defaults = { trusted: false, protected: false, ignore_forks: false, ignore_pull_requests: false };
    const res = await s.api(`/api/repos/${SLUG}`, { method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ...defaults, ...patch }) });
    expect(res.status).toBe(200);
  }

  /** A pull request against main, from a branch of the repository itself or from the fork. */
  async function pullRequest(from: 'fork' | 'same'): Promise<DeliveredResponse> {
    const name = `feature-${++branch}`;
    const sha = s.git.commit({ [`${name}.txt`]: name }, `Change ${name}`, name);
    s.git.checkout('main');
    const [res] = await s.fake.pullRequest(SLUG, { number: ++prNumber, head: { ref: name, sha, ...(from === 'fork' ? { repo: fork } : {}) }, base: { ref: 'main' } });
    return res;
  }

  async function buildOf(res: DeliveredResponse): Promise<Build> {
    expect(res.status).toBe(202);
    const created = await res.build();
    expect(created.number, JSON.stringify(created)).toBeGreaterThan(0);
    return (await (await s.api(`/api/repos/${SLUG}/builds/${created.number}`)).json()) as Build;
  }

  const act = (number: number, verb: 'approve' | 'decline', token?: string) =>
    token
      ? fetch(`${s.server.host}/api/repos/${SLUG}/builds/${number}/${verb}`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } })
      : s.api(`/api/repos/${SLUG}/builds/${number}/${verb}`, { method: 'POST' });

  async function details(build: Build, stageName: string): Promise<StageDetails> {
    const stage = build.stages!.find((st) => st.name === stageName)!;
    expect((await rpc.accept(stage.id, 'fork-test-runner')).accepted).toBe(true);
    return rpc.details(stage.id);
  }

  const secretNames = (d: StageDetails) => d.secrets.map((x) => x.name).sort();

  it('ignore_pull_requests: a pull request creates no build, and the answer says which setting', async () => {
    await settings({ ignore_pull_requests: true });
    const before = await s.server.ctx.db.build.count();
    for (const from of ['same', 'fork'] as const) {
      const res = await pullRequest(from);
      expect(res.status).toBe(202);
      expect(await message(res)).toBe('the repository ignores pull requests (ignore_pull_requests)');
    }
    expect(await s.server.ctx.db.build.count()).toBe(before);
    const { responses } = await s.push({ 'push.txt': '1' }, 'A push still builds');
    expect((await responses[0].build()).status).toBe('pending');
  });

  it('ignore_forks: a fork\'s pull request creates no build, one from a branch of the repository does', async () => {
    await settings({ ignore_forks: true });
    const ignored = await pullRequest('fork');
    expect(ignored.status).toBe(202);
    expect(await message(ignored)).toMatch(/^the repository ignores pull requests from forks \(ignore_forks\); this one comes from stranger\/hello-world$/);
    expect((await buildOf(await pullRequest('same'))).status).toBe('pending');
  });

  it('a fork\'s pull request on a repository that is neither protected nor trusted runs at once, without any secret', async () => {
    await settings({});
    const build = await buildOf(await pullRequest('fork'));
    expect(build).toMatchObject({ status: 'pending', approved_by: '' });
    const d = await details(build, 'build');
    expect(d.repo.trusted).toBe(false);
    expect(d.secrets).toEqual([]);
  });

  it('a pull request from a branch of the repository gets the secrets its pipeline names', async () => {
    const build = await buildOf(await pullRequest('same'));
    expect(secretNames(await details(build, 'build'))).toEqual(['api_token', 'registry_password']);
  });

  it('protected: a push waits in blocked with all its stages, and the commit status says it waits for approval', async () => {
    await settings({ protected: true });
    const { sha, responses } = await s.push({ 'protected.txt': '1' }, 'Push to a protected repository');
    const build = await buildOf(responses[0]);
    expect(build.status).toBe('blocked');
    expect(build.stages!.map((st) => [st.name, st.status, st.waiting])).toEqual([
      ['build', 'blocked', 'waiting for approval by a user with write permission'],
      ['deploy', 'blocked', 'waiting for approval by a user with write permission'],
    ]);
    const status = await s.fake.waitForStatus((x) => x.sha === sha);
    expect(status).toMatchObject({ state: 'pending', description: 'Waiting for approval by a user with write permission', context: 'continuous-integration/harrier/push' });
    expect(await s.server.ctx.db.stage.count({ where: { buildId: build.id, status: 'pending' } })).toBe(0);
  });

  it('approve: needs write permission; then the stages are queued as a new build\'s, approved_by names the approver', async () => {
    const { sha, responses } = await s.push({ 'protected.txt': '2' }, 'Approve me');
    const build = await buildOf(responses[0]);

    const anonymous = await fetch(`${s.server.host}/api/repos/${SLUG}/builds/${build.number}/approve`, { method: 'POST' });
    expect(anonymous.status).toBe(401);
    const { db } = s.server.ctx;
    const now = s.server.ctx.now();
    const reader = await db.user.create({ data: { provider: 'github', providerId: '424242', login: 'reader', token: 'reader-token', createdAt: now, updatedAt: now } });
    const repo = await db.repo.findFirstOrThrow({ where: { slug: SLUG } });
    await db.perm.create({ data: { userId: reader.id, repoId: repo.id, read: true, write: false, admin: false, syncedAt: now } });
    const readerToken = await createApiToken(s.server.ctx, reader.id);
    for (const verb of ['approve', 'decline'] as const) {
      const res = await act(build.number, verb, readerToken);
      expect(res.status).toBe(403);
      expect(await message(res)).toMatch(/write permission/);
    }
    expect((await db.build.findUniqueOrThrow({ where: { id: build.id } })).status).toBe('blocked');

    const approved = await act(build.number, 'approve');
    expect(approved.status).toBe(200);
    const body = (await approved.json()) as Build;
    expect(body).toMatchObject({ status: 'pending', approved_by: s.fake.state.user.login });
    expect(body.stages!.map((st) => [st.name, st.status])).toEqual([
      ['build', 'pending'],
      ['deploy', 'waiting_on_dependencies'],
    ]);
    const status = await s.fake.waitForStatus((x) => x.sha === sha && x.description === 'Build is pending');
    expect(status.state).toBe('pending');

    const again = await act(build.number, 'approve');
    expect(again.status).toBe(409);
    expect(await message(again)).toBe(`build ${build.number} is pending (approved by ${s.fake.state.user.login}), not blocked; only a build waiting for approval can be approved`);
    expect((await act(build.number, 'decline')).status).toBe(409);
  });

  it('decline: the build ends declined, its stages never queue, and the commit status names who declined it', async () => {
    const { sha, responses } = await s.push({ 'protected.txt': '3' }, 'Decline me');
    const build = await buildOf(responses[0]);
    const declined = await act(build.number, 'decline');
    expect(declined.status).toBe(200);
    const body = (await declined.json()) as Build;
    expect(body).toMatchObject({ status: 'declined', approved_by: s.fake.state.user.login });
    expect(body.finished).toBeGreaterThan(0);
    expect(body.stages!.map((st) => st.status)).toEqual(['declined', 'declined']);
    const steps = body.stages!.flatMap((st) => st.steps!.map((step) => step.status));
    expect(steps.length).toBeGreaterThan(0);
    expect(new Set(steps)).toEqual(new Set(['skipped']));
    const status = await s.fake.waitForStatus((x) => x.sha === sha && x.description.startsWith('Declined'));
    expect(status).toMatchObject({ state: 'error', description: `Declined by ${s.fake.state.user.login}` });
    const late = await act(build.number, 'approve');
    expect(late.status).toBe(409);
    expect(await message(late)).toMatch(/is declined \(declined by .+\), not blocked/);
    expect(await s.server.ctx.db.stage.count({ where: { buildId: build.id, status: { in: ['pending', 'waiting_on_dependencies'] } } })).toBe(0);
  });

  it('answers 404 for approving a build that does not exist', async () => {
    expect((await act(9999, 'approve')).status).toBe(404);
  });

  it('trusted: a fork\'s pull request waits in blocked though the repository is not protected; pushes and its own branches do not', async () => {
    await settings({ trusted: true });
    const forked = await buildOf(await pullRequest('fork'));
    expect(forked.status).toBe('blocked');
    const status = await s.fake.waitForStatus((x) => x.sha === forked.after && x.context === 'continuous-integration/harrier/pr');
    expect(status).toMatchObject({ state: 'pending', description: 'Waiting for approval by a user with write permission' });
    expect((await buildOf(await pullRequest('same'))).status).toBe('pending');
    const { responses } = await s.push({ 'trusted.txt': '1' }, 'A push on a trusted repository');
    expect((await buildOf(responses[0])).status).toBe('pending');
  });

  it('an approved fork pull request gets the repository\'s trusted powers and the secrets marked pull_request', async () => {
    const build = await buildOf(await pullRequest('fork'));
    expect(build.status).toBe('blocked');
    expect((await act(build.number, 'approve')).status).toBe(200);
    const approved = (await (await s.api(`/api/repos/${SLUG}/builds/${build.number}`)).json()) as Build;
    const d = await details(approved, 'build');
    expect(d.repo.trusted).toBe(true);
    expect(d.build.approved_by).toBe(s.fake.state.user.login);
    expect(secretNames(d)).toEqual(['registry_password']);
  });

  it('a fork\'s pull request that reaches a runner unapproved (queued before the repository became trusted) gets neither trust nor secrets', async () => {
    await settings({});
    const build = await buildOf(await pullRequest('fork'));
    expect(build.status).toBe('pending');
    await settings({ trusted: true });
    const d = await details(build, 'build');
    expect(d.repo.trusted).toBe(false);
    expect(d.secrets).toEqual([]);
  });

  it('a restart keeps the approval of the build it restarts, and a restart of an unapproved fork pull request on a trusted repository waits again', async () => {
    const { db } = s.server.ctx;
    const approvedFork = await db.build.findFirstOrThrow({ where: { fork: true, approvedBy: { not: '' }, status: 'pending' }, orderBy: { number: 'desc' } });
    const unapprovedFork = await db.build.findFirstOrThrow({ where: { fork: true, approvedBy: '', status: { notIn: ['blocked', 'declined'] } }, orderBy: { number: 'desc' } });
    await db.build.updateMany({ where: { id: { in: [approvedFork.id, unapprovedFork.id] } }, data: { status: 'success' } });
    const restart = async (number: number) => (await (await s.api(`/api/repos/${SLUG}/builds/${number}`, { method: 'POST' })).json()) as Build;
    expect(await restart(approvedFork.number)).toMatchObject({ status: 'pending', approved_by: approvedFork.approvedBy });
    expect(await restart(unapprovedFork.number)).toMatchObject({ status: 'blocked', approved_by: '' });
  });
});

describe('a fork\'s pull request on a trusted repository, run on Docker', () => {
  // A host volume is a power only trusted repositories have; a step that uses it leaves a
  // file on this machine, so what ran with which powers shows in the folder afterwards.
  const hostDir = fs.mkdtempSync(path.join(os.tmpdir(), 'harrier-fork-host-'));
  const workspaceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'harrier-fork-ws-'));
  const HOST_VOLUME = `kind: pipeline
type: docker
name: default
steps:
- name: mark
  image: alpine:3
  volumes:
  - name: host
    path: /out
  commands:
  - touch /out/build-$DRONE_BUILD_NUMBER
  - echo marked build $DRONE_BUILD_NUMBER
volumes:
- name: host
  host:
    path: ${hostDir}
`;
  const runnerName = testRunnerName('forks');
  const backend = new DockerBackend();
  const info: RunnerInfo = { name: runnerName, labels: {}, capacity: 1, running: [], os: 'linux', arch: 'amd64', version: 'test' };
  let s: GithubScenario;
  let fork: FakeGithubRepo;
  let rpc: RpcClient;
  let n = 200;

  beforeAll(async () => {
    s = await githubScenario({ pipeline: HOST_VOLUME });
    fork = s.fake.addRepo({ slug: 'stranger/hello-world', gitDir: s.git.dir, private: false });
    rpc = new RpcClient({ serverUrl: s.server.host, secret: TEST_RPC_SECRET, runner: runnerName, attempts: 1 });
    await s.server.ctx.db.repo.updateMany({ where: { slug: SLUG }, data: { trusted: true } });
  });
  afterAll(async () => {
    await s?.close();
    await backend.removeLeftovers({ [LABEL_RUNNER]: runnerName });
    fs.rmSync(hostDir, { recursive: true, force: true });
    fs.rmSync(workspaceDir, { recursive: true, force: true });
  });

  async function forkPullRequest(): Promise<Build> {
    const name = `fork-${++n}`;
    const sha = s.git.commit({ [`${name}.txt`]: name }, `From the fork: ${name}`, name);
    s.git.checkout('main');
    const [res] = await s.fake.pullRequest(SLUG, { number: n, head: { ref: name, sha, repo: fork }, base: { ref: 'main' } });
    expect(res.status).toBe(202);
    return (await res.build());
  }

  /** Takes the next stage the queue offers this runner, as `harrier runner` does, and runs it. */
  async function runNext(): Promise<{ details: StageDetails; outcome: { status: string; error: string } }> {
    const stage = await rpc.request(info);
    expect(stage, 'a stage waits in the queue').not.toBeNull();
    expect((await rpc.accept(stage!.id, runnerName)).accepted).toBe(true);
    const details = await rpc.details(stage!.id);
    const outcome = await executeStage(details, { rpc, backend, compile: compileStagePlan, workspaceDir, runnerName });
    return { details, outcome };
  }

  const marked = () => fs.readdirSync(hostDir).sort();

  it('protected: waits in blocked, runs with the host volume once approved, and a declined one never runs', async () => {
    await s.server.ctx.db.repo.updateMany({ where: { slug: SLUG }, data: { protected: true } });
    const declined = await forkPullRequest();
    const approved = await forkPullRequest();
    expect([declined.status, approved.status]).toEqual(['blocked', 'blocked']);
    expect((await s.api(`/api/repos/${SLUG}/builds/${declined.number}/decline`, { method: 'POST' })).status).toBe(200);
    expect((await s.api(`/api/repos/${SLUG}/builds/${approved.number}/approve`, { method: 'POST' })).status).toBe(200);

    // The queue offers the approved build's stage, never the declined one's.
    const { details, outcome } = await runNext();
    expect(details.build.number).toBe(approved.number);
    expect(details.repo.trusted).toBe(true);
    expect(outcome).toEqual({ status: 'success', error: '' });
    expect(marked()).toEqual([`build-${approved.number}`]);
    const done = (await (await s.api(`/api/repos/${SLUG}/builds/${approved.number}`)).json()) as Build;
    expect(done.status).toBe('success');
    const never = (await (await s.api(`/api/repos/${SLUG}/builds/${declined.number}`)).json()) as Build;
    expect(never).toMatchObject({ status: 'declined', started: 0 });
    expect(never.stages!.map((st) => [st.status, st.machine])).toEqual([['declined', '']]);
    expect(await s.server.ctx.db.stage.count({ where: { status: 'pending', machine: '' } })).toBe(0);
  });

  it('trusted but not protected: a fork\'s pull request waits in blocked too, and runs once approved', async () => {
    await s.server.ctx.db.repo.updateMany({ where: { slug: SLUG }, data: { protected: false } });
    const build = await forkPullRequest();
    expect(build.status).toBe('blocked');
    expect(await s.server.ctx.db.stage.count({ where: { status: 'pending', machine: '' } })).toBe(0);
    expect((await s.api(`/api/repos/${SLUG}/builds/${build.number}/approve`, { method: 'POST' })).status).toBe(200);
    const { details, outcome } = await runNext();
    expect(details.build.number).toBe(build.number);
    expect(outcome.status).toBe('success');
    expect(marked()).toContain(`build-${build.number}`);
  });

  it('a fork\'s stage that reaches a runner without approval is refused the host volume by the runner itself', async () => {
    const build = await forkPullRequest();
    expect(build.status).toBe('blocked');
    // As if the build had slipped past the approval (the server's gate is tested above): the runner is the second line.
    const { db } = s.server.ctx;
    await db.build.updateMany({ where: { id: build.id }, data: { status: 'pending' } });
    await db.stage.updateMany({ where: { buildId: build.id }, data: { status: 'pending' } });
    s.server.ctx.queue.announce((await db.stage.findMany({ where: { buildId: build.id } })).map((st) => st.lane));
    const { details, outcome } = await runNext();
    expect(details.build.number).toBe(build.number);
    expect(details.repo.trusted).toBe(false);
    expect(outcome.status).toBe('error');
    expect(outcome.error).toMatch(/host path.*only trusted repositories/);
    expect(marked()).not.toContain(`build-${build.number}`);
  });
});
