// End to end on the runner's side: .drone.yml text in, through the real compiler, the
// runner loop, a host clone and the Docker engine, to statuses and logs at the server.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StageDetails } from '../core/protocol.ts';
import { parsePipelines, stageSteps } from '../pipeline/index.ts';
import { DockerBackend } from './backend/docker/docker-backend.ts';
import { compileStagePlan } from './compile-plan.ts';
import { executeStage } from './execute-stage.ts';
import { LABEL_RUNNER } from './labels.ts';
import { RpcClient } from './rpc-client.ts';
import { runRunner } from './runner.ts';
import { FakeRpcServer } from './testing/fake-rpc-server.ts';
import { stageDetails, stepNamed } from './testing/stage-details.ts';
import { sweepStaleTestObjects, testRunnerName } from './testing/test-runner-names.ts';
import { meetCommands } from '../test/support/rendezvous.ts';

const secret = 'compiled-test-secret';
const runnerName = testRunnerName('compiled');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'harrier-compiled-test-'));
const origin = path.join(root, 'origin');
const backend = new DockerBackend();
let server: FakeRpcServer;
let sha = '';

beforeAll(async () => {
  await sweepStaleTestObjects();
  fs.mkdirSync(origin);
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.com', ...args], { cwd: origin, encoding: 'utf8' }).trim();
  git('init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(origin, 'hello.txt'), 'hello from the repository\n');
  git('add', '.');
  git('commit', '-q', '-m', 'first');
  sha = git('rev-parse', 'HEAD');
  server = await new FakeRpcServer({ secret, pollWindowMs: 5_000 }).start();
});

afterAll(async () => {
  await server.close();
  await backend.removeLeftovers({ [LABEL_RUNNER]: runnerName });
  fs.rmSync(root, { recursive: true, force: true });
});

/** Details as the server makes them: steps recorded with the compiler's numbering. */
function detailsFor(config: string, secrets: { name: string; value: string }[] = []): StageDetails {
  const parsed = parsePipelines(config);
  const steps = parsed.ok ? stageSteps(parsed.pipelines[0]).map((s) => s.name) : ['clone'];
  return stageDetails({ config, steps, remote: `file://${origin}`, after: sha, secrets });
}

const config = `
kind: pipeline
type: docker
name: default

steps:
- name: build
  image: alpine:3
  environment:
    TOKEN:
      from_secret: deploy_token
  commands:
  - cat hello.txt
  - echo "commit $DRONE_COMMIT_SHA token $TOKEN"
- name: unit
  image: alpine:3
  depends_on: [build]
  commands:
${meetCommands('unit', 'lint').map((c) => `  - ${JSON.stringify(c)}`).join('\n')}
- name: lint
  image: alpine:3
  depends_on: [build]
  commands:
${meetCommands('lint', 'unit').map((c) => `  - ${JSON.stringify(c)}`).join('\n')}
- name: only-on-failure
  image: alpine:3
  depends_on: [unit, lint]
  when:
    status: [failure]
  commands:
  - echo should not run
`;

describe('a compiled .drone.yml on the runner', () => {
  it('runs a queued stage from the file through clone, graph and Docker to success', async () => {
    const ac = new AbortController();
    const done = runRunner({
      config: { serverUrl: server.url, rpcSecret: secret, name: runnerName, capacity: 1, labels: {}, workspaceDir: path.join(root, 'ws') },
      rpc: new RpcClient({ serverUrl: server.url, secret, runner: runnerName }),
      backend,
      compile: compileStagePlan,
      logger: pino({ level: 'silent' }),
      signal: ac.signal,
    });
    const details = detailsFor(config, [{ name: 'deploy_token', value: 'tok-123-secret' }]);
    server.enqueue(details);
    await server.until(() => server.stageStatus(details.stage.id) === 'success' || server.stageStatus(details.stage.id) === 'failure', 60_000);
    ac.abort();
    await done;

    const status = (name: string) => server.stepStatus(stepNamed(details, name).id);
    expect(server.stageStatus(details.stage.id)).toBe('success');
    expect(['clone', 'build', 'unit', 'lint', 'only-on-failure'].map(status)).toEqual(['success', 'success', 'success', 'success', 'skipped']);
    const buildLog = server.logText(stepNamed(details, 'build').id);
    expect(buildLog).toContain('hello from the repository\n');
    expect(buildLog).toContain(`commit ${sha} token ******\n`);
    // unit and lint each waited for the other's mark: they ran at the same time.
    expect(server.logText(stepNamed(details, 'unit').id)).toContain('met lint\n');
    expect(server.logText(stepNamed(details, 'lint').id)).toContain('met unit\n');
    const left = ['ps', '-aq', '--filter', `label=io.harrier.stage=${details.stage.id}`, '--filter', `label=${LABEL_RUNNER}=${runnerName}`];
    expect(execFileSync('docker', left, { encoding: 'utf8' }).trim()).toBe('');
  });

  it('fails the stage as an error naming line and column when the file is malformed', async () => {
    const broken = 'kind: pipeline\ntype: docker\nname: default\nsteps:\n- name: build\n  commands: [true]\n';
    const details = detailsFor(broken);
    server.stages.set(details.stage.id, details);
    const outcome = await executeStage(details, {
      rpc: new RpcClient({ serverUrl: server.url, secret }),
      backend,
      compile: compileStagePlan,
      workspaceDir: path.join(root, 'ws'),
      runnerName,
    });
    expect(outcome.status).toBe('error');
    expect(outcome.error).toMatch(/^\.drone\.yml:5:3 .*image/);
    expect(server.stageUpdates.get(details.stage.id)?.at(-1)).toMatchObject({ status: 'error', error: outcome.error });
  });
});
