// `concurrency: limit: N`: a stage is not handed to a runner while N stages of the same
// pipeline of the same repository are running or held by a runner; when one ends, a
// runner already waiting gets the next at once. Other pipelines are not held back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Build, Stage } from '../../core/domain.ts';
import type { RunnerInfo } from '../../core/protocol.ts';
import { RpcClient } from '../../runner/rpc-client.ts';
import { githubScenario, SLUG, type GithubScenario } from '../support/scenario.ts';
import { longPollHeld } from '../support/long-poll.ts';
import { TEST_RPC_SECRET } from '../support/server.ts';

const RUNNER: RunnerInfo = { name: 'limit-runner', labels: {}, capacity: 1, running: [], os: 'linux', arch: 'amd64', version: 'test' };

const limited = (limit: number) => `kind: pipeline
type: docker
name: deploy
concurrency:
  limit: ${limit}
steps:
- name: ship
  image: alpine:3
  commands: [echo ship]
`;

const FREE = `kind: pipeline
type: docker
name: test
steps:
- name: test
  image: alpine:3
  commands: [echo test]
`;

describe.each(['sqlite', 'postgres'] as const)('concurrency limits on %s', (flavour) => {
  let s: GithubScenario;
  let rpc: RpcClient;

  beforeAll(async () => {
    s = await githubScenario({ pipeline: limited(1), flavour });
    rpc = new RpcClient({ serverUrl: s.server.host, secret: TEST_RPC_SECRET, runner: RUNNER.name, attempts: 1 });
  });
  afterAll(async () => {
    await s?.close();
  });

  /** The stage offered within the window (not accepted), or null. */
  async function offered(windowMs = 500): Promise<Stage | null> {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), windowMs);
    try {
      return await rpc.request(RUNNER, ac.signal);
    } catch {
      return null;
    } finally {
      clearTimeout(timer);
    }
  }

  /** A stage is there to take: waits for it as long as the server's poll holds, however busy the machine. */
  async function take(): Promise<Stage> {
    const stage = await rpc.request(RUNNER);
    expect(stage).not.toBeNull();
    expect((await rpc.accept(stage!.id, RUNNER.name)).accepted).toBe(true);
    return stage!;
  }

  const now = () => Math.floor(Date.now() / 1000);
  const start = (stage: Stage) => rpc.updateStage(stage.id, { status: 'running', started: now() });
  const finish = (stage: Stage) => rpc.updateStage(stage.id, { status: 'success', started: now(), stopped: now(), exit_code: 0 });

  async function pushFile(file: string, message: string): Promise<Build> {
    const { responses } = await s.push({ '.drone.yml': file, [`${message}.txt`]: message }, message);
    return await responses[0].build();
  }

  async function stageOf(build: Build, name: string): Promise<Stage> {
    const full = (await (await s.api(`/api/repos/${SLUG}/builds/${build.number}`)).json()) as Build;
    return full.stages!.find((st) => st.name === name)!;
  }

  it('holds a stage back while the limit of its pipeline is running, and hands it over the moment one ends', async () => {
    const first = await pushFile(limited(1), 'one');
    const second = await pushFile(limited(1), 'two');
    const running = await take();
    expect(running.build_id).toBe(first.id);
    await start(running);

    expect(await offered()).toBeNull();
    expect((await stageOf(second, 'deploy')).status).toBe('pending');

    // A runner already waiting gets the held stage when the running one ends, within the poll it
    // holds: without the wake-up, that poll would end empty after its 25 s window.
    const waiting = rpc.request(RUNNER);
    await longPollHeld(s.server.ctx);
    await finish(running);
    const next = await waiting;
    expect(next?.build_id).toBe(second.id);
    expect((await rpc.accept(next!.id, RUNNER.name)).accepted).toBe(true);
    await finish(next!);
  });

  it('counts a stage a runner accepted but has not started yet', async () => {
    await pushFile(limited(1), 'three');
    const second = await pushFile(limited(1), 'four');
    const held = await take();
    expect(await offered()).toBeNull();
    await finish(held);
    const next = await take();
    expect(next.build_id).toBe(second.id);
    await finish(next);
  });

  it('gives a stage back when another runner took one of the same pipeline first, so two accepts never exceed the limit', async () => {
    const a = await stageOf(await pushFile(limited(1), 'five'), 'deploy');
    const b = await stageOf(await pushFile(limited(1), 'six'), 'deploy');
    // Each runner its own client, which keeps the stage token it accepted with.
    const [ca, cb] = ['runner-a', 'runner-b'].map((name) => new RpcClient({ serverUrl: s.server.host, secret: TEST_RPC_SECRET, runner: name, attempts: 1 }));
    const [ra, rb] = await Promise.all([ca.accept(a.id, 'runner-a'), cb.accept(b.id, 'runner-b')]);
    expect([ra.accepted, rb.accepted].filter(Boolean).length).toBeLessThanOrEqual(1);
    // Whatever was given back is offered again once nothing of the pipeline runs.
    for (const [stage, result, holder] of [[a, ra, ca], [b, rb, cb]] as const) {
      if (result.accepted) await holder.updateStage(stage.id, { status: 'success', started: now(), stopped: now(), exit_code: 0 });
    }
    for (let left = [ra, rb].filter((r) => !r.accepted).length; left > 0; left--) {
      const stage = await take();
      expect([a.id, b.id]).toContain(stage.id);
      await finish(stage);
    }
    for (const stage of [a, b]) {
      const row = await s.server.ctx.db.stage.findUniqueOrThrow({ where: { id: stage.id } });
      expect(row.status).toBe('success');
    }
  });

  it('lets N stages of the pipeline run with limit N, the next waiting', async () => {
    const builds = [await pushFile(limited(2), 'seven'), await pushFile(limited(2), 'eight'), await pushFile(limited(2), 'nine')];
    const one = await take();
    const two = await take();
    expect([one.build_id, two.build_id]).toEqual([builds[0].id, builds[1].id]);
    await Promise.all([start(one), start(two)]);
    expect(await offered()).toBeNull();
    await finish(one);
    const three = await take();
    expect(three.build_id).toBe(builds[2].id);
    await Promise.all([finish(two), finish(three)]);
  });

  it('does not hold back another pipeline, nor stages of a pipeline without a limit', async () => {
    const file = `${limited(1)}---\n${FREE}`;
    await pushFile(file, 'ten');
    await pushFile(file, 'eleven');
    const taken: Stage[] = [];
    for (let i = 0; i < 3; i++) {
      const stage = await take();
      await start(stage);
      taken.push(stage);
    }
    expect(await offered()).toBeNull();
    // One deploy (the limit) and both test stages.
    expect(taken.map((st) => st.name).sort()).toEqual(['deploy', 'test', 'test']);
    for (const stage of taken) await finish(stage);
    const last = await take();
    expect(last.name).toBe('deploy');
    await finish(last);
  });
});
