// Retrying a build in place (POST …/builds/{number}/retry), through the REST API and a real
// runner on Docker: only the stage that failed and the stage depending on it run again, in
// the same build, while the stage that passed keeps its result and log; the first attempt
// keeps its runner and its log (…/logs/{stage}/{step}?attempt=1); a runner still holding the
// first attempt's token is refused; ?stage=N retries one stage with its dependents; the refusals.
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Build, LogLine, Stage } from '../../core/domain.ts';
import { DockerBackend } from '../../runner/backend/docker/docker-backend.ts';
import { compileStagePlan } from '../../runner/compile-plan.ts';
import { executeStage } from '../../runner/execute-stage.ts';
import { LABEL_RUNNER } from '../../runner/labels.ts';
import { RpcClient, RpcError } from '../../runner/rpc-client.ts';
import { testRunnerName } from '../../runner/testing/test-runner-names.ts';
import { githubScenario, SLUG, type GithubScenario } from '../support/scenario.ts';
import { flakyPipeline, MARKER_RELEASED, MARKER_SECRET, MARKER_WITHHELD } from '../support/flaky-pipeline.ts';
import { TEST_RPC_SECRET } from '../support/server.ts';

const PIPELINE = `${flakyPipeline('a')}---
kind: pipeline
type: docker
name: b
depends_on: [a]
steps:
- name: after-a
  image: alpine:3
  commands: [echo b-runs]
---
kind: pipeline
type: docker
name: c
steps:
- name: alone
  image: alpine:3
  commands: [echo c-runs]
`;

describe.each(['sqlite', 'postgres'] as const)('retrying a build on %s', (flavour) => {
  let s: GithubScenario;
  const runnerName = testRunnerName(`retry-${flavour}`);
  const runner = { name: runnerName, labels: {}, capacity: 1, running: [], os: 'linux', arch: 'amd64', version: 'test' };
  const backend = new DockerBackend();
  const workspaceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'harrier-retry-'));
  // The first attempt's runner process and the one that runs the retry: the first keeps its stage tokens.
  let first: RpcClient;
  let second: RpcClient;

  beforeAll(async () => {
    s = await githubScenario({ pipeline: PIPELINE, flavour, env: { HARRIER_DATABASE_SECRET: 'ab12'.repeat(16) } });
    first = new RpcClient({ serverUrl: s.server.host, secret: TEST_RPC_SECRET, runner: runnerName, attempts: 1 });
    second = new RpcClient({ serverUrl: s.server.host, secret: TEST_RPC_SECRET, runner: runnerName, attempts: 1 });
    const secret = await s.api(`/api/repos/${SLUG}/secrets`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: MARKER_SECRET, data: MARKER_WITHHELD }) });
    expect(secret.status).toBe(200);
  });
  afterAll(async () => {
    await s?.close();
    await backend.removeLeftovers({ [LABEL_RUNNER]: runnerName });
    fs.rmSync(workspaceDir, { recursive: true, force: true });
  });

  const get = async (number: number) => (await (await s.api(`/api/repos/${SLUG}/builds/${number}`)).json()) as Build;
  const retry = async (number: number, query = '') => {
    const res = await s.api(`/api/repos/${SLUG}/builds/${number}/retry${query}`, { method: 'POST' });
    return { status: res.status, body: (await res.json()) as Build & { message: string } };
  };
  const stage = (b: Build, name: string): Stage => b.stages!.find((st) => st.name === name)!;
  const log = async (number: number, stageNo: number, query = '') => {
    const res = await s.api(`/api/repos/${SLUG}/builds/${number}/logs/${stageNo}/2${query}`);
    expect(res.status).toBe(200);
    return ((await res.json()) as LogLine[]).map((l) => l.out).join('');
  };

  /** Takes the next stage offered and runs it on Docker; returns its name and outcome. */
  async function runNext(rpc: RpcClient): Promise<{ name: string; status: string }> {
    const offered = await rpc.request(runner);
    expect(offered, 'a stage for the runner').not.toBeNull();
    expect((await rpc.accept(offered!.id, runnerName)).accepted).toBe(true);
    const details = await rpc.details(offered!.id);
    const outcome = await executeStage(details, { rpc, backend, compile: compileStagePlan, workspaceDir, runnerName, logger: s.server.ctx.logger });
    return { name: offered!.name, status: outcome.status };
  }

  it('runs again only the failed stage and the one depending on it, in the same build, keeping the first attempt', async () => {
    const { responses } = await s.push({ 'x.txt': 'x' }, 'Fails in a');
    const { number } = await responses[0].build();
    const firstRun = [await runNext(first), await runNext(first)].sort((x, y) => x.name.localeCompare(y.name));
    expect(firstRun).toEqual([
      { name: 'a', status: 'failure' },
      { name: 'c', status: 'success' },
    ]);
    const failed = await get(number);
    expect(failed.status).toBe('failure');
    expect(stage(failed, 'b')).toMatchObject({ status: 'skipped', attempt: 1, attempts: [] });
    const cLog = await log(number, 3);
    expect(cLog).toContain('c-runs\n');

    expect((await s.api(`/api/repos/${SLUG}/secrets/${MARKER_SECRET}`, { method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ data: MARKER_RELEASED }) })).status).toBe(200);
    const retried = await retry(number);
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ number, status: 'running', finished: 0 });
    expect(stage(retried.body, 'a')).toMatchObject({ status: 'pending', attempt: 2, machine: '' });
    expect(stage(retried.body, 'a').attempts).toMatchObject([{ attempt: 1, status: 'failure', machine: runnerName, steps: [{ number: 1, name: 'clone', status: 'success' }, { number: 2, name: 'check', status: 'failure', exit_code: 1 }] }]);
    expect(stage(retried.body, 'b')).toMatchObject({ status: 'waiting_on_dependencies', attempt: 2, attempts: [{ attempt: 1, status: 'skipped' }] });
    expect(stage(retried.body, 'c')).toMatchObject({ status: 'success', attempt: 1, attempts: [] });

    // Sent again while the retry runs: refused, and nothing more is archived.
    const again = await retry(number);
    expect(again.status).toBe(409);
    expect(again.body.message).toContain(`build ${number} is still`);

    const a = await runNext(second);
    expect(a).toEqual({ name: 'a', status: 'success' });
    // The first runner process still has the first attempt's token for `a`: refused, though it has the same runner name.
    const aId = stage(retried.body, 'a').id;
    const refused = await first.updateStage(aId, { status: 'running', started: 1 }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(RpcError);
    expect([403, 409]).toContain((refused as RpcError).status);
    expect(await runNext(second)).toEqual({ name: 'b', status: 'success' });

    const done = await get(number);
    expect(done).toMatchObject({ number, status: 'success' });
    expect(stage(done, 'a')).toMatchObject({ status: 'success', attempt: 2, machine: runnerName, attempts: [{ attempt: 1, status: 'failure' }] });
    expect(stage(done, 'c')).toMatchObject({ status: 'success', attempt: 1, attempts: [] });
    expect(await log(number, 1)).toContain('a-passes\n');
    const firstLog = await log(number, 1, '?attempt=1');
    expect(firstLog).toContain('a-fails\n');
    expect(firstLog).not.toContain('a-passes\n');
    expect(await log(number, 1, '?attempt=2')).toContain('a-passes\n');
    expect(await log(number, 3)).toBe(cLog);
    const latest = (await (await s.api(`/api/repos/${SLUG}/builds?per_page=1`)).json()) as Build[];
    expect(latest[0].number).toBe(number);

    const beyond = await s.api(`/api/repos/${SLUG}/builds/${number}/logs/1/2?attempt=3`);
    expect(beyond.status).toBe(404);
    expect(((await beyond.json()) as { message: string }).message).toContain('has had 2 attempts, not 3');

    const nothing = await retry(number);
    expect(nothing.status).toBe(409);
    expect(nothing.body.message).toContain('no failed, errored or cancelled stage to retry');
  }, 300_000);

  it('retries one stage with ?stage=N with those depending on it, and after a cancel the stages that never ran', async () => {
    const builds = (await (await s.api(`/api/repos/${SLUG}/builds?per_page=1`)).json()) as Build[];
    const { number } = builds[0];
    const before = await get(number);
    const { status, body } = await retry(number, '?stage=1');
    expect(status).toBe(200);
    expect(stage(body, 'a')).toMatchObject({ status: 'pending', attempt: stage(before, 'a').attempt + 1 });
    expect(stage(body, 'b')).toMatchObject({ status: 'waiting_on_dependencies', attempt: stage(before, 'b').attempt + 1 });
    expect(stage(body, 'c')).toMatchObject({ status: 'success', attempt: 1 });
    expect((await s.api(`/api/repos/${SLUG}/builds/${number}`, { method: 'DELETE' })).status).toBe(200);

    const cancelled = await get(number);
    expect(cancelled.status).toBe('killed');
    expect(cancelled.stages!.map((st) => [st.name, st.status])).toEqual([['a', 'skipped'], ['b', 'skipped'], ['c', 'success']]);
    const resumed = await retry(number);
    expect(resumed.status).toBe(200);
    expect(resumed.body.stages!.map((st) => [st.name, st.status, st.attempt])).toEqual([['a', 'pending', 4], ['b', 'waiting_on_dependencies', 4], ['c', 'success', 1]]);
    expect(await runNext(second)).toEqual({ name: 'a', status: 'success' });
    expect(await runNext(second)).toEqual({ name: 'b', status: 'success' });
    expect((await get(number)).status).toBe('success');

    const single = await retry(number, '?stage=3');
    expect(single.status).toBe(200);
    expect(single.body.stages!.map((st) => [st.name, st.status, st.attempt])).toEqual([['a', 'success', 4], ['b', 'success', 4], ['c', 'pending', 2]]);
    expect(await runNext(second)).toEqual({ name: 'c', status: 'success' });
    const after = await get(number);
    expect(after.status).toBe('success');
    expect(stage(after, 'c')).toMatchObject({ status: 'success', attempt: 2, attempts: [{ attempt: 1, status: 'success' }] });
    expect(stage(after, 'a').attempts!.map((x) => x.status)).toEqual(['failure', 'success', 'skipped']);
  }, 400_000);

  it('answers 404 for an unknown build or stage, 400 for a stage that is no number, 403 without write permission', async () => {
    expect((await retry(999)).status).toBe(404);
    const noStage = await retry(1, '?stage=9');
    expect(noStage.status).toBe(404);
    expect(noStage.body.message).toContain('has no stage 9');
    const bad = await retry(1, '?stage=first');
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('stage: must be a stage number');
    const { db } = s.server.ctx;
    await db.perm.updateMany({ data: { write: false, admin: false } });
    try {
      const denied = await retry(1);
      expect(denied.status).toBe(403);
    } finally {
      await db.perm.updateMany({ data: { write: true, admin: true } });
    }
  });
});
