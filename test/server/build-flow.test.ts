// The server's half of a build, driven through its real HTTP surface: a signed
// webhook creates the build, a client speaking the runner protocol takes the
// stage, reports steps and logs, and the build settles with commit statuses sent
// to the GitHub stand-in. The runner itself is tested in runner/ and end to end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Build, LogLine } from '../../core/domain.ts';
import type { RunnerInfo } from '../../core/protocol.ts';
import { RpcClient } from '../../runner/rpc-client.ts';
import { deliverGithubHook } from '../fakes/github-payloads.ts';
import { githubScenario, SLUG, type GithubScenario } from '../support/scenario.ts';
import { longPollHeld } from '../support/long-poll.ts';
import { TEST_RPC_SECRET } from '../support/server.ts';

const PIPELINE = `kind: pipeline
type: docker
name: default

steps:
- name: build
  image: alpine:3
  commands:
  - echo hello
- name: test
  image: alpine:3
  commands:
  - echo world
`;

const RUNNER: RunnerInfo = { name: 'test-runner', labels: {}, capacity: 1, running: [], os: 'linux', arch: 'amd64', version: 'test' };

describe.each(['sqlite', 'postgres'] as const)('the server on %s', (flavour) => {
  let s: GithubScenario;
  let rpc: RpcClient;
  /** The runner that won the race for build 1's stage, which the following tests report as. */
  let holder: RpcClient;

  beforeAll(async () => {
    s = await githubScenario({ pipeline: PIPELINE, flavour });
    rpc = new RpcClient({ serverUrl: s.server.host, secret: TEST_RPC_SECRET, runner: RUNNER.name, attempts: 1 });
  });
  afterAll(async () => {
    await s?.close();
  });

  async function build(number: number): Promise<Build> {
    const res = await s.api(`/api/repos/${SLUG}/builds/${number}`);
    expect(res.status).toBe(200);
    return (await res.json()) as Build;
  }

  /** Takes the next stage as a runner would: request, then accept. */
  async function takeStage() {
    const stage = await rpc.request(RUNNER);
    expect(stage).not.toBeNull();
    const accepted = await rpc.accept(stage!.id, RUNNER.name);
    expect(accepted.accepted).toBe(true);
    return stage!;
  }

  describe('a push to an active repository', () => {
    it('records a pending build with its stage and Drone-numbered steps, and reports a pending commit status', async () => {
      const { sha, responses } = await s.push({ 'a.txt': 'a' }, 'Add a');
      expect(responses.map((r) => r.status)).toEqual([202]);
      const created = await responses[0].build();
      expect(created).toMatchObject({ number: 1, status: 'pending', event: 'push', after: sha, ref: 'refs/heads/main', target: 'main', message: 'Add a' });
      const b = await build(1);
      expect(b.stages).toHaveLength(1);
      expect(b.stages![0]).toMatchObject({ number: 1, name: 'default', status: 'pending' });
      expect(b.stages![0].steps!.map((st) => [st.number, st.name, st.status])).toEqual([
        [1, 'clone', 'pending'],
        [2, 'build', 'pending'],
        [3, 'test', 'pending'],
      ]);
      const status = await s.fake.waitForStatus((st) => st.sha === sha);
      expect(status).toMatchObject({ state: 'pending', context: 'continuous-integration/harrier/push', targetUrl: `${s.server.host}/${SLUG}/1` });
    });

    it('gives the stage to exactly one of two runners: the second accept gets 409', async () => {
      const stage = await rpc.request(RUNNER);
      expect(stage).toMatchObject({ number: 1, name: 'default' });
      // Each runner its own client: the winner's client keeps the stage token it accepted with.
      const [ra, rb] = ['runner-a', 'runner-b'].map((name) => new RpcClient({ serverUrl: s.server.host, secret: TEST_RPC_SECRET, runner: name, attempts: 1 }));
      const [first, second] = await Promise.all([ra.accept(stage!.id, 'runner-a'), rb.accept(stage!.id, 'runner-b')]);
      expect([first.accepted, second.accepted].sort()).toEqual([false, true]);
      holder = first.accepted ? ra : rb;
      const raw = await fetch(`${s.server.host}/rpc/v1/stages/${stage!.id}/accept`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${TEST_RPC_SECRET}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ machine: 'runner-c', token: 'c'.repeat(43) }),
      });
      expect(raw.status).toBe(409);
    });

    it('hands the accepted stage its details: the pipeline file, the repository and the build', async () => {
      const b = await build(1);
      const details = await holder.details(b.stages![0].id);
      expect(details.config).toBe(PIPELINE);
      expect(details.repo.slug).toBe(SLUG);
      expect(details.build.number).toBe(1);
      expect(details.stage.steps!.map((st) => st.name)).toEqual(['clone', 'build', 'test']);
      expect(details.system.link).toBe(s.server.host);
      expect(details.netrc).toBeNull();
    });

    it('stores log lines as they arrive, serves them in order, streams them live, and settles the build as success', async () => {
      const b = await build(1);
      const stage = b.stages![0];
      const [clone, buildStep, testStep] = stage.steps!;
      const now = Math.floor(Date.now() / 1000);
      await holder.updateStage(stage.id, { status: 'running', started: now });
      for (const step of [clone, buildStep]) {
        await holder.updateStep(step.id, { status: 'running', started: now });
        await holder.sendLogs(step.id, [{ pos: 0, out: `+ ${step.name}\n`, time: 0 }]);
        await holder.updateStep(step.id, { status: 'success', exit_code: 0, started: now, stopped: now });
      }
      expect((await build(1)).status).toBe('running');

      await holder.updateStep(testStep.id, { status: 'running', started: now });
      await holder.sendLogs(testStep.id, [{ pos: 0, out: '+ echo world\n', time: 0 }]);
      // A live reader joins mid-step: gets the stored line at once, then the next as it is sent.
      const controller = new AbortController();
      const streamed = readEventStream(`${s.server.host}/api/stream/${SLUG}/1/1/3`, s.token, controller.signal);
      await waitFor(() => streamed.lines.length === 1);
      await holder.sendLogs(testStep.id, [{ pos: 1, out: 'world\n', time: 1 }]);
      await waitFor(() => streamed.lines.length === 2);
      // A retried batch is not stored twice.
      await holder.sendLogs(testStep.id, [{ pos: 1, out: 'world\n', time: 1 }]);
      await holder.updateStep(testStep.id, { status: 'success', exit_code: 0, started: now, stopped: now });
      await streamed.done;
      expect(streamed.lines.map((l) => l.out)).toEqual(['+ echo world\n', 'world\n']);
      expect(streamed.events).toContain('done');

      const logs = (await (await s.api(`/api/repos/${SLUG}/builds/1/logs/1/3`)).json()) as LogLine[];
      expect(logs).toEqual([
        { pos: 0, out: '+ echo world\n', time: 0 },
        { pos: 1, out: 'world\n', time: 1 },
      ]);

      await holder.updateStage(stage.id, { status: 'success', stopped: now, exit_code: 0 });
      const done = await build(1);
      expect(done.status).toBe('success');
      expect(done.finished).toBeGreaterThan(0);
      const status = await s.fake.waitForStatus((st) => st.sha === done.after && st.state === 'success');
      expect(status.description).toMatch(/passing/i);
    });

    it('resumes a dropped live stream after the Last-Event-ID it got', async () => {
      const res = await fetch(`${s.server.host}/api/repos/${SLUG}/builds/1/logs/1/3`, {
        headers: { Authorization: `Bearer ${s.token}`, Accept: 'text/event-stream', 'Last-Event-ID': '0' },
      });
      expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
      const text = await res.text();
      expect(text).toContain('id: 1\ndata: {"pos":1,"out":"world\\n","time":1}');
      expect(text).not.toContain('id: 0\n');
      expect(text).toContain('event: done');
    });
  });

  describe('waiting runners', () => {
    it('wakes a long-polling runner as soon as a stage is queued', async () => {
      const polling = rpc.request(RUNNER);
      await longPollHeld(s.server.ctx);
      const { sha } = await s.push({ 'b.txt': 'b' }, 'Add b');
      const stage = await polling;
      expect(stage).not.toBeNull();
      expect((await rpc.accept(stage!.id, RUNNER.name)).accepted).toBe(true);
      const details = await rpc.details(stage!.id);
      expect(details.build.after).toBe(sha);
    });

    it('tells a watching runner when its build is cancelled, and skips what had not started', async () => {
      await s.push({ 'c.txt': 'c' }, 'Add c');
      const stage = await takeStage();
      const details = await rpc.details(stage.id);
      const watching = rpc.watch(details.build.id);
      const cancel = await s.api(`/api/repos/${SLUG}/builds/${details.build.number}`, { method: 'DELETE' });
      expect(cancel.status).toBe(200);
      expect(await watching).toMatchObject({ cancelled: true });
      await rpc.updateStage(stage.id, { status: 'killed', stopped: Math.floor(Date.now() / 1000) });
      const b = await build(details.build.number);
      expect(b.status).toBe('killed');
      expect(b.stages![0].steps!.every((st) => st.status === 'skipped')).toBe(true);
    });

    it('does not offer a stage to a runner whose labels do not match the pipeline node', async () => {
      s.git.commit({ '.drone.yml': PIPELINE.replace('name: default', 'name: gpu\nnode:\n  gpu: "yes"') }, 'Needs a GPU');
      const sha = s.git.head();
      await s.fake.push(SLUG, { after: sha });
      const plain = new AbortController();
      setTimeout(() => plain.abort(), 500);
      await expect(rpc.request(RUNNER, plain.signal)).rejects.toThrow();
      const stage = await rpc.request({ ...RUNNER, name: 'gpu-runner', labels: { gpu: 'yes' } });
      expect(stage).toMatchObject({ name: 'gpu', labels: { gpu: 'yes' } });
    });
  });

  describe('webhook deliveries', () => {
    it('refuses a delivery signed with the wrong secret with 401', async () => {
      const hook = s.fake.state.hooks.items.find((h) => !h.deleted)!;
      const res = await deliverGithubHook(hook.url, 'push', pushBody(s), 'not-the-secret');
      expect(res.status).toBe(401);
      expect(((await res.json()) as { message: string }).message).toMatch(/signature/);
    });

    it('refuses a body that is not JSON with 400', async () => {
      const hook = s.fake.state.hooks.items.find((h) => !h.deleted)!;
      const res = await deliverGithubHook(hook.url, 'push', Buffer.from('{not json'), hook.secret);
      expect(res.status).toBe(400);
    });

    it('refuses a body over 10 MB with 413', async () => {
      const hook = s.fake.state.hooks.items.find((h) => !h.deleted)!;
      const big = Buffer.alloc(11 * 1024 * 1024, 'a');
      const res = await deliverGithubHook(hook.url, 'push', big, hook.secret);
      expect(res.status).toBe(413);
    });

    it('creates no second build for a delivery id it has seen', async () => {
      const hook = s.fake.state.hooks.items.find((h) => !h.deleted)!;
      const before = ((await (await s.api(`/api/repos/${SLUG}/builds`)).json()) as Build[]).length;
      const payload = pushBody(s, s.git.commit({ 'c.txt': 'c' }, 'Add c'));
      const first = await deliverGithubHook(hook.url, 'push', payload, hook.secret, { deliveryId: 'same-delivery' });
      const again = await deliverGithubHook(hook.url, 'push', payload, hook.secret, { deliveryId: 'same-delivery' });
      expect([first.status, again.status]).toEqual([202, 200]);
      const firstAnswer = (await first.json()) as { id: number };
      const againAnswer = (await again.json()) as { id: number; message: string };
      expect(againAnswer.id).toBe(firstAnswer.id);
      expect(againAnswer.message).toMatch(/already received/);
      expect((await first.outcome()).status).toBe('built');
      const after = ((await (await s.api(`/api/repos/${SLUG}/builds`)).json()) as Build[]).length;
      expect(after).toBe(before + 1);
    });

    it('fails the build of a malformed pipeline with the line and column of the mistake', async () => {
      const { responses } = await s.push({ '.drone.yml': 'kind: pipeline\nsteps:\n- name: x\n  image: alpine:3\n  comands: [ls]\n' }, 'Typo');
      const b = await responses[0].build();
      expect(b.status).toBe('error');
      expect(b.error).toMatch(/\.drone\.yml:5:3 .*comands/);
      const status = await s.fake.waitForStatus((st) => st.sha === b.after && st.state === 'error');
      expect(status.context).toBe('continuous-integration/harrier/push');
    });
  });
});

function pushBody(scenario: GithubScenario, sha = scenario.git.head()) {
  const repo = scenario.fake.repo(SLUG)!;
  return {
    ref: 'refs/heads/main',
    before: '0'.repeat(40),
    after: sha,
    created: false,
    deleted: false,
    forced: false,
    base_ref: null,
    compare: '',
    commits: [],
    head_commit: { id: sha, message: 'm', timestamp: new Date().toISOString(), url: '', author: { name: 'a', email: 'a@b', username: 'a' }, committer: { name: 'a', email: 'a@b' } },
    repository: { id: repo.id, name: 'hello-world', full_name: SLUG, private: false, owner: { login: 'octocat', name: 'octocat' }, html_url: repo.htmlUrl, clone_url: repo.cloneUrl, ssh_url: repo.sshUrl, default_branch: 'main' },
    pusher: { name: 'octocat', email: 'o@c' },
    sender: { login: 'octocat', id: 1, avatar_url: '' },
  };
}

async function waitFor(check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A minimal EventSource: collects data lines and event names until the stream ends. */
function readEventStream(url: string, token: string, signal: AbortSignal) {
  const lines: LogLine[] = [];
  const events: string[] = [];
  const done = (async () => {
    const res = await fetch(url, { headers: { Authorization: `Bearer ${token}`, Accept: 'text/event-stream' }, signal });
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let at: number;
      while ((at = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, at);
        buffer = buffer.slice(at + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event) events.push(event);
        else if (data) lines.push(JSON.parse(data) as LogLine);
      }
    }
  })();
  return { lines, events, done };
}
