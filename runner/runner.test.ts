import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StageDetails } from '../core/protocol.ts';
import type { Pipeline } from '../pipeline/types.ts';
import { TEST_IMAGES } from '../test/support/images.ts';
import type { Backend } from './backend/backend.ts';
import { DockerBackend } from './backend/docker/docker-backend.ts';
import type { RunnerConfig } from './config.ts';
import type { StageCompiler } from './execute-stage.ts';
import { RpcClient } from './rpc-client.ts';
import { runRunner } from './runner.ts';
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

/** How long the one step of each test stage takes, by stage id. */
const stepMs = new Map<number, number>();

/** A stage of one step that takes `ms` on the fake backend; no clone. */
function quickStage(ms: number): StageDetails {
  const details = stageDetails({ config: '', steps: ['work'] });
  stepMs.set(details.stage.id, ms);
  return details;
}

const compile: StageCompiler = (details, request) => ({
  ok: true,
  pipeline: { name: 'default', clone: { disable: true, depth: 0, retries: 0 } } as Pipeline,
  plan: handPlan([{ name: 'work', env: { SLEEP_MS: String(stepMs.get(details.stage.id) ?? 0) } }], { labels: request.labels }),
});

function start(options: { capacity?: number; grace?: number; backend?: Backend; name?: string; pingIntervalMs?: number } = {}) {
  const ac = new AbortController();
  const config: RunnerConfig = {
    serverUrl: server.url,
    rpcSecret: secret,
    name: options.name ?? 'test-runner',
    capacity: options.capacity ?? 1,
    labels: {},
    workspaceDir,
    shutdownGraceSeconds: options.grace ?? 30,
  };
  const backend = options.backend ?? new FakeBackend();
  const done = runRunner({
    config,
    rpc: new RpcClient({ serverUrl: server.url, secret }),
    backend,
    compile,
    logger: silent,
    signal: ac.signal,
    pingIntervalMs: options.pingIntervalMs,
  });
  return { ac, done, backend };
}

const requests = () => server.calls.filter((c) => c.path === '/request');
const acceptOf = (id: number) => server.calls.find((c) => c.path === `/stages/${id}/accept`);

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

  it('removes containers and networks a crashed run of the same runner left behind', async () => {
    const name = testRunnerName('crashed');
    const labels = ['--label', 'io.harrier.managed=true', '--label', `io.harrier.runner=${name}`];
    execFileSync('docker', ['network', 'create', ...labels, `${name}-net`]);
    execFileSync('docker', ['create', ...labels, '--name', `${name}-step`, TEST_IMAGES.busybox, 'sleep', '60']);
    execFileSync('docker', ['create', '--label', 'io.harrier.managed=true', '--label', 'io.harrier.runner=someone-else', '--name', `${name}-other`, TEST_IMAGES.busybox, 'true']);
    try {
      const r = start({ name, backend: new DockerBackend() });
      await server.until(() => requests().length >= 1);
      const ps = (filter: string) => execFileSync('docker', ['ps', '-aq', '--filter', filter], { encoding: 'utf8' }).trim();
      expect(ps(`label=io.harrier.runner=${name}`)).toBe('');
      expect(execFileSync('docker', ['network', 'ls', '-q', '--filter', `label=io.harrier.runner=${name}`], { encoding: 'utf8' }).trim()).toBe('');
      expect(ps(`name=${name}-other`)).not.toBe('');
      r.ac.abort();
      await r.done;
    } finally {
      execFileSync('docker', ['rm', '-f', `${name}-other`]);
    }
  });
});
