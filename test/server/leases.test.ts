// What a runner may do to a stage, and what the server does when a runner goes quiet:
// only the holder changes a stage (409 otherwise; the stage token it needs besides is
// tested in stage-tokens.test.ts), an ended step or stage stays ended,
// a malformed body is a 400, accepting twice gives the same stage, and a lease that
// runs out puts the stage back in the queue (no step started) or ends it `error` with
// a reason naming the runner and the step.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Build, Stage } from '../../core/domain.ts';
import { RUNNER_HEADER, rpcPaths, type PingResponse, type RunnerInfo } from '../../core/protocol.ts';
import { RpcClient } from '../../runner/rpc-client.ts';
import { readLogLines } from '../../server/logs/log-store.ts';
import { githubScenario, SLUG, type GithubScenario } from '../support/scenario.ts';
import { TEST_RPC_SECRET } from '../support/server.ts';

const PIPELINE = `kind: pipeline
type: docker
name: default
steps:
- name: build
  image: alpine:3
  commands: [echo build]
- name: test
  image: alpine:3
  commands: [echo test]
`;

/** Long enough that a busy machine never lets a lease lapse between two calls of one test. */
const LEASE_SECONDS = 60;
/** The lease of the server whose runners go quiet; its sweep runs every second. */
const SHORT_LEASE_SECONDS = 4;
const runner = (name: string, over: Partial<RunnerInfo> = {}): RunnerInfo => ({ name, labels: {}, capacity: 1, running: [], os: 'linux', arch: 'amd64', version: 'test', ...over });
const now = () => Math.floor(Date.now() / 1000);

function harness(flavour: 'sqlite' | 'postgres', leaseSeconds: number) {
  const h = {} as { s: GithubScenario };
  beforeAll(async () => {
    h.s = await githubScenario({ pipeline: PIPELINE, flavour, env: { HARRIER_LEASE_SECONDS: String(leaseSeconds) } });
  });
  afterAll(async () => {
    await h.s?.close();
  });
  const client = (name: string) => new RpcClient({ serverUrl: h.s.server.host, secret: TEST_RPC_SECRET, runner: name, attempts: 1 });
  const stepNamed = (stage: Stage, name: string) => stage.steps!.find((st) => st.name === name)!;

  async function queuedStage(message: string): Promise<{ build: Build; stage: Stage }> {
    const { responses } = await h.s.push({ [`${message}.txt`]: message }, message);
    const build = await responses[0].build();
    const full = (await (await h.s.api(`/api/repos/${SLUG}/builds/${build.number}`)).json()) as Build;
    return { build: full, stage: full.stages![0] };
  }

  async function stageRow(id: number) {
    return h.s.server.ctx.db.stage.findUniqueOrThrow({ where: { id }, include: { steps: { orderBy: { number: 'asc' } } } });
  }
  return { h, client, stepNamed, queuedStage, stageRow };
}

describe.each(['sqlite', 'postgres'] as const)('stage holders on %s', (flavour) => {
  const { h, client, stepNamed, queuedStage, stageRow } = harness(flavour, LEASE_SECONDS);

  async function raw(path: string, body: unknown, name?: string): Promise<{ status: number; message: string }> {
    const res = await fetch(h.s.server.host + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_RPC_SECRET}`, 'content-type': 'application/json', ...(name ? { [RUNNER_HEADER]: name } : {}) },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, message: text ? ((JSON.parse(text) as { message?: string }).message ?? '') : '' };
  }

  it('gives the same stage to a runner that accepts twice, and 409 to any other', async () => {
    const { stage } = await queuedStage('accept-twice');
    const a = client('holder-a');
    const first = await a.accept(stage.id, 'holder-a');
    const again = await a.accept(stage.id, 'holder-a');
    expect(first.accepted && again.accepted).toBe(true);
    expect(again.accepted && again.stage.id).toBe(stage.id);
    expect((await client('holder-b').accept(stage.id, 'holder-b')).accepted).toBe(false);
    expect((await stageRow(stage.id)).machine).toBe('holder-a');
    await a.updateStage(stage.id, { status: 'success', started: now(), stopped: now() });
  });

  it('lets only the holder read and change a stage, its steps and its logs, and says who holds it', async () => {
    const { stage } = await queuedStage('holder-only');
    const step = stepNamed(stage, 'build');
    const a = client('holder-a');
    await a.accept(stage.id, 'holder-a');
    const other = client('intruder');
    await expect(other.details(stage.id)).rejects.toMatchObject({ status: 409, message: expect.stringContaining('held by runner holder-a') });
    await expect(other.updateStage(stage.id, { status: 'failure' })).rejects.toMatchObject({ status: 409 });
    await expect(other.updateStep(step.id, { status: 'running', started: now() })).rejects.toMatchObject({ status: 409 });
    await expect(other.sendLogs(step.id, [{ pos: 0, out: 'forged\n', time: 0 }])).rejects.toMatchObject({ status: 409 });
    const anonymous = await raw(rpcPaths.updateStep(step.id), { status: 'running' });
    expect(anonymous.status).toBe(400);
    expect(anonymous.message).toContain(RUNNER_HEADER);
    const row = await stageRow(stage.id);
    expect(row.status).toBe('pending');
    expect(row.steps.every((st) => st.status === 'pending')).toBe(true);
    expect(await readLogLines(h.s.server.ctx, step.id)).toEqual([]);
    await a.updateStage(stage.id, { status: 'success', started: now(), stopped: now() });
  });

  it('answers a malformed body with 400 naming the field, which the runner does not send again', async () => {
    const { stage } = await queuedStage('malformed');
    const a = client('holder-a');
    await a.accept(stage.id, 'holder-a');
    const bad = await raw(rpcPaths.updateStage(stage.id), { status: 'exploded' }, 'holder-a');
    expect(bad.status).toBe(400);
    expect(bad.message).toMatch(/status/);
    const logs = await raw(rpcPaths.logs(stepNamed(stage, 'build').id), [{ pos: -1, out: 1 }], 'holder-a');
    expect(logs.status).toBe(400);
    const ping = await raw(rpcPaths.ping, { labels: 'not labels' });
    expect(ping.status).toBe(400);
    const retrying = new RpcClient({ serverUrl: h.s.server.host, secret: TEST_RPC_SECRET, runner: 'holder-a', attempts: 6, retryBaseMs: 60_000 });
    // Six attempts 60 s apart would outlive the test: a 400 is answered at once.
    await expect(retrying.updateStage(stage.id, { status: 'exploded' as never })).rejects.toMatchObject({ status: 400 });
    await a.updateStage(stage.id, { status: 'success', started: now(), stopped: now() });
  });

  it('keeps an ended step and stage as they ended: a repeat is answered as before, a change is refused', async () => {
    const { stage } = await queuedStage('ended');
    const a = client('holder-a');
    await a.accept(stage.id, 'holder-a');
    await a.updateStage(stage.id, { status: 'running', started: now() });
    const build = stepNamed(stage, 'build');
    const test = stepNamed(stage, 'test');
    await a.updateStep(build.id, { status: 'running', started: now() });
    await a.updateStep(build.id, { status: 'success', exit_code: 0, started: now(), stopped: now() });
    expect((await a.updateStep(build.id, { status: 'success', exit_code: 0 })).status).toBe('success');
    await expect(a.updateStep(build.id, { status: 'running' })).rejects.toMatchObject({ status: 409, message: expect.stringContaining('has ended (success)') });
    await a.updateStep(test.id, { status: 'failure', exit_code: 1, started: now(), stopped: now() });
    await a.updateStage(stage.id, { status: 'failure', stopped: now() });
    expect((await a.updateStage(stage.id, { status: 'failure' })).status).toBe('failure');
    await expect(a.updateStage(stage.id, { status: 'success' })).rejects.toMatchObject({ status: 409 });
    await expect(a.sendLogs(test.id, [{ pos: 0, out: 'late\n', time: 0 }])).rejects.toMatchObject({ status: 409 });
    const row = await stageRow(stage.id);
    expect(row.status).toBe('failure');
    expect(row.steps.map((st) => [st.name, st.status])).toEqual([
      ['clone', 'skipped'],
      ['build', 'success'],
      ['test', 'failure'],
    ]);
  });

  it('renews a lease on every ping that lists the stage, and names the stages a runner lists but does not hold', async () => {
    const { stage } = await queuedStage('renew');
    const a = client('holder-a');
    await a.accept(stage.id, 'holder-a');
    const before = now();
    const answer: PingResponse = await a.ping(runner('holder-a', { running: [stage.id, 999_999] }));
    expect(answer).toEqual({ lease_seconds: LEASE_SECONDS, lost: [999_999] });
    expect((await stageRow(stage.id)).leaseUntil).toBeGreaterThanOrEqual(before + LEASE_SECONDS);
    await a.updateStage(stage.id, { status: 'success', started: now(), stopped: now() });
    expect((await a.ping(runner('holder-a', { running: [stage.id] }))).lost).toEqual([stage.id]);
  });

  it('takes a stage back at once from a runner that restarted under the same name', async () => {
    const { stage } = await queuedStage('restarted');
    const a = client('restarting');
    await a.ping(runner('restarting', { instance: 'first' }));
    await a.accept(stage.id, 'restarting');
    await a.ping(runner('restarting', { instance: 'first', running: [stage.id] }));
    await a.ping(runner('restarting', { instance: 'second' }));
    const row = await stageRow(stage.id);
    expect([row.status, row.machine]).toEqual(['pending', '']);
    const steady = client('steady');
    expect((await steady.accept(stage.id, 'steady')).accepted).toBe(true);
    await steady.updateStage(stage.id, { status: 'success', started: now(), stopped: now() });
  });

  it('does not queue again a stage of a cancelled build when its runner goes away', async () => {
    const { build, stage } = await queuedStage('cancelled-held');
    const a = client('vanishing');
    await a.ping(runner('vanishing', { instance: 'one' }));
    await a.accept(stage.id, 'vanishing');
    expect((await h.s.api(`/api/repos/${SLUG}/builds/${build.number}`, { method: 'DELETE' })).status).toBe(200);
    await a.ping(runner('vanishing', { instance: 'two' }));
    const row = await stageRow(stage.id);
    expect([row.status, row.machine]).toEqual(['skipped', 'vanishing']);
    expect(row.steps.every((st) => st.status === 'skipped')).toBe(true);
  });

  it('lets the holder hand back a stage whose steps have not started, and not one whose steps have', async () => {
    const { stage } = await queuedStage('release');
    const a = client('holder-a');
    await a.accept(stage.id, 'holder-a');
    expect(await a.release(stage.id)).toBe(true);
    expect((await stageRow(stage.id)).machine).toBe('');
    await a.accept(stage.id, 'holder-a');
    await a.updateStep(stepNamed(stage, 'build').id, { status: 'running', started: now() });
    expect(await a.release(stage.id)).toBe(false);
    expect((await stageRow(stage.id)).machine).toBe('holder-a');
    await a.updateStage(stage.id, { status: 'success', started: now(), stopped: now() });
  });
});

/** Polls the database until `done` holds: the server's sweep acts every second here. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within a minute: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.each(['sqlite', 'postgres'] as const)('runners that go quiet on %s', (flavour) => {
  const { h, client, stepNamed, queuedStage, stageRow } = harness(flavour, SHORT_LEASE_SECONDS);

  it('puts a stage back in the queue when its holder goes quiet before any step started', async () => {
    const { stage } = await queuedStage('quiet-early');
    await client('quiet-a').accept(stage.id, 'quiet-a');
    const row = await until(() => stageRow(stage.id), (r) => r.machine === '', 'the requeue');
    expect(row.status).toBe('pending');
    const b = client('steady-b');
    expect((await b.request(runner('steady-b')))?.id).toBe(stage.id);
    expect((await b.accept(stage.id, 'steady-b')).accepted).toBe(true);
    // The quiet runner comes back: it holds nothing any more.
    await expect(client('quiet-a').updateStage(stage.id, { status: 'running' })).rejects.toMatchObject({ status: 409 });
    expect((await client('quiet-a').ping(runner('quiet-a', { running: [stage.id] }))).lost).toEqual([stage.id]);
  });

  it('ends a stage whose holder went quiet during a step as error, saying which runner, which step and when it was last heard', async () => {
    const { build, stage } = await queuedStage('quiet-late');
    const a = client('quiet-c');
    await a.ping(runner('quiet-c'));
    await a.accept(stage.id, 'quiet-c');
    await a.updateStage(stage.id, { status: 'running', started: now() });
    await a.updateStep(stepNamed(stage, 'build').id, { status: 'running', started: now() });
    const row = await until(() => stageRow(stage.id), (r) => r.status === 'error', 'the lease expiry');
    expect(row.error).toMatch(/^runner quiet-c stopped answering during step build; last heard \d+ s ago$/);
    expect(row.steps.map((st) => st.status)).toEqual(['skipped', 'error', 'skipped']);
    const settled = await until(
      async () => (await (await h.s.api(`/api/repos/${SLUG}/builds/${build.number}`)).json()) as Build,
      (b) => b.status === 'error',
      'the build settling',
    );
    expect(settled.finished).toBeGreaterThan(0);
    await expect(a.updateStep(stepNamed(stage, 'build').id, { status: 'success' })).rejects.toMatchObject({ status: 409 });
  });
});
