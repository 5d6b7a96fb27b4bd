import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Build } from '../../core/domain.ts';
import type { RunnerInfo } from '../../core/protocol.ts';
import { RpcClient } from '../../runner/rpc-client.ts';
import { githubScenario, SLUG, type GithubScenario } from '../../test/support/scenario.ts';
import { TEST_RPC_SECRET } from '../../test/support/server.ts';
import { channels } from '../events/event-bus.ts';
import { errorHandler } from '../http/errors.ts';
import { buildStreamRouter } from './build-stream-routes.ts';

const PIPELINE = `kind: pipeline
type: docker
name: default

steps:
- name: build
  image: alpine:3
  commands:
  - echo hello
`;

const RUNNER: RunnerInfo = { name: 'stream-runner', labels: {}, capacity: 1, running: [], os: 'linux', arch: 'amd64', version: 'test' };

/** An EventSource-like reader: the `data` of each event, the comments, and whether the server ended the stream. */
function openStream(url: string, token?: string) {
  const controller = new AbortController();
  const stream = { builds: [] as Build[], comments: [] as string[], ended: false, status: 0, type: '', close: () => controller.abort() };
  const opened = (async () => {
    const res = await fetch(url, { headers: token ? { Authorization: `Bearer ${token}` } : {}, signal: controller.signal });
    stream.status = res.status;
    stream.type = res.headers.get('content-type') ?? '';
    return res;
  })();
  const done = opened.then(async (res) => {
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { value, done: finished } = await reader.read();
        if (finished) break;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          for (const line of block.split('\n')) {
            if (line.startsWith('data: ')) stream.builds.push(JSON.parse(line.slice(6)) as Build);
            else if (line.startsWith(':')) stream.comments.push(line);
          }
        }
      }
      stream.ended = true;
    } catch {
      // Aborted by the test.
    }
  });
  return Object.assign(stream, { opened, done });
}

async function until(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.each(['sqlite', 'postgres'] as const)('GET /api/stream/{owner}/{name} on %s', (flavour) => {
  let s: GithubScenario;
  let rpc: RpcClient;
  const url = () => `${s.server.host}/api/stream/${SLUG}`;
  const subscribers = async (repoId: number) => {
    const [, count] = (await s.server.ctx.redis.pubsub('NUMSUB', `${s.server.env.HARRIER_REDIS_PREFIX}:${channels.repoBuilds(repoId)}`)) as [string, number];
    return Number(count);
  };
  const repoId = async () => (await s.server.ctx.db.repo.findFirstOrThrow({ where: { slug: SLUG } })).id;

  beforeAll(async () => {
    s = await githubScenario({ pipeline: PIPELINE, flavour });
    rpc = new RpcClient({ serverUrl: s.server.host, secret: TEST_RPC_SECRET, runner: RUNNER.name, attempts: 1 });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('answers an event stream and sends a build the moment a push creates it, without its stages', async () => {
    const stream = openStream(url(), s.token);
    await stream.opened;
    expect(stream.status).toBe(200);
    expect(stream.type).toMatch(/^text\/event-stream/);
    const { sha, responses } = await s.push({ 'a.txt': 'a' }, 'Add a');
    expect(await responses[0].build()).toMatchObject({ number: 1 });
    await until(() => stream.builds.length > 0, 'the new build');
    expect(stream.builds[0]).toMatchObject({ number: 1, status: 'pending', after: sha, message: 'Add a', config_source: 'file' });
    expect(stream.builds[0]).not.toHaveProperty('stages');
    stream.close();
  });

  it('sends the build again as its stage and steps move, ending with its final status', async () => {
    const stream = openStream(url(), s.token);
    await stream.opened;
    const stage = await rpc.request(RUNNER);
    await rpc.accept(stage!.id, RUNNER.name);
    const now = s.server.ctx.now();
    await rpc.updateStage(stage!.id, { status: 'running', started: now });
    await until(() => stream.builds.some((b) => b.status === 'running'), 'the running build');
    for (const step of stage!.steps!) await rpc.updateStep(step.id, { status: 'success', exit_code: 0, started: now, stopped: now });
    await rpc.updateStage(stage!.id, { status: 'success', started: now, stopped: now });
    await until(() => stream.builds.at(-1)?.status === 'success', 'the finished build');
    expect(new Set(stream.builds.map((b) => b.number))).toEqual(new Set([1]));
    expect(stream.builds.at(-1)!.finished).toBeGreaterThan(0);
    stream.close();
  });

  it('sends nothing about builds of other repositories', async () => {
    const { db } = s.server.ctx;
    const now = s.server.ctx.now();
    const other = await db.repo.create({ data: { provider: 'github', uid: 'other', namespace: 'octo', name: 'other', slug: 'octo/other', createdAt: now, updatedAt: now } });
    const foreign = await db.build.create({ data: { repoId: other.id, number: 1, status: 'pending', event: 'push', createdAt: now, updatedAt: now } });
    const stream = openStream(url(), s.token);
    await stream.opened;
    // A message naming another repository's build on this repository's channel, and one that names no build.
    await s.server.ctx.events.publish(channels.repoBuilds(await repoId()), { build: foreign.id, number: 1, status: 'pending', cancelled: false });
    await s.server.ctx.events.publish(channels.repoBuilds(await repoId()), { nonsense: true });
    const { responses } = await s.push({ 'b.txt': 'b' }, 'Add b');
    expect((await responses[0].build()).number).toBe(2);
    await until(() => stream.builds.length > 0, 'the pushed build');
    expect(stream.builds.map((b) => b.repo_id)).toEqual([await repoId()]);
    stream.close();
  });

  it('stops listening when the client leaves', async () => {
    const id = await repoId();
    const stream = openStream(url(), s.token);
    await stream.opened;
    expect(await subscribers(id)).toBe(1);
    stream.close();
    const deadline = Date.now() + 30_000;
    while ((await subscribers(id)) !== 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(await subscribers(id)).toBe(0);
  });

  it('lets anyone follow a public repository, and answers 404 for a private one to someone who cannot read it', async () => {
    const anonymous = openStream(url());
    await anonymous.opened;
    expect(anonymous.status).toBe(200);
    anonymous.close();
    const { db } = s.server.ctx;
    const id = await repoId();
    await db.repo.update({ where: { id }, data: { private: true, visibility: 'private' } });
    try {
      const res = await fetch(url());
      expect(res.status).toBe(404);
    } finally {
      await db.repo.update({ where: { id }, data: { private: false, visibility: 'public' } });
    }
  });

  it('leaves Drone\'s log stream path to the log stream', async () => {
    const res = await s.api(`/api/stream/${SLUG}/99/1/1`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { message: string }).message).toBe(`${SLUG} has no build 99`);
  });

  it('sends heartbeat comments while nothing happens, and ends when the server shuts down', async () => {
    const shutdown = new AbortController();
    const app = express();
    app.use(buildStreamRouter(s.server.ctx, shutdown.signal, 30));
    app.use(errorHandler(s.server.ctx.logger));
    const server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const stream = openStream(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/stream/${SLUG}`);
      await stream.opened;
      await until(() => stream.comments.length >= 2, 'two heartbeats');
      expect(stream.comments[0]).toBe(': ping');
      shutdown.abort();
      await stream.done;
      expect(stream.ended).toBe(true);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('ends open streams when the whole server stops', async () => {
    const stream = openStream(url(), s.token);
    await stream.opened;
    await s.server.close();
    await stream.done;
    expect(stream.ended).toBe(true);
  });
});
