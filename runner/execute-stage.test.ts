// The executor against an in-test server speaking core/protocol.ts, the real Docker
// engine and a real git repository; plans are built by hand here so these tests do
// not depend on the compiler (execute-compiled-stage.test.ts runs YAML end to end).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StageDetails, StageUpdate } from '../core/protocol.ts';
import type { Pipeline } from '../pipeline/types.ts';
import { DockerBackend } from './backend/docker/docker-backend.ts';
import { executeStage, type StageCompiler, type StageRpc } from './execute-stage.ts';
import { LABEL_RUNNER } from './labels.ts';
import { RpcClient } from './rpc-client.ts';
import { FakeRpcServer } from './testing/fake-rpc-server.ts';
import { type HandStep, handPlan } from './testing/hand-plan.ts';
import { stageDetails, stepNamed } from './testing/stage-details.ts';
import { sweepStaleTestObjects, testRunnerName } from './testing/test-runner-names.ts';
import { afterCommands, meetCommands } from '../test/support/rendezvous.ts';

const secret = 'test-rpc-secret';
const runnerName = testRunnerName('exec');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'harrier-exec-test-'));
const workspaceDir = path.join(root, 'workspaces');
const origin = path.join(root, 'origin');
const backend = new DockerBackend();
let server: FakeRpcServer;
let rpc: RpcClient;
let sha = '';

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.com', ...args], { cwd, encoding: 'utf8' }).trim();
}

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8' }).trim();
}

beforeAll(async () => {
  await sweepStaleTestObjects();
  fs.mkdirSync(origin);
  git(origin, 'init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(origin, 'hello.txt'), 'hello from the repository\n');
  git(origin, 'add', '.');
  git(origin, 'commit', '-q', '-m', 'first');
  sha = git(origin, 'rev-parse', 'HEAD');
  server = await new FakeRpcServer({ secret, pollWindowMs: 1_000 }).start();
  rpc = new RpcClient({ serverUrl: server.url, secret });
});

afterAll(async () => {
  await server.close();
  await backend.removeLeftovers({ [LABEL_RUNNER]: runnerName });
  fs.rmSync(root, { recursive: true, force: true });
});

function pipelineStub(clone: Partial<Pipeline['clone']> = {}): Pipeline {
  return { name: 'default', clone: { disable: false, depth: 1, retries: 0, ...clone } } as Pipeline;
}

interface StageRunInput {
  steps: HandStep[];
  remote?: string;
  secrets?: { name: string; value: string }[];
  timeoutMinutes?: number;
  signal?: AbortSignal;
  lost?: AbortSignal;
  /** Looks at each stage update as it is sent. */
  onStageUpdate?: (update: StageUpdate, details: StageDetails) => void;
  /** Runs once the stage is under way, e.g. to cancel it. */
  during?: (details: StageDetails) => Promise<void>;
}

function watchedRpc(details: StageDetails, onStageUpdate: StageRunInput['onStageUpdate']): StageRpc {
  if (!onStageUpdate) return rpc;
  return {
    updateStage: (id, update) => {
      onStageUpdate(update, details);
      return rpc.updateStage(id, update);
    },
    updateStep: (id, update) => rpc.updateStep(id, update),
    sendLogs: (id, lines) => rpc.sendLogs(id, lines),
    watch: (id, signal) => rpc.watch(id, signal),
  };
}

async function runStage(input: StageRunInput) {
  const details = stageDetails({
    config: '',
    steps: ['clone', ...input.steps.map((s) => s.name)],
    remote: input.remote ?? `file://${origin}`,
    after: sha,
    secrets: input.secrets,
    timeoutMinutes: input.timeoutMinutes,
  });
  server.stages.set(details.stage.id, details);
  let workspace = '';
  const compile: StageCompiler = (_details, request) => {
    workspace = request.workspaceHostPath;
    const plan = handPlan(
      input.steps.map((s, i) => ({ number: i + 2, ...s })),
      { workspaceHostPath: request.workspaceHostPath, labels: request.labels },
    );
    return { ok: true, pipeline: pipelineStub(), plan };
  };
  const [outcome] = await Promise.all([
    executeStage(details, { rpc: watchedRpc(details, input.onStageUpdate), backend, compile, workspaceDir, runnerName, signal: input.signal, lost: input.lost }),
    input.during?.(details),
  ]);
  const step = (name: string) => {
    const s = stepNamed(details, name);
    return { status: server.stepStatus(s.id), updates: server.stepUpdates.get(s.id) ?? [], log: server.logText(s.id), last: server.stepUpdates.get(s.id)?.at(-1) };
  };
  return { details, outcome, step, workspace, stageUpdates: server.stageUpdates.get(details.stage.id) ?? [] };
}

function containersOf(details: StageDetails): string {
  return docker('ps', '-aq', '--filter', `label=io.harrier.stage=${details.stage.id}`, '--filter', `label=${LABEL_RUNNER}=${runnerName}`);
}

describe('executeStage', () => {
  it('clones, runs the steps in order and reports success, then removes containers and workspace', async () => {
    const r = await runStage({
      steps: [
        { name: 'build', commands: ['cat hello.txt', 'echo built > out.txt'] },
        { name: 'test', commands: ['cat out.txt'] },
      ],
    });
    expect(r.outcome).toEqual({ status: 'success', error: '' });
    expect(r.stageUpdates.map((u) => u.status)).toEqual(['running', 'success']);
    expect(r.stageUpdates[1].stopped).toBeGreaterThanOrEqual(r.stageUpdates[0].started!);
    expect(r.step('clone').updates.map((u) => u.status)).toEqual(['running', 'success']);
    expect(r.step('clone').log).toContain('+ git fetch --depth=1 origin +refs/heads/main:refs/remotes/origin/main\n');
    expect(r.step('build').updates.map((u) => u.status)).toEqual(['running', 'success']);
    expect(r.step('build').last).toMatchObject({ exit_code: 0 });
    expect(r.step('build').updates[0].started).toBeGreaterThan(0);
    expect(r.step('build').log).toBe("+ cat hello.txt\nhello from the repository\n+ echo built > out.txt\n");
    expect(r.step('test').log).toContain('built\n');
    expect(fs.existsSync(r.workspace)).toBe(false);
    expect(containersOf(r.details)).toBe('');
  });

  it('reports the stage done only once its containers, services included, and its workspace are gone, and removes its network by the time it returns', async () => {
    let atReport: { containers: string; workspace: boolean } | undefined;
    const r = await runStage({
      steps: [
        { name: 'db', service: true, commands: ['sleep 600'] },
        { name: 'build', commands: ['true'] },
      ],
      onStageUpdate: (update, details) => {
        if (update.status === 'running') return;
        const workspace = fs.readdirSync(workspaceDir).some((entry) => entry.startsWith(`stage-${details.stage.id}-`));
        atReport = { containers: containersOf(details), workspace };
      },
    });
    expect(r.outcome.status).toBe('success');
    expect(atReport).toEqual({ containers: '', workspace: false });
    expect(r.stageUpdates.at(-1)?.status).toBe('success');
    expect(docker('network', 'ls', '-q', '--filter', `label=io.harrier.stage=${r.details.stage.id}`, '--filter', `label=${LABEL_RUNNER}=${runnerName}`)).toBe('');
  });

  it('fails the stage at the first failing step and skips the steps after it', async () => {
    const r = await runStage({
      steps: [
        { name: 'broken', commands: ['echo about to fail', 'exit 2'] },
        { name: 'after', commands: ['echo never'] },
      ],
    });
    expect(r.outcome.status).toBe('failure');
    expect(r.step('broken').last).toMatchObject({ status: 'failure', exit_code: 2 });
    expect(r.step('after').updates.map((u) => u.status)).toEqual(['skipped']);
    expect(r.stageUpdates.at(-1)).toMatchObject({ status: 'failure', exit_code: 2 });
    expect(containersOf(r.details)).toBe('');
  });

  it('goes on after a step with failure: ignore fails, and the stage succeeds', async () => {
    const r = await runStage({
      steps: [
        { name: 'flaky', errIgnore: true, commands: ['exit 1'] },
        { name: 'after', commands: ['echo still ran'] },
      ],
    });
    expect(r.outcome.status).toBe('success');
    expect(r.step('flaky').last).toMatchObject({ status: 'failure', exit_code: 1 });
    expect(r.step('after').status).toBe('success');
  });

  it('runs when.status failure steps only after a failure, and skips normal steps then', async () => {
    const failed = await runStage({
      steps: [
        { name: 'broken', commands: ['exit 1'] },
        { name: 'normal', commands: ['echo normal'] },
        { name: 'notify', runOn: ['failure'], commands: ['echo notifying'] },
      ],
    });
    expect(failed.outcome.status).toBe('failure');
    expect(failed.step('normal').status).toBe('skipped');
    expect(failed.step('notify').status).toBe('success');
    expect(failed.step('notify').log).toContain('notifying\n');

    const passed = await runStage({
      steps: [
        { name: 'fine', commands: ['true'] },
        { name: 'notify', runOn: ['failure'], commands: ['echo notifying'] },
        { name: 'always', runOn: ['success', 'failure'], commands: ['true'] },
      ],
    });
    expect(passed.outcome.status).toBe('success');
    expect(passed.step('notify').status).toBe('skipped');
    expect(passed.step('always').status).toBe('success');
  });

  it('ends the stage early as a success when a step exits 78', async () => {
    const r = await runStage({
      steps: [
        { name: 'nothing-to-do', commands: ['exit 78'] },
        { name: 'deploy', commands: ['echo deploying'] },
      ],
    });
    expect(r.outcome.status).toBe('success');
    expect(r.step('nothing-to-do').last).toMatchObject({ status: 'success', exit_code: 78 });
    expect(r.step('deploy').status).toBe('skipped');
  });

  it('runs independent steps of a depends_on graph at the same time', async () => {
    // Each of a and b waits for the other's mark: run one after the other, the first would fail.
    const r = await runStage({
      steps: [
        { name: 'a', commands: meetCommands('a', 'b') },
        { name: 'b', commands: meetCommands('b', 'a') },
        { name: 'c', dependsOn: ['a', 'b'], commands: afterCommands(['a', 'b']) },
      ],
    });
    expect(r.outcome.status).toBe('success');
    expect(r.step('a').log).toContain('met b\n');
    expect(r.step('b').log).toContain('met a\n');
    expect(r.step('c').log).toContain('all finished before me\n');
  });

  it('kills the running step, skips the rest and ends killed when the build is cancelled', async () => {
    const r = await runStage({
      steps: [
        // Not killed, it would outlast the test's time limit.
        { name: 'long', commands: ['echo started', 'sleep 600'] },
        { name: 'next', commands: ['true'] },
      ],
      during: async (details) => {
        await server.until(() => server.logText(stepNamed(details, 'long').id).includes('started'));
        server.cancel(details.build.id);
      },
    });
    expect(r.outcome.status).toBe('killed');
    expect(r.step('long').status).toBe('killed');
    expect(r.step('next').status).toBe('skipped');
    expect(r.stageUpdates.at(-1)?.status).toBe('killed');
    expect(containersOf(r.details)).toBe('');
  });

  it('marks a step that outlives its timeout as failed with a timed-out error', async () => {
    const r = await runStage({ steps: [{ name: 'slow', timeoutSeconds: 1, commands: ['sleep 600'] }] });
    expect(r.outcome.status).toBe('failure');
    expect(r.step('slow').last).toMatchObject({ status: 'failure', error: 'step timed out after 1s' });
  });

  it('kills the stage when the repository timeout runs out', async () => {
    // Six seconds: time enough for the step to start on a busy machine, so it is killed rather than skipped.
    const r = await runStage({ timeoutMinutes: 0.1, steps: [{ name: 'forever', commands: ['sleep 600'] }] });
    expect(r.outcome).toEqual({ status: 'killed', error: 'stage timed out after 0.1 minutes' });
    expect(r.step('forever').status).toBe('killed');
  });

  it('kills the stage when the runner shuts down', async () => {
    const ac = new AbortController();
    const r = await runStage({
      signal: ac.signal,
      steps: [{ name: 'forever', commands: ['echo up', 'sleep 600'] }],
      during: async (details) => {
        await server.until(() => server.logText(stepNamed(details, 'forever').id).includes('up'));
        ac.abort();
      },
    });
    expect(r.outcome.status).toBe('killed');
    expect(r.outcome.error).toContain(`runner ${runnerName} shut down`);
  });

  it('stops a stage the runner lost: its containers and workspace go, and nothing more is reported', async () => {
    const lost = new AbortController();
    let told = 0;
    const r = await runStage({
      lost: lost.signal,
      steps: [
        { name: 'forever', commands: ['echo up', 'sleep 600'] },
        { name: 'next', commands: ['true'] },
      ],
      during: async (details) => {
        await server.until(() => server.logText(stepNamed(details, 'forever').id).includes('up'));
        told = server.receivedCount;
        lost.abort(new Error('lease ended'));
      },
    });
    expect(r.outcome).toEqual({ status: 'killed', error: 'lease ended', lost: true });
    expect(server.callsAbout(r.details.stage.id).filter((c) => c.seq > told && !c.path.includes('/watch'))).toEqual([]);
    expect(r.step('forever').status).toBe('running');
    expect(r.step('next').status).toBeUndefined();
    expect(r.stageUpdates.map((u) => u.status)).toEqual(['running']);
    expect(containersOf(r.details)).toBe('');
    expect(fs.existsSync(r.workspace)).toBe(false);
  });

  it('stops a stage silently when the server refuses its log lines with 409', async () => {
    let refused = 0;
    const r = await runStage({
      steps: [{ name: 'forever', commands: ['echo up', 'sleep 600'] }],
      during: async (details) => {
        const step = stepNamed(details, 'forever');
        // Before the stage sends anything: its first log batch is refused.
        server.conflictPaths.add(`/steps/${step.id}/logs`);
        await server.until(() => server.calls.some((c) => c.path === `/steps/${step.id}/logs` && c.status === 409));
        refused = server.calls.find((c) => c.path === `/steps/${step.id}/logs` && c.status === 409)!.seq;
      },
    });
    expect(r.outcome.lost).toBe(true);
    expect(r.outcome.error).toContain('409');
    expect(server.callsAbout(r.details.stage.id).filter((c) => c.seq > refused)).toEqual([]);
    expect(r.stageUpdates.map((u) => u.status)).toEqual(['running']);
    expect(containersOf(r.details)).toBe('');
  });

  it('gives steps their secrets as environment variables and masks them in the log', async () => {
    const r = await runStage({
      secrets: [{ name: 'token', value: 'sup3r-s3cret' }],
      steps: [{ name: 'use', secretEnv: { API_TOKEN: 'token' }, commands: ['echo "token is $API_TOKEN"', 'test "$API_TOKEN" = sup3r-s3cret'] }],
    });
    expect(r.outcome.status).toBe('success');
    expect(r.step('use').log).toContain('token is ******\n');
    expect(r.step('use').log).not.toContain('sup3r-s3cret');
  });

  it('starts services and detached steps, reachable by name, and reports them done at the end', async () => {
    const r = await runStage({
      steps: [
        { name: 'web', service: true, commands: ['mkdir -p /www', 'echo hi-from-service > /www/index.html', 'httpd -f -p 8080 -h /www'] },
        { name: 'watcher', detach: true, commands: ['echo watching', 'sleep 60'] },
        { name: 'client', commands: ['for i in $(seq 1 600); do wget -q -O - http://web:8080/ && exit 0; sleep 0.1; done; exit 1'] },
      ],
    });
    expect(r.outcome.status).toBe('success');
    expect(r.step('client').log).toContain('hi-from-service');
    expect(r.step('web').updates.map((u) => u.status)).toEqual(['running', 'success']);
    expect(r.step('watcher').updates.map((u) => u.status)).toEqual(['running', 'success']);
    expect(r.step('watcher').log).toContain('watching\n');
    expect(containersOf(r.details)).toBe('');
  });

  it('fails the clone step and the stage when the repository cannot be fetched, skipping the steps', async () => {
    const r = await runStage({ remote: `file://${root}/no-such-repo`, steps: [{ name: 'build', commands: ['true'] }] });
    expect(r.outcome.status).toBe('failure');
    expect(r.outcome.error).toContain('clone failed');
    expect(r.step('clone').status).toBe('failure');
    expect(r.step('build').status).toBe('skipped');
    expect(fs.existsSync(r.workspace)).toBe(false);
  });

  it('reports a step whose image is missing as an error naming the image', async () => {
    const r = await runStage({ steps: [{ name: 'ghost', image: 'harrier-test/ghost:9', commands: ['true'] }] });
    expect(r.outcome.status).toBe('error');
    expect(r.step('ghost').last?.status).toBe('error');
    expect(r.step('ghost').last?.error).toContain('harrier-test/ghost:9');
  });

  it('fails the stage with the compiler error when the pipeline cannot be compiled', async () => {
    const details = stageDetails({ config: 'kind: pipeline\n', steps: ['clone', 'build'] });
    server.stages.set(details.stage.id, details);
    const outcome = await executeStage(details, {
      rpc,
      backend,
      compile: () => ({ ok: false, error: '.drone.yml:3:5 steps[0].image is required' }),
      workspaceDir,
      runnerName,
    });
    expect(outcome).toEqual({ status: 'error', error: '.drone.yml:3:5 steps[0].image is required' });
    expect(server.stageStatus(details.stage.id)).toBe('error');
    expect(server.stepStatus(stepNamed(details, 'build').id)).toBe('skipped');
    expect(fs.readdirSync(workspaceDir).filter((d) => d.startsWith(`stage-${details.stage.id}-`))).toEqual([]);
  });
});
