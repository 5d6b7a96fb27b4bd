// Which secrets a runner receives with a stage's details: only those its pipeline names,
// none for a fork's pull request no one approved and none without pull_request for an
// approved one, none for a
// stage no runner holds; and, through a real runner on Docker, that a step sees its secret
// while its log, the API and the server log never show the value.
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Build, LogLine } from '../../core/domain.ts';
import type { StageDetails } from '../../core/protocol.ts';
import { DockerBackend } from '../../runner/backend/docker/docker-backend.ts';
import { compileStagePlan } from '../../runner/compile-plan.ts';
import { executeStage } from '../../runner/execute-stage.ts';
import { LABEL_RUNNER } from '../../runner/labels.ts';
import { RpcClient } from '../../runner/rpc-client.ts';
import { testRunnerName } from '../../runner/testing/test-runner-names.ts';
import { forkPullRequest } from '../support/fork-pull-requests.ts';
import { githubScenario, SLUG, type GithubScenario } from '../support/scenario.ts';
import { TEST_RPC_SECRET } from '../support/server.ts';

const KEY = 'c0ffee'.repeat(10) + 'c0ff';
const VALUES: Record<string, string> = {
  shared_secret: 'shared-value-7f3a',
  dockerconfig: '{"auths":{"registry.example.com":{"auth":"dXNlcjpwYXNz"}}}',
  api_token: 'api-token-value-91b2',
  docker_password: 'docker-password-value-c4d8',
  other_secret: 'other-value-e5f6',
  unused_secret: 'unused-value-0a1b',
};
const PULL_REQUEST_ALLOWED = ['docker_password'];

const PIPELINE = `kind: pipeline
type: docker
name: default
environment:
  SHARED:
    from_secret: shared_secret
image_pull_secrets:
- dockerconfig
steps:
- name: build
  image: alpine:3
  environment:
    TOKEN:
      from_secret: api_token
  commands:
  - echo "token=$TOKEN"
- name: publish
  image: plugins/docker
  settings:
    repo: octocat/hello
    password:
      from_secret: docker_password
---
kind: pipeline
type: docker
name: other
steps:
- name: only
  image: alpine:3
  environment:
    OTHER:
      from_secret: other_secret
    MISSING:
      from_secret: not_defined
  commands: [echo other]
`;

function capturedLogger() {
  const lines: string[] = [];
  return { lines, logger: pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) }) };
}

describe.each(['sqlite', 'postgres'] as const)('secrets in stage details on %s', (flavour) => {
  let s: GithubScenario;
  let rpc: RpcClient;
  const logs = capturedLogger();

  beforeAll(async () => {
    s = await githubScenario({ pipeline: PIPELINE, flavour, env: { HARRIER_DATABASE_SECRET: KEY }, logger: logs.logger });
    rpc = new RpcClient({ serverUrl: s.server.host, secret: TEST_RPC_SECRET, runner: 'secrets-test-runner', attempts: 1 });
    for (const [name, data] of Object.entries(VALUES)) {
      const res = await s.api(`/api/repos/${SLUG}/secrets`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name, data, pull_request: PULL_REQUEST_ALLOWED.includes(name) }),
      });
      expect(res.status).toBe(200);
    }
  });
  afterAll(async () => {
    await s?.close();
  });

  /** The details a runner gets after accepting the named stage of the build. */
  async function detailsOf(build: Build, stageName: string, accept = true): Promise<StageDetails> {
    const full = (await (await s.api(`/api/repos/${SLUG}/builds/${build.number}`)).json()) as Build;
    const stage = full.stages!.find((st) => st.name === stageName)!;
    if (accept) expect((await rpc.accept(stage.id, 'secrets-test-runner')).accepted).toBe(true);
    return rpc.details(stage.id);
  }

  const secretsOf = (d: StageDetails) => Object.fromEntries(d.secrets.map((x) => [x.name, x.value]));

  it('gives a stage exactly the secrets its pipeline names: environment, settings and image_pull_secrets', async () => {
    const { responses } = await s.push({ 'a.txt': 'a' }, 'Push');
    const build = await responses[0].build();
    const details = await detailsOf(build, 'default');
    expect(secretsOf(details)).toEqual({
      shared_secret: VALUES.shared_secret,
      dockerconfig: VALUES.dockerconfig,
      api_token: VALUES.api_token,
      docker_password: VALUES.docker_password,
    });
  });

  it('gives another pipeline of the same build only its own secrets, leaving out a name the repository lacks', async () => {
    const build = (await (await s.api(`/api/repos/${SLUG}/builds/1`)).json()) as Build;
    const details = await detailsOf(build, 'other');
    expect(details.secrets).toEqual([{ name: 'other_secret', value: VALUES.other_secret }]);
    expect(logs.lines.some((l) => l.includes('"event":"secret_not_found"') && l.includes('not_defined'))).toBe(true);
  });

  it('gives no details, so no secrets, for a stage no runner has accepted', async () => {
    const { responses } = await s.push({ 'b.txt': 'b' }, 'Another push');
    const build = await responses[0].build();
    await expect(detailsOf(build, 'default', false)).rejects.toMatchObject({ status: 409, message: expect.stringContaining('does not hold stage') });
  });

  it('matches a from_secret name to a secret whose name differs only in case, under the name the pipeline wrote', async () => {
    s.git.commit({ '.drone.yml': PIPELINE.replace('from_secret: api_token', 'from_secret: API_TOKEN') }, 'Shout the name');
    const [res] = await s.fake.push(SLUG, { after: s.git.head() });
    const details = await detailsOf(await res.build(), 'default');
    expect(secretsOf(details).API_TOKEN).toBe(VALUES.api_token);
    s.git.commit({ '.drone.yml': PIPELINE }, 'Back to the usual name');
  });

  it('gives a pull request from a branch of the same repository the secrets its pipeline names', async () => {
    const sha = s.git.commit({ 'feature.txt': 'f' }, 'Feature', 'feature');
    s.git.checkout('main');
    const [res] = await s.fake.pullRequest(SLUG, { number: 3, head: { ref: 'feature', sha }, base: { ref: 'main' } });
    const build = await res.build();
    expect(build).toMatchObject({ event: 'pull_request' });
    const details = await detailsOf(build, 'default');
    expect(details.build.event).toBe('pull_request');
    expect(secretsOf(details)).toEqual({
      shared_secret: VALUES.shared_secret,
      dockerconfig: VALUES.dockerconfig,
      api_token: VALUES.api_token,
      docker_password: VALUES.docker_password,
    });
  });

  it('gives a fork\'s pull request that no one approved no secrets at all, not even those marked pull_request', async () => {
    const fork = s.fake.repo('forker/hello-world') ?? s.fake.addRepo({ slug: 'forker/hello-world', gitDir: s.git.dir, private: false });
    const sha = s.git.commit({ 'fork.txt': 'unapproved' }, 'From a fork, unapproved', 'fork-unapproved');
    s.git.checkout('main');
    const [res] = await s.fake.pullRequest(SLUG, { number: 5, head: { ref: 'fork-unapproved', sha, repo: fork }, base: { ref: 'main' } });
    const build = await res.build();
    expect(build).toMatchObject({ status: 'pending', approved_by: '' });
    expect((await detailsOf(build, 'default')).secrets).toEqual([]);
    expect(logs.lines.some((l) => l.includes('"event":"secret_withheld"') && l.includes('docker_password') && l.includes('no one approved'))).toBe(true);
  });

  it('gives an approved fork\'s pull request only the secrets marked pull_request', async () => {
    const build = await forkPullRequest(s, { number: 4, branch: 'fork-feature', approve: true });
    const details = await detailsOf(build, 'default');
    expect(Object.keys(secretsOf(details))).toEqual(['docker_password']);
    expect(logs.lines.some((l) => l.includes('"event":"secret_withheld"') && l.includes('api_token') && l.includes('does not allow pull requests'))).toBe(true);
    const other = await detailsOf(build, 'other');
    expect(other.secrets).toEqual([]);
  });

  it('leaves out a secret whose stored value was tampered with, and logs its name only', async () => {
    const { db } = s.server.ctx;
    const token = await db.secret.findFirstOrThrow({ where: { name: 'api_token' } });
    const other = await db.secret.findFirstOrThrow({ where: { name: 'other_secret' } });
    // A value copied from another row: valid ciphertext, wrong row.
    await db.secret.update({ where: { id: other.id }, data: { data: token.data } });
    try {
      const { responses } = await s.push({ 'c.txt': 'c' }, 'After tampering');
      const details = await detailsOf(await responses[0].build(), 'other');
      expect(details.secrets).toEqual([]);
      expect(logs.lines.some((l) => l.includes('"event":"secret_unreadable"') && l.includes('other_secret'))).toBe(true);
    } finally {
      await db.secret.update({ where: { id: other.id }, data: { data: other.data } });
    }
  });

  it('never wrote a secret value to the server log', () => {
    expect(logs.lines.length).toBeGreaterThan(0);
    for (const value of Object.values(VALUES)) for (const line of logs.lines) expect(line).not.toContain(value);
  });
});

describe('a secret through a real runner on Docker', () => {
  const CHAIN = `kind: pipeline
type: docker
name: chain
steps:
- name: use
  image: alpine:3
  environment:
    TOKEN:
      from_secret: api_token
  commands:
  - echo "token=$TOKEN"
  - test "$TOKEN" = "${VALUES.api_token}" && echo matches
`;
  // The pipeline itself names the value in its test command; the runner masks it there too.
  let s: GithubScenario;
  const serverLogs = capturedLogger();
  const runnerLogs = capturedLogger();
  const runnerName = testRunnerName('secrets');
  const backend = new DockerBackend();
  const workspaceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'harrier-secrets-chain-'));

  beforeAll(async () => {
    s = await githubScenario({ pipeline: CHAIN, env: { HARRIER_DATABASE_SECRET: KEY }, logger: serverLogs.logger });
  });
  afterAll(async () => {
    await s?.close();
    await backend.removeLeftovers({ [LABEL_RUNNER]: runnerName });
    fs.rmSync(workspaceDir, { recursive: true, force: true });
  });

  it('runs the step with the secret in its environment and shows only ****** in every log', async () => {
    const created = await s.api(`/api/repos/${SLUG}/secrets`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'api_token', data: VALUES.api_token }),
    });
    expect(created.status).toBe(200);
    const { responses } = await s.push({ 'x.txt': 'x' }, 'Use the secret');
    const build = await responses[0].build();
    const rpc = new RpcClient({ serverUrl: s.server.host, secret: TEST_RPC_SECRET, runner: runnerName, attempts: 1 });
    const stage = (await rpc.request({ name: runnerName, labels: {}, capacity: 1, running: [], os: 'linux', arch: 'amd64', version: 'test' }))!;
    expect((await rpc.accept(stage.id, runnerName)).accepted).toBe(true);
    const details = await rpc.details(stage.id);
    expect(details.build.number).toBe(build.number);

    const outcome = await executeStage(details, { rpc, backend, compile: compileStagePlan, workspaceDir, runnerName, logger: runnerLogs.logger });
    expect(outcome).toEqual({ status: 'success', error: '' });

    const logRes = await s.api(`/api/repos/${SLUG}/builds/${build.number}/logs/1/2`);
    const text = await logRes.text();
    const lines = (JSON.parse(text) as LogLine[]).map((l) => l.out);
    expect(lines).toContain('token=******\n');
    expect(lines).toContain('matches\n');
    expect(text).not.toContain(VALUES.api_token);
    const done = (await (await s.api(`/api/repos/${SLUG}/builds/${build.number}`)).json()) as Build;
    expect(done.status).toBe('success');
    for (const line of [...serverLogs.lines, ...runnerLogs.lines]) expect(line).not.toContain(VALUES.api_token);
  });
});
