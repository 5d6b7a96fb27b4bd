// Why a build waits, as the build page shows it: runners register through the
// real runner protocol (ping), and GET …/builds/{number} says, per stage, what
// the stage is waiting for.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Build, Stage } from '../../core/domain.ts';
import type { RunnerInfo } from '../../core/protocol.ts';
import { RpcClient } from '../../runner/rpc-client.ts';
import { githubScenario, SLUG, type GithubScenario } from '../support/scenario.ts';
import { TEST_RPC_SECRET } from '../support/server.ts';

const PIPELINE = `kind: pipeline
type: docker
name: build

node:
  gpu: yes

steps:
- name: compile
  image: alpine:3
  commands:
  - echo compile
---
kind: pipeline
type: docker
name: deploy

depends_on:
- build

steps:
- name: ship
  image: alpine:3
  commands:
  - echo ship
`;

const runner = (name: string, over: Partial<RunnerInfo> = {}): RunnerInfo => ({
  name,
  labels: {},
  capacity: 1,
  running: [],
  os: 'linux',
  arch: 'amd64',
  version: 'test',
  ...over,
});

describe.each(['sqlite', 'postgres'] as const)('why a build waits, on %s', (flavour) => {
  let s: GithubScenario;
  let rpc: RpcClient;

  beforeAll(async () => {
    s = await githubScenario({ pipeline: PIPELINE, flavour });
    rpc = new RpcClient({ serverUrl: s.server.host, secret: TEST_RPC_SECRET, runner: 'gpu-2', attempts: 1 });
    const { responses } = await s.push({ 'a.txt': 'a' }, 'Add a');
    // Build 1, which the tests read, once a worker made it.
    expect((await responses[0].build()).number).toBe(1);
  });
  afterAll(async () => {
    await s?.close();
  });

  async function stages(path = `/api/repos/${SLUG}/builds/1`): Promise<Stage[]> {
    const res = await s.api(path);
    expect(res.status).toBe(200);
    return ((await res.json()) as Build).stages!;
  }
  const waiting = async () => (await stages()).map((st) => st.waiting);

  it('says no runner is connected before any runner pinged, and names the pipelines a stage depends on', async () => {
    expect(await waiting()).toEqual(['no runner is connected', 'waiting for pipeline build']);
  });

  it('names the labels no connected runner has', async () => {
    await rpc.ping(runner('cpu-1'));
    expect((await waiting())[0]).toBe('no runner has labels gpu=yes');
  });

  it('says the only matching runner is busy, then that all matching runners are', async () => {
    await rpc.ping(runner('gpu-1', { labels: { gpu: 'yes' }, running: [999_001] }));
    expect((await waiting())[0]).toBe('the only matching runner, gpu-1, is busy');
    await rpc.ping(runner('gpu-2', { labels: { gpu: 'yes' }, running: [999_002] }));
    expect((await waiting())[0]).toBe('all 2 matching runners are busy');
  });

  it('ignores runners not heard from for over a minute', async () => {
    await s.server.ctx.db.runner.updateMany({ where: { name: { startsWith: 'gpu-' } }, data: { lastSeen: s.server.ctx.now() - 61 } });
    expect((await waiting())[0]).toBe('no runner has labels gpu=yes');
  });

  it('says the stage is queued when a matching runner has a free slot, and where it starts once accepted', async () => {
    const free = runner('gpu-2', { labels: { gpu: 'yes' } });
    await rpc.ping(free);
    expect((await waiting())[0]).toBe('queued for a matching runner with a free slot');
    const offered = await rpc.request(free);
    expect(offered).toMatchObject({ name: 'build' });
    expect((await rpc.accept(offered!.id, 'gpu-2')).accepted).toBe(true);
    expect((await waiting())[0]).toBe('starting on gpu-2');
  });

  it('gives no reason for a stage that runs, and also answers the reasons for the latest build', async () => {
    const [build] = await stages();
    await rpc.updateStage(build.id, { status: 'running', started: s.server.ctx.now() });
    const latest = await stages(`/api/repos/${SLUG}/builds/latest`);
    expect(latest.map((st) => st.waiting)).toEqual([undefined, 'waiting for pipeline build']);
    expect('waiting' in latest[0]).toBe(false);
  });

  it('leaves the reasons out of the build list', async () => {
    const res = await s.api(`/api/repos/${SLUG}/builds`);
    expect(JSON.stringify(await res.json())).not.toContain('waiting"');
  });
});
