// How the server runs a build's pipelines as a graph, driven through its real HTTP
// surface by a client speaking the runner protocol: a diamond of depends_on, a failure
// that skips its dependents but starts the pipelines that run on failure, and a graph
// the linter refuses (a cycle, an unknown name) becoming an error build with line:col.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Build, Stage, Status } from '../../core/domain.ts';
import type { RunnerInfo } from '../../core/protocol.ts';
import { RpcClient } from '../../runner/rpc-client.ts';
import { githubScenario, SLUG, type GithubScenario } from '../support/scenario.ts';
import { TEST_RPC_SECRET } from '../support/server.ts';

const RUNNER: RunnerInfo = { name: 'graph-runner', labels: {}, capacity: 1, running: [], os: 'linux', arch: 'amd64', version: 'test' };

function pipeline(name: string, opts: { dependsOn?: string[]; onFailure?: boolean } = {}): string {
  return [
    'kind: pipeline',
    'type: docker',
    `name: ${name}`,
    ...(opts.dependsOn ? [`depends_on: [${opts.dependsOn.join(', ')}]`] : []),
    ...(opts.onFailure ? ['trigger:', '  status: [failure]'] : []),
    'steps:',
    '- name: work',
    '  image: alpine:3',
    '  commands: [echo work]',
    '',
  ].join('\n');
}

const DIAMOND = [pipeline('a'), pipeline('b', { dependsOn: ['a'] }), pipeline('c', { dependsOn: ['a'] }), pipeline('d', { dependsOn: ['b', 'c'] })].join('---\n');

describe.each(['sqlite', 'postgres'] as const)('the pipeline graph on %s', (flavour) => {
  let s: GithubScenario;
  let rpc: RpcClient;

  beforeAll(async () => {
    s = await githubScenario({ pipeline: DIAMOND, flavour });
    rpc = new RpcClient({ serverUrl: s.server.host, secret: TEST_RPC_SECRET, runner: RUNNER.name, attempts: 1 });
  });
  afterAll(async () => {
    await s?.close();
  });

  async function build(number: number): Promise<Build> {
    return (await (await s.api(`/api/repos/${SLUG}/builds/${number}`)).json()) as Build;
  }

  const statuses = (b: Build) => Object.fromEntries(b.stages!.map((st) => [st.name, st.status]));

  /** The stage a runner is offered now, accepted, or null when none is ready within the window: for checking that none is. */
  async function offered(windowMs = 400): Promise<Stage | null> {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), windowMs);
    let stage: Stage | null;
    try {
      stage = await rpc.request(RUNNER, ac.signal);
    } catch {
      return null;
    } finally {
      clearTimeout(timer);
    }
    if (stage) expect((await rpc.accept(stage.id, RUNNER.name)).accepted).toBe(true);
    return stage;
  }

  /** A stage that must be ready: waited for as long as the server's poll holds, however busy the machine, and accepted. */
  async function take(): Promise<Stage> {
    const stage = await rpc.request(RUNNER);
    expect(stage, 'a stage was ready').not.toBeNull();
    expect((await rpc.accept(stage!.id, RUNNER.name)).accepted).toBe(true);
    return stage!;
  }

  /** Runs an accepted stage to `status`, as a runner would report it. */
  async function run(stage: Stage, status: Status): Promise<void> {
    const now = Math.floor(Date.now() / 1000);
    await rpc.updateStage(stage.id, { status: 'running', started: now });
    await rpc.updateStage(stage.id, { status, started: now, stopped: now, exit_code: status === 'success' ? 0 : 1 });
  }

  async function pushPipeline(file: string, message: string): Promise<Build> {
    const { responses } = await s.push({ '.drone.yml': file }, message);
    return await responses[0].build();
  }

  it('runs a diamond: the top first, both sides when it passed, the bottom only after both', async () => {
    const { number } = await pushPipeline(DIAMOND, 'Diamond');
    expect(statuses(await build(number))).toEqual({ a: 'pending', b: 'waiting_on_dependencies', c: 'waiting_on_dependencies', d: 'waiting_on_dependencies' });

    const a = await take();
    expect(a?.name).toBe('a');
    expect(await offered()).toBeNull();
    await run(a!, 'success');
    expect(statuses(await build(number))).toMatchObject({ b: 'pending', c: 'pending', d: 'waiting_on_dependencies' });

    const first = await take();
    const second = await take();
    expect([first.name, second.name].sort()).toEqual(['b', 'c']);
    await run(first, 'success');
    expect(statuses(await build(number)).d).toBe('waiting_on_dependencies');
    await run(second, 'success');

    const d = await take();
    expect(d?.name).toBe('d');
    expect((await build(number)).status).toBe('running');
    await run(d!, 'success');
    const done = await build(number);
    expect(done.status).toBe('success');
    expect(statuses(done)).toEqual({ a: 'success', b: 'success', c: 'success', d: 'success' });
  });

  it('skips what depends on a failed pipeline, runs the pipeline that runs on failure, and fails the build', async () => {
    const file = [pipeline('build'), pipeline('deploy', { dependsOn: ['build'] }), pipeline('after-deploy', { dependsOn: ['deploy'] }), pipeline('notify', { dependsOn: ['build'], onFailure: true })].join('---\n');
    const { number } = await pushPipeline(file, 'With a failure path');
    const created = await build(number);
    expect(created.stages!.find((st) => st.name === 'notify')).toMatchObject({ on_success: false, on_failure: true });

    const first = await take();
    expect(first.name).toBe('build');
    await run(first, 'failure');
    expect(statuses(await build(number))).toEqual({ build: 'failure', deploy: 'skipped', 'after-deploy': 'skipped', notify: 'pending' });

    const notify = await take();
    expect(notify?.name).toBe('notify');
    await run(notify!, 'success');
    const done = await build(number);
    expect(done.status).toBe('failure');
    expect(done.stages!.find((st) => st.name === 'deploy')!.steps!.every((st) => st.status === 'skipped')).toBe(true);
  });

  it('skips the on-failure pipeline when everything before it passed', async () => {
    const file = [pipeline('build'), pipeline('notify', { dependsOn: ['build'], onFailure: true })].join('---\n');
    const { number } = await pushPipeline(file, 'All good');
    await run(await take(), 'success');
    const done = await build(number);
    expect(statuses(done)).toEqual({ build: 'success', notify: 'skipped' });
    expect(done.status).toBe('success');
    expect(await offered()).toBeNull();
  });

  it('makes a dependency cycle an error build that names the cycle at its line and column', async () => {
    const file = [pipeline('a', { dependsOn: ['b'] }), pipeline('b', { dependsOn: ['a'] })].join('---\n');
    const created = await pushPipeline(file, 'A cycle');
    expect(created.status).toBe('error');
    expect(created.error).toMatch(/^\.drone\.yml:\d+:\d+:? pipelines depend on each other in a cycle: (a -> b -> a|b -> a -> b)/);
    expect((await build(created.number)).stages).toEqual([]);
    expect(await offered()).toBeNull();
    const status = await s.fake.waitForStatus((st) => st.sha === created.after && st.state === 'error');
    expect(status.description).toBeTruthy();
  });

  it('makes depends_on naming no pipeline an error build at the pipeline\'s line and column, suggesting the name meant', async () => {
    const file = [pipeline('build'), pipeline('deploy', { dependsOn: ['biuld'] })].join('---\n');
    const created = await pushPipeline(file, 'A typo');
    expect(created.status).toBe('error');
    // The second document starts after the first one's 7 lines and the separator.
    expect(created.error).toMatch(/^\.drone\.yml:9:1:? pipeline `deploy` depends on `biuld`, which is not a pipeline in this file\..*build/);
  });
});
