// The server and the runner read one text: the pipeline file with the build's facts
// substituted. A secret named with ${DRONE_BRANCH}, a step named with it and a trigger
// written with it mean the same to the server (stages, steps, secrets it hands out) as to
// the runner (what runs and reports), through a real server, runner and Docker.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Build, LogLine } from '../../core/domain.ts';
import { DockerBackend } from '../../runner/backend/docker/docker-backend.ts';
import { compileStagePlan } from '../../runner/compile-plan.ts';
import { executeStage } from '../../runner/execute-stage.ts';
import { LABEL_RUNNER } from '../../runner/labels.ts';
import { RpcClient } from '../../runner/rpc-client.ts';
import { testRunnerName } from '../../runner/testing/test-runner-names.ts';
import { githubScenario, SLUG, type GithubScenario } from '../support/scenario.ts';
import { TEST_RPC_SECRET } from '../support/server.ts';

const KEY = 'feed'.repeat(16);
const TOKEN = 'token-of-main-5e1d';

// $$ keeps `$` for the shell; the name `token_${DRONE_BRANCH}` is substituted in the file.
const PIPELINE = `kind: pipeline
type: docker
name: default
trigger:
  branch: \${DRONE_BRANCH}
steps:
- name: test-\${DRONE_BRANCH}
  image: alpine:3
  environment:
    TOKEN:
      from_secret: token_\${DRONE_BRANCH}
  commands:
  - test "$$TOKEN" = "${TOKEN}" && echo "secret of \${DRONE_BRANCH} arrived"
---
kind: pipeline
type: docker
name: elsewhere
trigger:
  branch: [not-\${DRONE_BRANCH}]
steps:
- name: never
  image: alpine:3
  commands: [echo never]
`;

describe.each(['sqlite', 'postgres'] as const)('a pipeline file substituted alike by server and runner on %s', (flavour) => {
  let s: GithubScenario;
  const runnerName = testRunnerName(`subst-${flavour}`);
  const backend = new DockerBackend();
  const workspaceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'harrier-substituted-'));

  beforeAll(async () => {
    s = await githubScenario({ pipeline: PIPELINE, flavour, env: { HARRIER_DATABASE_SECRET: KEY } });
    const res = await s.api(`/api/repos/${SLUG}/secrets`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'token_main', data: TOKEN }) });
    expect(res.status).toBe(200);
  });
  afterAll(async () => {
    await s?.close();
    await backend.removeLeftovers({ [LABEL_RUNNER]: runnerName });
    fs.rmSync(workspaceDir, { recursive: true, force: true });
  });

  const buildOf = async (number: number) => (await (await s.api(`/api/repos/${SLUG}/builds/${number}`)).json()) as Build;

  it('triggers on the substituted branch, records the substituted step, hands out the substituted secret, and the runner runs and logs that step', async () => {
    const { responses } = await s.push({ 'a.txt': 'a' }, 'Substituted names');
    const created = await responses[0].build();
    const recorded = await buildOf(created.number);
    expect(recorded.stages!.map((st) => [st.name, st.steps!.map((step) => step.name)])).toEqual([['default', ['clone', 'test-main']]]);

    const rpc = new RpcClient({ serverUrl: s.server.host, secret: TEST_RPC_SECRET, runner: runnerName, attempts: 1 });
    const stage = (await rpc.request({ name: runnerName, labels: {}, capacity: 1, running: [], os: 'linux', arch: 'amd64', version: 'test' }))!;
    expect((await rpc.accept(stage.id, runnerName)).accepted).toBe(true);
    const details = await rpc.details(stage.id);
    expect(details.secrets).toEqual([{ name: 'token_main', value: TOKEN }]);

    const outcome = await executeStage(details, { rpc, backend, compile: compileStagePlan, workspaceDir, runnerName });
    expect(outcome).toEqual({ status: 'success', error: '' });
    const done = await buildOf(created.number);
    expect(done.status).toBe('success');
    expect(done.stages![0].steps!.map((step) => [step.name, step.status])).toEqual([['clone', 'success'], ['test-main', 'success']]);
    const lines = ((await (await s.api(`/api/repos/${SLUG}/builds/${created.number}/logs/1/2`)).json()) as LogLine[]).map((l) => l.out);
    expect(lines).toContain('secret of main arrived\n');
  });

  it('reads the file substituted again when the build is restarted', async () => {
    const old = await buildOf(1);
    const res = await s.api(`/api/repos/${SLUG}/builds/${old.number}`, { method: 'POST' });
    expect(res.status).toBe(200);
    const restarted = (await res.json()) as Build;
    expect(restarted.stages!.map((st) => [st.name, st.steps!.map((step) => step.name)])).toEqual([['default', ['clone', 'test-main']]]);
  });

  it('names the steps of builds made at the same time each with its own number', async () => {
    const numbered = 'kind: pipeline\ntype: docker\nname: default\nsteps:\n- name: step-${DRONE_BUILD_NUMBER}\n  image: alpine:3\n  commands: [true]\n';
    const shas = [1, 2, 3].map((i) => s.git.commit({ '.drone.yml': numbered, 'n.txt': String(i) }, `Numbered ${i}`));
    const delivered = await Promise.all(shas.map((after) => s.fake.push(SLUG, { after })));
    const builds = await Promise.all(delivered.map(async ([res]) => buildOf((await res.build()).number)));
    for (const b of builds) expect(b.stages![0].steps!.map((step) => step.name)).toEqual(['clone', `step-${b.number}`]);
    expect(new Set(builds.map((b) => b.number)).size).toBe(3);
  });

  it('reads the file from GitHub once when another build takes the number meanwhile, and substitutes the number the build gets', async () => {
    const numbered = 'kind: pipeline\ntype: docker\nname: default\nsteps:\n- name: step-${DRONE_BUILD_NUMBER}\n  image: alpine:3\n  commands: [true]\n  when:\n    paths: ["**"]\n';
    const earlier = s.git.head();
    const sha = s.git.commit({ '.drone.yml': numbered, 'p.txt': 'p' }, 'Numbered, with paths');
    // `paths` makes the server ask for the changed files after it read the file for the next
    // number and before it stores the build: a manual build stored then takes that number.
    let taken: Build | undefined;
    s.fake.state.meanwhile = async (req) => {
      if (taken || !(req.path.includes('/compare/') || req.path.endsWith(`/commits/${sha}`))) return;
      taken = {} as Build;
      const res = await s.api(`/api/repos/${SLUG}/builds?commit=${earlier}`, { method: 'POST' });
      expect(res.status).toBe(200);
      taken = (await res.json()) as Build;
    };
    try {
      const [res] = await s.fake.push(SLUG, { after: sha });
      const built = await buildOf((await res.build()).number);
      expect(taken?.number).toBe(built.number - 1);
      expect(built.stages![0].steps!.map((step) => step.name)).toEqual(['clone', `step-${built.number}`]);
    } finally {
      s.fake.state.meanwhile = undefined;
    }
    const fileReads = s.fake.state.requests.items.filter((r) => r.path === `/api/v3/repos/${SLUG}/contents/.drone.yml` && r.query.includes(`ref=${sha}`));
    expect(fileReads).toHaveLength(1);
  });

  it('makes a substitution the file gets wrong an error build at its line and column', async () => {
    const { responses } = await s.push({ '.drone.yml': 'kind: pipeline\ntype: docker\nname: default\nsteps:\n- name: test-${DRONE_BRANCH\n  image: alpine:3\n' }, 'Unclosed');
    const created = await responses[0].build();
    expect(created.status).toBe('error');
    expect(created.error).toMatch(/^\.drone\.yml:5:14:? bad substitution `\$\{DRONE_BRANCH`/);
  });
});
