// Organisation secrets reaching builds, on SQLite and PostgreSQL: through a real runner on
// Docker a step reads one with from_secret, and a repository secret of the same name wins;
// a fork's pull request gets none until approved, then only those marked pull_request; a
// secret of another namespace never reaches the repository.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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

const KEY = 'ab12'.repeat(16);
const ORG_TOKEN = 'org-token-value-3c9d';
const ORG_SHARED = 'org-shared-value-loses';
const REPO_SHARED = 'repo-shared-value-wins';
const ORG_PR = 'org-pr-value-8e2f';
const ACME_ONLY = 'acme-only-value-4b1a';

const PIPELINE = `kind: pipeline
type: docker
name: default
steps:
- name: use
  image: alpine:3
  environment:
    ORG_TOKEN:
      from_secret: org_token
    SHARED:
      from_secret: shared
    PR_OK:
      from_secret: pr_ok
  commands:
  - test "$ORG_TOKEN" = "${ORG_TOKEN}" && echo org-secret-read
  - test "$SHARED" = "${REPO_SHARED}" && echo repository-secret-won
  - test "$PR_OK" = "${ORG_PR}" && echo pr-secret-read
`;

function capturedLogger() {
  const lines: string[] = [];
  return { lines, logger: pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) }) };
}

describe.each(['sqlite', 'postgres'] as const)('organisation secrets in builds on %s', (flavour) => {
  let s: GithubScenario;
  const logs = capturedLogger();
  const runnerLogs = capturedLogger();
  const runnerName = testRunnerName(`org-secrets-${flavour}`);
  const backend = new DockerBackend();
  const workspaceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'harrier-org-secrets-'));
  let rpc: RpcClient;

  const create = async (p: string, body: unknown) => {
    const res = await s.api(p, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status, `POST ${p}`).toBe(200);
  };

  beforeAll(async () => {
    s = await githubScenario({ pipeline: PIPELINE, flavour, env: { HARRIER_DATABASE_SECRET: KEY }, logger: logs.logger });
    s.fake.state.orgs = ['acme'];
    s.fake.state.orgAdmins = ['acme'];
    rpc = new RpcClient({ serverUrl: s.server.host, secret: TEST_RPC_SECRET, runner: runnerName, attempts: 1 });
    // octocat/hello-world belongs to octocat, the signed-in user: their own namespace.
    await create('/api/secrets/octocat', { name: 'org_token', data: ORG_TOKEN });
    await create('/api/secrets/octocat', { name: 'shared', data: ORG_SHARED, pull_request: true });
    await create('/api/secrets/octocat', { name: 'pr_ok', data: ORG_PR, pull_request: true });
    await create('/api/secrets/acme', { name: 'acme_only', data: ACME_ONLY, pull_request: true });
    await create(`/api/repos/${SLUG}/secrets`, { name: 'shared', data: REPO_SHARED });
  });
  afterAll(async () => {
    await s?.close();
    await backend.removeLeftovers({ [LABEL_RUNNER]: runnerName });
    fs.rmSync(workspaceDir, { recursive: true, force: true });
  });

  /** The details a runner gets after accepting the build's stage. */
  async function detailsOf(build: Build): Promise<StageDetails> {
    const full = (await (await s.api(`/api/repos/${SLUG}/builds/${build.number}`)).json()) as Build;
    const stage = full.stages![0];
    expect((await rpc.accept(stage.id, runnerName)).accepted).toBe(true);
    return rpc.details(stage.id);
  }
  const secretsOf = (d: StageDetails) => Object.fromEntries(d.secrets.map((x) => [x.name, x.value]));

  it('runs a step that reads an organisation secret, with the repository secret of the same name winning', async () => {
    const { responses } = await s.push({ 'x.txt': 'x' }, 'Use organisation secrets');
    const build = await responses[0].build();
    const stage = (await rpc.request({ name: runnerName, labels: {}, capacity: 1, running: [], os: 'linux', arch: 'amd64', version: 'test' }))!;
    expect((await rpc.accept(stage.id, runnerName)).accepted).toBe(true);
    const details = await rpc.details(stage.id);
    expect(details.build.number).toBe(build.number);
    expect(secretsOf(details)).toEqual({ org_token: ORG_TOKEN, shared: REPO_SHARED, pr_ok: ORG_PR });

    const outcome = await executeStage(details, { rpc, backend, compile: compileStagePlan, workspaceDir, runnerName, logger: runnerLogs.logger });
    expect(outcome).toEqual({ status: 'success', error: '' });
    const text = await (await s.api(`/api/repos/${SLUG}/builds/${build.number}/logs/1/2`)).text();
    const lines = (JSON.parse(text) as LogLine[]).map((l) => l.out);
    expect(lines).toEqual(expect.arrayContaining(['org-secret-read\n', 'repository-secret-won\n', 'pr-secret-read\n']));
    for (const value of [ORG_TOKEN, ORG_SHARED, REPO_SHARED, ORG_PR]) expect(text).not.toContain(value);
  });

  it("never gives a repository another namespace's secret", async () => {
    s.git.commit({ '.drone.yml': PIPELINE.replace('from_secret: pr_ok', 'from_secret: acme_only') }, 'Name acme\'s secret');
    try {
      const [res] = await s.fake.push(SLUG, { after: s.git.head() });
      const details = await detailsOf(await res.build());
      expect(secretsOf(details)).toEqual({ org_token: ORG_TOKEN, shared: REPO_SHARED });
      expect(logs.lines.some((l) => l.includes('"event":"secret_not_found"') && l.includes('acme_only') && l.includes('nor its organisation octocat'))).toBe(true);
    } finally {
      s.git.commit({ '.drone.yml': PIPELINE }, 'Back to the usual pipeline');
    }
  });

  it("gives a fork's pull request no organisation secret until approved, then only those marked pull_request", async () => {
    const build = await forkPullRequest(s, { number: 7, branch: 'fork-feature', approve: true });
    // `shared` is the repository's (pull_request false) even though the organisation's allows pull requests: the repository's wins.
    expect(secretsOf(await detailsOf(build))).toEqual({ pr_ok: ORG_PR });
    expect(logs.lines.some((l) => l.includes('"event":"secret_withheld"') && l.includes('org_token') && l.includes('does not allow pull requests'))).toBe(true);
  });

  it("gives a fork's pull request that no one approved no organisation secret at all", async () => {
    const build = await forkPullRequest(s, { number: 8, branch: 'fork-unapproved', approve: false });
    expect((await detailsOf(build)).secrets).toEqual([]);
  });

  it('never wrote a secret value to the server or runner log', () => {
    for (const value of [ORG_TOKEN, ORG_SHARED, REPO_SHARED, ORG_PR, ACME_ONLY]) {
      for (const line of [...logs.lines, ...runnerLogs.lines]) expect(line).not.toContain(value);
    }
  });
});
