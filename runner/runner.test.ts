import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import pino from 'pino';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AcceptRequest, StageDetails } from '../core/protocol.ts';
import type { Pipeline } from '../pipeline/types.ts';
import { TEST_IMAGES } from '../test/support/images.ts';
import type { Backend } from './backend/backend.ts';
import { DockerBackend } from './backend/docker/docker-backend.ts';
import { loadRunnerConfig, type RunnerConfig } from './config.ts';
import type { StageCompiler } from './execute-stage.ts';
import { RpcClient } from './rpc-client.ts';
import { type RunnerRpc, runnerWorkspaceDir, runRunner } from './runner.ts';
import { FakeBackend } from './testing/fake-backend.ts';
import { FakeRpcServer } from './testing/fake-rpc-server.ts';
import { handPlan } from './testing/hand-plan.ts';
import { stageDetails } from './testing/stage-details.ts';
import { testRunnerName } from './testing/test-runner-names.ts';

const secret = 'runner-test-secret';
const workspaceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'harrier-runner-test-'));
const silent = pino({ level: 'silent' });
let server: FakeRpcServer;

afterAll(() => fs.rmSync(workspaceDir, { recursive: true, force: true }));
beforeEach(async () => {
  server = await new FakeRpcServer({ secret, pollWindowMs: 5_000 }).start();
});
afterEach(() => server.close());

/** The environment of the one step of each test stage, by stage id: SLEEP_MS or GATE (FakeBackend). */
const stepEnv = new Map<number, Record<string, string>>();

/** A stage of one step that takes `ms` on the fake backend; no clone. */
function quickStage(ms: number): StageDetails {
  const details = stageDetails({ config: '', steps: ['work'] });
  stepEnv.set(details.stage.id, { SLEEP_MS: String(ms) });
  return details;
}

/** A stage of one step that runs until the test opens the gate of that name on the fake backend. */
function gatedStage(gate: string): StageDetails {
  const details = stageDetails({ config: '', steps: ['work'] });
  stepEnv.set(details.stage.id, { GATE: gate });
  return details;
}

const compile: StageCompiler = (details, request) => ({
  ok: true,
  pipeline: { name: 'default', clone: { disable: true, depth: 0, retries: 0 } } as Pipeline,
  plan: handPlan([{ name: 'work', env: stepEnv.get(details.stage.id) ?? {} }], { labels: request.labels }),
});

/** Log records as pino writes them, for the events a runner logs. */
type LogRecord = { event?: string; stage?: number; reason?: string } & Record<string, unknown>;

interface StartOptions {
  /** The runner's settings read from these variables (HARRIER_RPC_SECRET is the test's). */
  env?: Record<string, string>;
  capacity?: number;
  grace?: number;
  backend?: Backend;
  name?: string;
  pingIntervalMs?: number;
  healthRetryMs?: number;
  /** Wraps the client, to act at a chosen moment of a call. */
  wrap?: (rpc: RpcClient, stop: AbortController) => RunnerRpc;
}

function start(options: StartOptions = {}) {
  const ac = new AbortController();
  const name = options.name ?? 'test-runner';
  const config: RunnerConfig = {
    serverUrl: server.url,
    rpcSecret: secret,
    name,
    capacity: options.capacity ?? 1,
    labels: {},
    workspaceDir,
    shutdownGraceSeconds: options.grace ?? 30,
    stageSettings: options.env ? loadRunnerConfig({ ...options.env, HARRIER_RPC_SECRET: secret }).stageSettings : undefined,
  };
  const backend = options.backend ?? new FakeBackend();
  const logs: LogRecord[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as LogRecord) });
  const client = new RpcClient({ serverUrl: server.url, secret, runner: name, retryBaseMs: 10, retryMaxMs: 50 });
  const done = runRunner({
    config,
    rpc: options.wrap ? options.wrap(client, ac) : client,
    backend,
    compile,
    logger,
    signal: ac.signal,
    pingIntervalMs: options.pingIntervalMs,
    healthRetryMs: options.healthRetryMs,
  });
  const events = (event: string) => logs.filter((l) => l.event === event);
  return { ac, done, backend, events };
}

const requests = () => server.calls.filter((c) => c.path === '/request');
const acceptOf = (id: number) => server.calls.find((c) => c.path === `/stages/${id}/accept`);
/** Calls that say something about a stage's state or its steps' (not its build's watch). */
const reportsAbout = (id: number) => server.callsAbout(id).filter((c) => c.method === 'POST' && !c.path.endsWith('/accept') && !c.path.endsWith('/release'));
/** Stage workspaces still on disk for a stage. */
const workspacesOf = (runner: string, id: number) =>
  fs.existsSync(runnerWorkspaceDir(workspaceDir, runner)) ? fs.readdirSync(runnerWorkspaceDir(workspaceDir, runner)).filter((d) => d.startsWith(`stage-${id}-`)) : [];
/** The runner pinged without the stage after it learned it lost it: its teardown is over. */
const pingedWithoutAfter = (id: number, seq: number) => server.pings().some((p) => p.seq > seq && !p.running.includes(id));

describe('runRunner', () => {
  // How fast is measured by bench/pickup-latency.ts; here, that nothing sits between queuing and taking.
  it('takes a stage queued while it idles through the long poll it already holds, without polling again', async () => {
    const r = start();
    await server.until(() => requests().length >= 1);
    const details = quickStage(0);
    server.enqueue(details);
    await server.until(() => acceptOf(details.stage.id) !== undefined);
    const accept = acceptOf(details.stage.id)!;
    expect(requests().filter((c) => c.seq < accept.seq)).toHaveLength(1);
    await server.until(() => server.stageStatus(details.stage.id) === 'success');
    r.ac.abort();
    await r.done;
  });

  it('hands every stage the settings read from HARRIER_RUNNER_ENV_FILE and HARRIER_RUNNER_NETRC_CLONE_ONLY', async () => {
    const envFile = path.join(workspaceDir, 'runner.env');
    fs.writeFileSync(envFile, '# every step\nHTTP_PROXY=http://proxy.internal:3128\nSLEEP_MS=5000\n');
    const seen: Record<string, string>[] = [];
    const backend = new (class extends FakeBackend {
      override run(...args: Parameters<FakeBackend['run']>) {
        seen.push(args[1].env);
        return super.run(...args);
      }
    })();
    const r = start({ backend, env: { HARRIER_RUNNER_ENV_FILE: envFile, HARRIER_RUNNER_NETRC_CLONE_ONLY: 'true' } });
    const details = quickStage(0);
    details.repo.private = true;
    details.netrc = { machine: 'git.example.com', login: 'netrc-login', password: 'netrc-password' };
    server.enqueue(details);
    await server.until(() => server.stageStatus(details.stage.id) === 'success');
    // The plan's own SLEEP_MS wins over the file's.
    expect(seen).toEqual([expect.objectContaining({ HTTP_PROXY: 'http://proxy.internal:3128', SLEEP_MS: '0' })]);
    expect(seen[0].DRONE_NETRC_PASSWORD).toBeUndefined();
    r.ac.abort();
    await r.done;
  });

  it('runs a stage once when both of its slots were offered it before either accepted', async () => {
    const r = start({ capacity: 2 });
    await server.until(() => requests().length >= 2);
    const details = quickStage(0);
    // Both held polls answer with the same stage, and accept answers this runner alike both times.
    server.enqueue(details);
    server.enqueue(details);
    await server.until(() => server.stageStatus(details.stage.id) === 'success');
    const detailsCalls = server.callsAbout(details.stage.id).filter((c) => c.path.endsWith('/details'));
    expect(detailsCalls).toHaveLength(1);
    r.ac.abort();
    await r.done;
  });

  it('polls again when another runner took the offered stage (409), and runs the next one', async () => {
    const r = start();
    const taken = quickStage(0);
    const mine = quickStage(0);
    server.takenElsewhere.add(taken.stage.id);
    server.enqueue(taken);
    server.enqueue(mine);
    await server.until(() => server.stageStatus(mine.stage.id) === 'success');
    expect(acceptOf(taken.stage.id)).toBeDefined();
    expect(server.stageUpdates.get(taken.stage.id)).toBeUndefined();
    expect(server.calls.some((c) => c.path === `/stages/${taken.stage.id}/details`)).toBe(false);
    r.ac.abort();
    await r.done;
  });

  it('runs as many stages at once as its capacity allows, and no more', async () => {
    const r = start({ capacity: 2 });
    const stages = [quickStage(400), quickStage(400), quickStage(400)];
    for (const s of stages) server.enqueue(s);
    await server.until(() => stages.every((s) => server.stageStatus(s.stage.id) === 'success'));
    expect((r.backend as FakeBackend).maxRunning).toBe(2);
    r.ac.abort();
    await r.done;
  });

  it('pings at start and then regularly with the stages it is running', async () => {
    const r = start({ pingIntervalMs: 50 });
    const details = quickStage(500);
    await server.until(() => server.calls.some((c) => c.path === '/ping'));
    server.enqueue(details);
    await server.until(() => server.calls.some((c) => c.path === '/ping' && (c.body as { running: number[] }).running.includes(details.stage.id)));
    const ping = server.calls.find((c) => c.path === '/ping')!.body as { name: string; capacity: number; arch: string };
    expect(ping).toMatchObject({ name: 'test-runner', capacity: 1 });
    r.ac.abort();
    await r.done;
  });

  it('stops polling at once when aborted while idle', async () => {
    // The server holds these polls past the test's time limit: only the runner can end them.
    server.pollWindowMs = 10 * 60_000;
    const r = start({ capacity: 3 });
    await server.until(() => requests().length >= 3);
    r.ac.abort();
    await r.done;
    expect(requests()).toHaveLength(3);
  });

  it('lets a running stage finish after the abort, without taking new ones', async () => {
    const r = start();
    const running = quickStage(600);
    server.enqueue(running);
    await server.until(() => server.stageStatus(running.stage.id) === 'running');
    r.ac.abort();
    const heardBeforeAbort = server.receivedCount;
    const later = quickStage(0);
    server.enqueue(later);
    await r.done;
    expect(server.stageStatus(running.stage.id)).toBe('success');
    expect(acceptOf(later.stage.id)).toBeUndefined();
    expect(requests().every((c) => c.seq <= heardBeforeAbort)).toBe(true);
  });

  it('kills stages still running when the grace period ends', async () => {
    const r = start({ grace: 0.2 });
    // Left to finish, the step would outlast the test's time limit.
    const long = quickStage(10 * 60_000);
    server.enqueue(long);
    await server.until(() => server.stageStatus(long.stage.id) === 'running');
    r.ac.abort();
    await r.done;
    expect(server.stageStatus(long.stage.id)).toBe('killed');
  });

  it('removes containers, networks and volumes a crashed run of the same runner left behind', async () => {
    const name = testRunnerName('crashed');
    const labels = ['--label', 'io.harrier.managed=true', '--label', `io.harrier.runner=${name}`];
    execFileSync('docker', ['network', 'create', ...labels, `${name}-net`]);
    execFileSync('docker', ['volume', 'create', ...labels, `${name}-vol`]);
    execFileSync('docker', ['create', ...labels, '--name', `${name}-step`, TEST_IMAGES.busybox, 'sleep', '60']);
    execFileSync('docker', ['create', '--label', 'io.harrier.managed=true', '--label', 'io.harrier.runner=someone-else', '--name', `${name}-other`, TEST_IMAGES.busybox, 'true']);
    try {
      const r = start({ name, backend: new DockerBackend() });
      await server.until(() => requests().length >= 1);
      const ps = (filter: string) => execFileSync('docker', ['ps', '-aq', '--filter', filter], { encoding: 'utf8' }).trim();
      expect(ps(`label=io.harrier.runner=${name}`)).toBe('');
      expect(execFileSync('docker', ['network', 'ls', '-q', '--filter', `label=io.harrier.runner=${name}`], { encoding: 'utf8' }).trim()).toBe('');
      expect(execFileSync('docker', ['volume', 'ls', '-q', '--filter', `label=io.harrier.runner=${name}`], { encoding: 'utf8' }).trim()).toBe('');
      expect(r.events('leftovers_removed')[0]).toMatchObject({ objects: 3 });
      expect(ps(`name=${name}-other`)).not.toBe('');
      r.ac.abort();
      await r.done;
    } finally {
      execFileSync('docker', ['rm', '-f', `${name}-other`]);
    }
  });

  it('removes the workspaces a crashed run of the same runner left behind, and no other runner\'s', async () => {
    const name = testRunnerName('workspaces');
    const mine = path.join(runnerWorkspaceDir(workspaceDir, name), 'stage-1-crashed');
    const other = path.join(runnerWorkspaceDir(workspaceDir, `${name}-other`), 'stage-2-running');
    for (const dir of [mine, other]) fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
    const r = start({ name });
    await server.until(() => requests().length >= 1);
    expect(fs.existsSync(mine)).toBe(false);
    expect(fs.existsSync(other)).toBe(true);
    expect(r.events('leftovers_removed')[0]).toMatchObject({ objects: 0, workspaces: 1 });
    r.ac.abort();
    await r.done;
  });

  it('works in a folder of its own under the workspace root', async () => {
    const r = start({ name: 'ws-owner' });
    const details = gatedStage('ws-owner');
    server.enqueue(details);
    await server.until(() => server.stepStatus(details.stage.steps![0].id) === 'running');
    expect(workspacesOf('ws-owner', details.stage.id)).toHaveLength(1);
    (r.backend as FakeBackend).open('ws-owner');
    await server.until(() => server.stageStatus(details.stage.id) === 'success');
    r.ac.abort();
    await r.done;
    expect(workspacesOf('ws-owner', details.stage.id)).toEqual([]);
  });

  it('names itself in the runner header on every call it makes', async () => {
    const r = start({ pingIntervalMs: 50 });
    const details = quickStage(100);
    server.enqueue(details);
    await server.until(() => server.stageStatus(details.stage.id) === 'success');
    r.ac.abort();
    await r.done;
    const kinds = new Set(server.calls.map((c) => c.path.replace(/\d+/g, 'N')));
    expect(kinds).toEqual(new Set(['/ping', '/request', '/stages/N/accept', '/stages/N/details', '/stages/N', '/steps/N', '/steps/N/logs', '/builds/N/watch']));
    expect(server.calls.filter((c) => c.runner !== 'test-runner')).toEqual([]);
    expect(server.pings()[0]).toMatchObject({ instance: expect.stringMatching(/\S/), sick: '', stopping: false });
  });

  it('sends the token it accepted a stage with on every call about the stage and its build, the same one when it accepts again', async () => {
    const r = start({ pingIntervalMs: 50 });
    const details = quickStage(100);
    server.dropAcceptAnswer.add(details.stage.id);
    server.enqueue(details);
    await server.until(() => server.stageStatus(details.stage.id) === 'success');
    r.ac.abort();
    await r.done;
    const accepts = server.calls.filter((c) => c.path === `/stages/${details.stage.id}/accept`);
    expect(accepts.map((c) => c.status)).toEqual([0, 200]);
    const token = (accepts[0].body as AcceptRequest).token;
    expect((accepts[1].body as AcceptRequest).token).toBe(token);
    const about = [...server.callsAbout(details.stage.id), ...server.calls.filter((c) => c.path === `/builds/${details.build.id}/watch`)].filter((c) => !c.path.endsWith('/accept'));
    expect(new Set(about.map((c) => c.path.replace(/\d+/g, 'N')))).toEqual(new Set(['/stages/N/details', '/stages/N', '/steps/N', '/steps/N/logs', '/builds/N/watch']));
    expect(about.filter((c) => c.stageToken !== token)).toEqual([]);
    // The fake refuses a wrong token as the server does, so none was refused.
    expect(server.calls.filter((c) => c.status === 403)).toEqual([]);
  });

  it('gets the stage by accepting again when the answer to its accept was lost', async () => {
    const r = start();
    const details = quickStage(0);
    server.dropAcceptAnswer.add(details.stage.id);
    server.enqueue(details);
    await server.until(() => server.stageStatus(details.stage.id) === 'success');
    const accepts = server.calls.filter((c) => c.path === `/stages/${details.stage.id}/accept`);
    expect(accepts.map((c) => c.status)).toEqual([0, 200]);
    expect(server.stageUpdates.get(details.stage.id)!.map((u) => u.status)).toEqual(['running', 'success']);
    r.ac.abort();
    await r.done;
  });
});

describe('runRunner leases', () => {
  it('pings as often as a short lease time asks while a step runs', async () => {
    // Left at the default 15 s between pings, five pings would take a minute: longer than `until` waits.
    server.leaseSeconds = 0.4;
    const r = start();
    const details = gatedStage('lease');
    server.enqueue(details);
    await server.until(() => server.pings().filter((p) => p.running.includes(details.stage.id)).length >= 5);
    (r.backend as FakeBackend).open('lease');
    await server.until(() => server.stageStatus(details.stage.id) === 'success');
    r.ac.abort();
    await r.done;
  });

  it('stops a stage a ping answer says it lost, removes its containers and workspace, and reports nothing more for it', async () => {
    const r = start({ pingIntervalMs: 50 });
    const backend = r.backend as FakeBackend;
    const details = gatedStage('never-opened-lost');
    const step = details.stage.steps![0];
    server.enqueue(details);
    await server.until(() => server.logText(step.id).includes('running work') && server.stepStatus(step.id) === 'running');
    server.loseStage(details.stage.id);
    await server.until(() => server.lostAnswered.has(details.stage.id));
    const told = server.lostAnswered.get(details.stage.id)!;
    await server.until(() => pingedWithoutAfter(details.stage.id, told));
    expect(backend.aborted).toEqual(['work']);
    expect(backend.destroyed).toHaveLength(1);
    expect(workspacesOf('test-runner', details.stage.id)).toEqual([]);
    expect(reportsAbout(details.stage.id).filter((c) => c.seq > told)).toEqual([]);
    expect(server.stageStatus(details.stage.id)).toBe('running');
    expect(r.events('stage_lost')).toEqual([expect.objectContaining({ stage: details.stage.id, reason: expect.stringContaining('no longer holds') })]);
    // The slot is free again: the runner takes the next stage.
    const next = quickStage(0);
    server.enqueue(next);
    await server.until(() => server.stageStatus(next.stage.id) === 'success');
    r.ac.abort();
    await r.done;
  });

  it('stops a stage silently when the server answers 409 to a step update', async () => {
    const r = start({ pingIntervalMs: 50 });
    const backend = r.backend as FakeBackend;
    const details = gatedStage('never-opened-409');
    const step = details.stage.steps![0];
    server.conflictPaths.add(`/steps/${step.id}`);
    server.enqueue(details);
    await server.until(() => server.calls.some((c) => c.path === `/steps/${step.id}` && c.status === 409));
    const refused = server.calls.find((c) => c.path === `/steps/${step.id}`)!.seq;
    await server.until(() => pingedWithoutAfter(details.stage.id, refused));
    expect(backend.aborted).toEqual(['work']);
    expect(backend.destroyed).toHaveLength(1);
    expect(reportsAbout(details.stage.id).filter((c) => c.seq > refused)).toEqual([]);
    expect(server.stageUpdates.get(details.stage.id)!.map((u) => u.status)).toEqual(['running']);
    expect(r.events('stage_lost')).toEqual([expect.objectContaining({ stage: details.stage.id, reason: expect.stringContaining('409') })]);
    r.ac.abort();
    await r.done;
  });
});

describe('runRunner health', () => {
  it('asks for no work while its backend is sick, says why in its pings, and takes work again once it answers', async () => {
    const backend = new FakeBackend();
    backend.sick = 'the engine does not answer: test';
    const r = start({ backend, pingIntervalMs: 50, healthRetryMs: 10 });
    await server.until(() => server.pings().some((p) => p.sick === backend.sick));
    // Several checks came and went, and still no request.
    await server.until(() => backend.healthChecks >= 5);
    expect(requests()).toEqual([]);
    expect(r.events('runner_sick')).toEqual([expect.objectContaining({ reason: 'the engine does not answer: test' })]);
    backend.sick = '';
    const details = quickStage(0);
    server.enqueue(details);
    await server.until(() => server.stageStatus(details.stage.id) === 'success');
    const sickPing = server.pings().find((p) => p.sick)!.seq;
    await server.until(() => server.pings().some((p) => p.sick === '' && p.seq > sickPing));
    expect(r.events('runner_healthy')).toHaveLength(1);
    expect(r.events('runner_sick')).toHaveLength(1);
    r.ac.abort();
    await r.done;
  });

  it('is sick when its Docker engine does not answer, and says what the engine said', async () => {
    const socketPath = path.join(workspaceDir, 'no-docker.sock');
    const r = start({ backend: new DockerBackend(new Docker({ socketPath })), pingIntervalMs: 50 });
    await server.until(() => server.pings().some((p) => Boolean(p.sick)));
    expect(server.pings().find((p) => p.sick)!.sick).toBe(`the Docker engine does not answer: connect ENOENT ${socketPath}`);
    expect(requests()).toEqual([]);
    r.ac.abort();
    await r.done;
  });

  it('is healthy when its Docker engine answers', async () => {
    await expect(new DockerBackend().healthy(new AbortController().signal)).resolves.toBeUndefined();
  });
});

describe('runRunner graceful stop', () => {
  it('says it is stopping in a ping as soon as it is told to stop', async () => {
    const r = start({ grace: 30 });
    const details = gatedStage('stopping');
    server.enqueue(details);
    await server.until(() => server.stepStatus(details.stage.steps![0].id) === 'running');
    r.ac.abort();
    await server.until(() => server.pings().some((p) => p.stopping && p.running.includes(details.stage.id)));
    (r.backend as FakeBackend).open('stopping');
    await r.done;
    expect(server.stageStatus(details.stage.id)).toBe('success');
  });

  it('hands back a stage offered after it began to stop, instead of running it', async () => {
    const details = quickStage(0);
    const r = start({
      wrap: (client, stop) => {
        const rpc = Object.create(client) as RpcClient;
        // The stop arrives while the offer is on its way: the poll returns after the stop began.
        rpc.request = async (info, signal) => {
          const stage = await client.request(info, signal);
          if (stage) stop.abort();
          return stage;
        };
        return rpc;
      },
    });
    server.enqueue(details);
    await r.done;
    expect(acceptOf(details.stage.id)).toBeUndefined();
    expect(server.released).toEqual([details.stage.id]);
    expect(r.events('stage_released')).toEqual([expect.objectContaining({ stage: details.stage.id, accepted: true })]);
  });

  it('at the end of the grace period hands back a stage whose steps have not started, and kills one whose steps have', async () => {
    const backend = new FakeBackend();
    const r = start({ backend, capacity: 2, grace: 0.2 });
    const started = gatedStage('never-opened-grace');
    const settingUp = quickStage(0);
    backend.holdSetup.add(String(settingUp.stage.id));
    server.enqueue(started);
    server.enqueue(settingUp);
    await server.until(() => server.stepStatus(started.stage.steps![0].id) === 'running' && backend.setupsHeld.has(String(settingUp.stage.id)));
    r.ac.abort();
    await r.done;
    expect(server.released).toEqual([settingUp.stage.id]);
    expect(server.stageUpdates.get(settingUp.stage.id)!.map((u) => u.status)).toEqual(['running']);
    expect(server.stepUpdates.get(settingUp.stage.steps![0].id)).toBeUndefined();
    expect(server.stageStatus(started.stage.id)).toBe('killed');
    expect(server.stageUpdates.get(started.stage.id)!.at(-1)!.error).toBe('runner test-runner shut down before the stage finished');
    expect(backend.destroyed).toHaveLength(2);
  });
});
