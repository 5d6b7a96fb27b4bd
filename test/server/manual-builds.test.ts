// Builds no webhook started, through the REST API and a real runner on Docker: a manual
// build (Drone's create build, event custom) whose parameters its steps see as variables
// and `${NAME}` substitutions; a promotion and a rollback of a build, which only the
// pipeline whose `trigger: target:` names the target runs; and the refusals.
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Build, LogLine } from '../../core/domain.ts';
import { DockerBackend } from '../../runner/backend/docker/docker-backend.ts';
import { compileStagePlan } from '../../runner/compile-plan.ts';
import { executeStage } from '../../runner/execute-stage.ts';
import { LABEL_RUNNER } from '../../runner/labels.ts';
import { RpcClient } from '../../runner/rpc-client.ts';
import { testRunnerName } from '../../runner/testing/test-runner-names.ts';
import { bitbucketScenario, githubScenario, SLUG, type BitbucketScenario, type GithubScenario } from '../support/scenario.ts';
import { PROMOTABLE_PIPELINE as PIPELINE } from '../support/promotable-pipeline.ts';
import { TEST_RPC_SECRET } from '../support/server.ts';

describe.each(['sqlite', 'postgres'] as const)('builds from the API on %s', (flavour) => {
  let s: GithubScenario;
  let rpc: RpcClient;
  const runnerName = testRunnerName(`manual-${flavour}`);
  const backend = new DockerBackend();
  const workspaceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'harrier-manual-builds-'));

  beforeAll(async () => {
    s = await githubScenario({ pipeline: PIPELINE, flavour });
    // The stand-in links the commits' email to the signed-in account, as GitHub does a verified email.
    s.fake.state.user.primaryEmail = s.git.info().authorEmail;
    rpc = new RpcClient({ serverUrl: s.server.host, secret: TEST_RPC_SECRET, runner: runnerName, attempts: 1 });
  });
  afterAll(async () => {
    await s?.close();
    await backend.removeLeftovers({ [LABEL_RUNNER]: runnerName });
    fs.rmSync(workspaceDir, { recursive: true, force: true });
  });

  const post = async (url: string) => {
    const res = await s.api(url, { method: 'POST' });
    return { status: res.status, body: (await res.json()) as Build & { message: string } };
  };

  /** Runs the build's one stage on the real runner; the lines of its step after the clone. */
  async function run(build: Build): Promise<string> {
    const stage = await rpc.request({ name: runnerName, labels: {}, capacity: 1, running: [], os: 'linux', arch: 'amd64', version: 'test' });
    expect(stage, 'a stage for the runner').not.toBeNull();
    expect((await rpc.accept(stage!.id, runnerName)).accepted).toBe(true);
    const details = await rpc.details(stage!.id);
    expect(details.build.number).toBe(build.number);
    const outcome = await executeStage(details, { rpc, backend, compile: compileStagePlan, workspaceDir, runnerName, logger: s.server.ctx.logger });
    expect(outcome).toEqual({ status: 'success', error: '' });
    const logs = await s.api(`/api/repos/${SLUG}/builds/${build.number}/logs/1/2`);
    expect(logs.status).toBe(200);
    return ((await logs.json()) as LogLine[]).map((l) => l.out).join('');
  }

  it('creates a custom build of the default branch head with the query parameters, and its step sees them', async () => {
    const head = s.git.commit({ 'a.txt': 'a' }, 'Not pushed: no webhook tells Harrier');
    const { status, body } = await post(`/api/repos/${SLUG}/builds?GREETING=hello%20there`);
    expect(status).toBe(200);
    const login = s.fake.state.user.login;
    expect(body).toMatchObject({ event: 'custom', status: 'pending', after: head, ref: 'refs/heads/main', target: 'main', source: 'main', params: { GREETING: 'hello there' }, trigger: login, sender: login, parent: 0 });
    // The commit's details come from GitHub, as Drone's create build takes them.
    const info = s.git.info(head);
    expect(body).toMatchObject({
      message: 'Not pushed: no webhook tells Harrier\n',
      link: `${s.fake.url}/${SLUG}/commit/${head}`,
      timestamp: Math.floor(Date.parse(info.timestamp) / 1000),
      author_login: login,
      author_name: info.authorName,
      author_email: info.authorEmail,
      author_avatar: s.fake.state.user.avatarUrl,
    });
    expect(body.stages!.map((st) => st.name)).toEqual(['default']);
    expect(await s.fake.waitForStatus((st) => st.sha === head)).toMatchObject({ state: 'pending', context: 'continuous-integration/harrier/custom' });

    const log = await run(body);
    expect(log).toContain('greeting=hello there\n');
    expect(log).toContain('substituted=hello there\n');
    expect(log).toContain('event=custom branch=main\n');
    const done = (await (await s.api(`/api/repos/${SLUG}/builds/${body.number}`)).json()) as Build;
    expect(done.status).toBe('success');
  }, 180_000);

  it('builds the named branch at its head, or the named commit', async () => {
    const first = s.git.head();
    const feature = s.git.commit({ 'f.txt': 'f' }, 'On a branch', 'feature');
    s.git.checkout('main');
    const onBranch = await post(`/api/repos/${SLUG}/builds?branch=feature`);
    expect(onBranch.status).toBe(200);
    expect(onBranch.body).toMatchObject({ after: feature, target: 'feature', ref: 'refs/heads/feature', params: {} });
    const atCommit = await post(`/api/repos/${SLUG}/builds?branch=main&commit=${first}&MODE=old`);
    expect(atCommit.status).toBe(200);
    expect(atCommit.body).toMatchObject({ after: first, target: 'main', params: { MODE: 'old' }, message: s.git.info(first).message, link: `${s.fake.url}/${SLUG}/commit/${first}` });
    const unknown = await post(`/api/repos/${SLUG}/builds?commit=${'a'.repeat(40)}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toContain(`has no commit ${'a'.repeat(40)} on GitHub`);
    for (const b of [onBranch.body, atCommit.body]) expect((await s.api(`/api/repos/${SLUG}/builds/${b.number}`, { method: 'DELETE' })).status).toBe(200);
  });

  it('promotes a build: event promote, DRONE_DEPLOY_TO and DRONE_BUILD_PARENT, and only the pipeline for that target runs', async () => {
    const parent = 1;
    const original = (await (await s.api(`/api/repos/${SLUG}/builds/${parent}`)).json()) as Build;
    const { status, body } = await post(`/api/repos/${SLUG}/builds/${parent}/promote?target=production&REGION=eu-west`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ event: 'promote', deploy_to: 'production', parent, after: original.after, ref: original.ref, target: 'main', params: { REGION: 'eu-west' }, sender: original.sender });
    // The promoted build's commit details are copied, not asked again.
    expect(original.author_login).not.toBe('');
    const { message, link, timestamp, author_login, author_name, author_email, author_avatar } = original;
    expect(body).toMatchObject({ message, link, timestamp, author_login, author_name, author_email, author_avatar });
    expect(body.stages!.map((st) => st.name)).toEqual(['deploy']);
    expect(await run(body)).toContain(`event=promote deploy_to=production parent=${parent} region=eu-west\n`);
  }, 180_000);

  it('rolls back to a build with event rollback, through the same target', async () => {
    const { status, body } = await post(`/api/repos/${SLUG}/builds/1/rollback?target=production`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ event: 'rollback', deploy_to: 'production', parent: 1, params: {} });
    expect(body.stages!.map((st) => st.name)).toEqual(['deploy']);
    expect(await run(body)).toContain('event=rollback deploy_to=production parent=1 region=\n');
  }, 180_000);

  it('refuses a target no pipeline deploys to, saying which trigger to change, and creates no build', async () => {
    const before = (await (await s.api(`/api/repos/${SLUG}/builds?per_page=1`)).json()) as Build[];
    const { status, body } = await post(`/api/repos/${SLUG}/builds/1/promote?target=staging`);
    expect(status).toBe(400);
    expect(body.message).toMatch(/no pipeline in \.drone\.yml runs for a promote build of main to target staging.*target staging/);
    const after = (await (await s.api(`/api/repos/${SLUG}/builds?per_page=1`)).json()) as Build[];
    expect(after[0].number).toBe(before[0].number);
  });

  it('refuses a promotion without a target (400), of an unknown build (404), and a build of an unknown branch (404)', async () => {
    const noTarget = await post(`/api/repos/${SLUG}/builds/1/promote?REGION=eu`);
    expect(noTarget.status).toBe(400);
    expect(noTarget.body.message).toContain('target: required: name the environment to deploy to, e.g. ?target=production');
    const empty = await post(`/api/repos/${SLUG}/builds/1/rollback?target=%20`);
    expect(empty.status).toBe(400);
    const unknown = await post(`/api/repos/${SLUG}/builds/999/promote?target=production`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toBe(`${SLUG} has no build 999`);
    const noBranch = await post(`/api/repos/${SLUG}/builds?branch=no-such-branch`);
    expect(noBranch.status).toBe(404);
    expect(noBranch.body.message).toContain('has no branch no-such-branch on GitHub');
  });

  it('refuses parameters that cannot be variables, a parameter given twice, and a commit that is no hash (400)', async () => {
    for (const [query, message] of [
      ['1ST=x', 'build parameter "1ST": not a variable name'],
      ['A-B=x', 'build parameter "A-B": not a variable name'],
      ['X=1&X=2', 'build parameter X is given more than once'],
      ['commit=main', 'commit: must be a commit hash'],
    ]) {
      const { status, body } = await post(`/api/repos/${SLUG}/builds?${query}`);
      expect({ query, status }).toEqual({ query, status: 400 });
      expect(body.message).toContain(message);
    }
  });

  it('refuses a user without write permission (403)', async () => {
    const { db } = s.server.ctx;
    await db.perm.updateMany({ data: { write: false, admin: false } });
    try {
      for (const url of [`/api/repos/${SLUG}/builds`, `/api/repos/${SLUG}/builds/1/promote?target=production`, `/api/repos/${SLUG}/builds/1/rollback?target=production`]) {
        const { status, body } = await post(url);
        expect({ url, status }).toEqual({ url, status: 403 });
        expect(body.message).toContain('you need write permission');
      }
    } finally {
      await db.perm.updateMany({ data: { write: true, admin: true } });
    }
  });
});

describe.each(['sqlite', 'postgres'] as const)('a manual build of a Bitbucket repository on %s', (flavour) => {
  let s: BitbucketScenario;
  beforeAll(async () => {
    s = await bitbucketScenario({ pipeline: PIPELINE, flavour });
    // The stand-in links the commits' email to the signed-in account.
    s.fake.state.user.email = s.git.info().authorEmail;
  });
  afterAll(async () => {
    await s?.close();
  });

  it("builds the branch's head as Bitbucket has it, and refuses a branch it does not have", async () => {
    const head = s.git.commit({ 'b.txt': 'b' }, 'Not pushed');
    const res = await s.api(`/api/repos/${SLUG}/builds?branch=main&TOOL=bb`, { method: 'POST' });
    expect(res.status).toBe(200);
    const build = (await res.json()) as Build;
    expect(build).toMatchObject({ event: 'custom', after: head, target: 'main', params: { TOOL: 'bb' } });
    const info = s.git.info(head);
    expect(build).toMatchObject({
      message: 'Not pushed\n',
      link: `${s.fake.url}/${SLUG}/commits/${head}`,
      author_login: s.fake.state.user.nickname,
      author_name: info.authorName,
      author_email: info.authorEmail,
      author_avatar: s.fake.state.user.avatarUrl,
    });
    expect((await s.api(`/api/repos/${SLUG}/builds/${build.number}`, { method: 'DELETE' })).status).toBe(200);
    const missing = await s.api(`/api/repos/${SLUG}/builds?branch=gone`, { method: 'POST' });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { message: string }).message).toContain('has no branch gone on Bitbucket');
  });
});
