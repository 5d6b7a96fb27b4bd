// `harrier runner` as an operator runs it (the build in dist/, which npm test makes), against
// the in-test server: what SIGTERM does to the process and to the stage it runs.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnHarrier } from '../test/support/processes.ts';
import { TEST_IMAGES } from '../test/support/images.ts';
import { FakeRpcServer } from './testing/fake-rpc-server.ts';
import { stageDetails } from './testing/stage-details.ts';
import { testRunnerName } from './testing/test-runner-names.ts';

const secret = 'runner-process-secret';
const workspaceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'harrier-runner-process-'));
let server: FakeRpcServer;

afterAll(() => fs.rmSync(workspaceDir, { recursive: true, force: true }));
beforeEach(async () => {
  server = await new FakeRpcServer({ secret, pollWindowMs: 5_000 }).start();
});
afterEach(() => server.close());

function runner(name: string, graceSeconds: number, more: Record<string, string> = {}) {
  return spawnHarrier('runner', {
    ...more,
    HARRIER_SERVER_URL: server.url,
    HARRIER_RPC_SECRET: secret,
    HARRIER_RUNNER_NAME: name,
    HARRIER_RUNNER_CAPACITY: '1',
    HARRIER_RUNNER_WORKSPACE: workspaceDir,
    HARRIER_RUNNER_GRACE_SECONDS: String(graceSeconds),
  });
}

const containersOf = (name: string) => execFileSync('docker', ['ps', '-aq', '--filter', `label=io.harrier.runner=${name}`], { encoding: 'utf8' }).trim();
const networksOf = (name: string) => execFileSync('docker', ['network', 'ls', '-q', '--filter', `label=io.harrier.runner=${name}`], { encoding: 'utf8' }).trim();

describe('harrier runner', () => {
  it('exits 0 on SIGTERM while idle, saying it was stopping', async () => {
    const name = testRunnerName('idle-stop');
    const proc = runner(name, 30);
    await server.until(() => server.calls.some((c) => c.path === '/request'));
    expect(await proc.stop()).toBe(0);
    expect(server.pings().some((p) => p.stopping)).toBe(true);
    expect(proc.events.some((e) => e.event === 'runner_stopped')).toBe(true);
  });

  it('refuses to start with an env file holding a line that is not KEY=VALUE, naming the file and the line', async () => {
    const envFile = path.join(workspaceDir, 'bad.env');
    fs.writeFileSync(envFile, '# proxies\nHTTP_PROXY=http://proxy:3128\nNO_PROXY localhost\n');
    const proc = runner(testRunnerName('bad-env'), 30, { HARRIER_RUNNER_ENV_FILE: envFile });
    const code = proc.child.exitCode ?? (await new Promise((resolve) => proc.child.once('exit', resolve)));
    expect(code).toBe(1);
    expect(proc.output()).toContain(`HARRIER_RUNNER_ENV_FILE=${envFile}: line 3 is not KEY=VALUE: "NO_PROXY localhost"`);
    expect(server.calls.some((c) => c.path === '/request')).toBe(false);
  });

  it('on SIGTERM kills a stage still running when the grace period ends, removes its containers and the networks it kept, and exits 0', async () => {
    const name = testRunnerName('grace-stop');
    const details = stageDetails({
      config: `kind: pipeline\ntype: docker\nname: default\nclone:\n  disable: true\nsteps:\n- name: forever\n  image: ${TEST_IMAGES.busybox}\n  commands:\n  - echo up\n  - sleep 600\n`,
      steps: ['forever'],
    });
    const step = details.stage.steps![0];
    const proc = runner(name, 1);
    server.enqueue(details);
    await server.until(() => server.logText(step.id).includes('up'), 60_000);
    // The stage's network is one the runner keeps for its next stage, labelled with its name.
    expect(networksOf(name)).not.toBe('');
    const exit = proc.stop();
    await server.until(() => server.pings().some((p) => p.stopping && p.running.includes(details.stage.id)));
    expect(await exit).toBe(0);
    expect(server.stageUpdates.get(details.stage.id)!.at(-1)).toMatchObject({ status: 'killed', error: `runner ${name} shut down before the stage finished` });
    expect(server.stepStatus(step.id)).toBe('killed');
    expect(containersOf(name)).toBe('');
    expect(networksOf(name)).toBe('');
  });
});
