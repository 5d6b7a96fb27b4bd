// What the runner's operator adds to every stage (HARRIER_RUNNER_* settings), seen from inside
// the steps on the real Docker engine, through the real compiler: the env file, the clone
// credentials as DRONE_NETRC_*, in-memory volumes and registry logins; which steps the
// executor hands the backend privileged, for plugin images.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StageDetails } from '../core/protocol.ts';
import { TEST_IMAGES } from '../test/support/images.ts';
import type { Plan, PlanStep } from '../pipeline/types.ts';
import type { Backend, StepOutput, StepResult } from './backend/backend.ts';
import { DockerBackend } from './backend/docker/docker-backend.ts';
import { compileStagePlan } from './compile-plan.ts';
import { executeStage } from './execute-stage.ts';
import { LABEL_RUNNER } from './labels.ts';
import { RpcClient } from './rpc-client.ts';
import { MASK } from './secret-mask.ts';
import type { RunnerStageSettings } from './stage-execution.ts';
import { FakeBackend } from './testing/fake-backend.ts';
import { FakeRpcServer } from './testing/fake-rpc-server.ts';
import { type RegistryStandIn, startRegistry } from './testing/registry-server.ts';
import { type DetailsInput, stageDetails, stepNamed } from './testing/stage-details.ts';
import { sweepStaleTestObjects, testRunnerName } from './testing/test-runner-names.ts';

const secret = 'stage-settings-secret';
const runnerName = testRunnerName('settings');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'harrier-stage-settings-'));
const backend = new DockerBackend();
const pulled: string[] = [];
let server: FakeRpcServer;
let rpc: RpcClient;

beforeAll(async () => {
  await sweepStaleTestObjects();
  server = await new FakeRpcServer({ secret, pollWindowMs: 1_000 }).start();
  rpc = new RpcClient({ serverUrl: server.url, secret });
});

afterAll(async () => {
  await server.close();
  await backend.removeLeftovers({ [LABEL_RUNNER]: runnerName });
  for (const image of pulled) execFileSync('docker', ['rmi', '-f', image], { stdio: 'ignore' });
  fs.rmSync(root, { recursive: true, force: true });
});

const pipeline = (body: string) => `kind: pipeline\ntype: docker\nname: default\nclone:\n  disable: true\n${body}`;

interface SettingsRun extends Partial<DetailsInput> {
  config: string;
  steps: string[];
  settings?: RunnerStageSettings;
  backend?: Backend;
  /** Changes to the details the server would send (a private repository, a fork's pull request). */
  edit?: (details: StageDetails) => void;
}

async function run(input: SettingsRun) {
  const details = stageDetails(input);
  input.edit?.(details);
  server.stages.set(details.stage.id, details);
  const outcome = await executeStage(details, {
    rpc,
    backend: input.backend ?? backend,
    compile: compileStagePlan,
    workspaceDir: path.join(root, 'ws'),
    runnerName,
    settings: input.settings,
  });
  const step = (name: string) => {
    const s = stepNamed(details, name);
    return { log: server.logText(s.id), last: server.stepUpdates.get(s.id)?.at(-1) };
  };
  return { outcome, step };
}

describe('HARRIER_RUNNER_ENV_FILE', () => {
  it('reaches every step and service, below the pipeline environment and Drone variables', async () => {
    const config = pipeline(`environment:
  SHARED: from-pipeline
services:
- name: svc
  image: ${TEST_IMAGES.alpine}
  commands:
  - echo "$ONLY_RUNNER" > /drone/src/from-service
  - sleep 60
steps:
- name: show
  image: ${TEST_IMAGES.alpine}
  commands:
  - echo "[$ONLY_RUNNER|$SHARED|$DRONE_BUILD_NUMBER|$STEP_OWN]"
  - for i in $(seq 1 300); do [ -s /drone/src/from-service ] && break; sleep 0.1; done
  - echo "service saw $(cat /drone/src/from-service)"
  environment:
    STEP_OWN: from-step
`);
    const environ = { ONLY_RUNNER: 'runner-value', SHARED: 'from-file', DRONE_BUILD_NUMBER: '999', STEP_OWN: 'from-file' };
    const r = await run({ config, steps: ['svc', 'show'], settings: { environ } });
    expect(r.outcome.status).toBe('success');
    expect(r.step('show').log).toContain('\n[runner-value|from-pipeline|1|from-step]\n');
    expect(r.step('show').log).toContain('\nservice saw runner-value\n');
  });
});

describe('DRONE_NETRC_* in the steps', () => {
  const netrc = { machine: 'git.example.com', login: 'netrc-login-name', password: 'netrc-password-value' };
  const config = pipeline(`steps:
- name: show
  image: ${TEST_IMAGES.alpine}
  commands:
  - echo "machine=$\${DRONE_NETRC_MACHINE-unset} user=$\${DRONE_NETRC_USERNAME-unset} password=$\${DRONE_NETRC_PASSWORD-unset} length=$\${#DRONE_NETRC_PASSWORD}"
  - echo "file=$\${DRONE_NETRC_FILE-unset}"
`);
  const privateRepo = (more: (d: StageDetails) => void = () => {}) => (d: StageDetails) => {
    d.repo.private = true;
    d.netrc = netrc;
    more(d);
  };

  it('carry the clone credentials of a private repository, masked in the log like secrets', async () => {
    const r = await run({ config, steps: ['show'], edit: privateRepo() });
    expect(r.outcome.status).toBe('success');
    const log = r.step('show').log;
    expect(log).toContain(`\nmachine=git.example.com user=${MASK} password=${MASK} length=${netrc.password.length}\n`);
    expect(log).toContain(`\nfile=machine git.example.com login ${MASK} password ${MASK}\n`);
    expect(log).not.toContain(netrc.password);
  });

  it('are left out with HARRIER_RUNNER_NETRC_CLONE_ONLY, and for a public repository', async () => {
    const cloneOnly = await run({ config, steps: ['show'], edit: privateRepo(), settings: { netrcCloneOnly: true } });
    expect(cloneOnly.step('show').log).toContain('\nmachine=unset user=unset password=unset length=0\n');
    const publicRepo = await run({ config, steps: ['show'] });
    expect(publicRepo.step('show').log).toContain('\nmachine=unset user=unset password=unset length=0\n');
  });

  it('are never given to a fork\'s pull request, approved or not', async () => {
    const fork = (approvedBy: string) => privateRepo((d) => {
      d.build.event = 'pull_request';
      d.build.source_repo = 'stranger/hello';
      d.build.approved_by = approvedBy;
    });
    for (const approvedBy of ['', 'octocat']) {
      const r = await run({ config, steps: ['show'], event: 'pull_request', edit: fork(approvedBy) });
      expect(r.outcome.status).toBe('success');
      expect(r.step('show').log).toContain('\nmachine=unset user=unset password=unset length=0\n');
    }
    // A pull request from a branch of the repository itself is no fork.
    const own = await run({ config, steps: ['show'], event: 'pull_request', edit: privateRepo((d) => (d.build.source_repo = d.repo.slug)) });
    expect(own.step('show').log).toContain('\nmachine=git.example.com ');
  });
});

/** Runs no container: records whether each step was handed to the backend privileged (this test engine may not run privileged containers). */
class PrivilegeRecorder extends FakeBackend {
  readonly privileged = new Map<string, boolean>();
  override async run(plan: Plan, step: PlanStep, output: StepOutput, signal: AbortSignal): Promise<StepResult> {
    this.privileged.set(step.name, step.privileged);
    return super.run(plan, step, output, signal);
  }
}

describe('HARRIER_RUNNER_PRIVILEGED_IMAGES', () => {
  const config = pipeline(`steps:
- name: plugin
  image: plugins/docker:20
- name: scripted
  image: plugins/docker:20
  commands:
  - docker info
`);
  const settings: RunnerStageSettings = { privilegedImages: ['plugins/docker'] };
  const forkPullRequest = (approvedBy: string) => (d: StageDetails) => {
    d.build.source_repo = 'stranger/hello';
    d.build.approved_by = approvedBy;
  };
  async function privileged(input: Omit<SettingsRun, 'config' | 'steps'>) {
    const recorder = new PrivilegeRecorder();
    const r = await run({ config, steps: ['plugin', 'scripted'], backend: recorder, ...input });
    expect(r.outcome.status).toBe('success');
    return Object.fromEntries(recorder.privileged);
  }

  it('runs a listed image privileged when used as a plugin, never when the step has its own commands', async () => {
    expect(await privileged({ settings })).toEqual({ plugin: true, scripted: false });
    expect(await privileged({})).toEqual({ plugin: false, scripted: false });
  });

  it('gives no privilege to a fork\'s pull request until someone approved it', async () => {
    expect(await privileged({ event: 'pull_request', settings, edit: forkPullRequest('') })).toEqual({ plugin: false, scripted: false });
    expect(await privileged({ event: 'pull_request', settings, edit: forkPullRequest('octocat') })).toEqual({ plugin: true, scripted: false });
  });
});

describe('temp volumes with medium memory', () => {
  it('are a tmpfs of the pipeline\'s size_limit in a trusted repository', async () => {
    const config = pipeline(`volumes:
- name: ram
  temp:
    medium: memory
    size_limit: 16Mi
steps:
- name: show
  image: ${TEST_IMAGES.alpine}
  volumes:
  - name: ram
    path: /ram
  commands:
  - grep " /ram " /proc/mounts
`);
    const r = await run({ config, steps: ['show'], edit: (d) => (d.repo.trusted = true) });
    expect(r.outcome.status).toBe('success');
    expect(r.step('show').log).toMatch(/\ntmpfs \/ram tmpfs rw,.*size=16384k/);
  });
});

describe('HARRIER_RUNNER_REGISTRY_CONFIG', () => {
  let registry: RegistryStandIn;
  const login = { username: 'puller', password: 'registry-password-1' };

  beforeAll(async () => {
    registry = await startRegistry({ image: TEST_IMAGES.alpine, ...login });
  });
  afterAll(() => registry?.close());

  /** A name no earlier test pulled, so the engine cannot fall back to a copy it has. */
  function privateImage(): string {
    const image = `${registry.host}/team/private-${crypto.randomBytes(4).toString('hex')}:1`;
    pulled.push(image);
    return image;
  }
  const config = (image: string, more = '') => pipeline(`${more}steps:
- name: private
  image: ${image}
  commands:
  - echo pulled-and-ran
`);
  const runnerLogin = (password: string): RunnerStageSettings => ({ registryCredentials: [{ registry: registry.host, username: login.username, password }] });

  it('lets every pull use the runner\'s login, and the pull is refused without it', async () => {
    const refusedImage = privateImage();
    const refused = await run({ config: config(refusedImage), steps: ['private'] });
    expect(refused.outcome.status).toBe('error');
    expect(refused.step('private').last?.error).toContain(`image "${refusedImage}" is not available: pull failed`);
    expect(registry.refused).toBeGreaterThan(0);

    const r = await run({ config: config(privateImage()), steps: ['private'], settings: runnerLogin(login.password) });
    expect(r.outcome.status).toBe('success');
    expect(r.step('private').log).toContain('\npulled-and-ran\n');
  });

  it('ranks the pipeline\'s image_pull_secrets above the runner\'s login', async () => {
    const dockerconfig = (password: string) => JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from(`${login.username}:${password}`).toString('base64') } } });
    const withSecret = (password: string) => ({ secrets: [{ name: 'dockerconfig', value: dockerconfig(password) }] });
    const pullSecrets = 'image_pull_secrets:\n- dockerconfig\n';

    const secretWins = await run({ config: config(privateImage(), pullSecrets), steps: ['private'], ...withSecret(login.password), settings: runnerLogin('wrong-password') });
    expect(secretWins.outcome.status).toBe('success');
    const wrongSecret = await run({ config: config(privateImage(), pullSecrets), steps: ['private'], ...withSecret('wrong-password'), settings: runnerLogin(login.password) });
    expect(wrongSecret.outcome.status).toBe('error');
  });
});
