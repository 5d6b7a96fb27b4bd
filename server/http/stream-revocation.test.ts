// An event stream opened by a signed-in user does not outlive their right to it: blocking the
// user, or revoking the token the stream was opened with, ends it at the next heartbeat.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubScenario, SLUG, type GithubScenario } from '../../test/support/scenario.ts';
import { buildStreamRouter } from '../api/build-stream-routes.ts';
import { authenticate } from '../auth/authenticate.ts';
import { errorHandler } from './errors.ts';

/** Reads an event stream's comments until the server ends it or the test aborts it. */
function openStream(url: string, token: string) {
  const controller = new AbortController();
  const stream = { status: 0, beats: 0, ended: false, close: () => controller.abort() };
  const opened = fetch(url, { headers: { Authorization: `Bearer ${token}` }, signal: controller.signal }).then((res) => {
    stream.status = res.status;
    return res;
  });
  const done = opened
    .then(async (res) => {
      const decoder = new TextDecoder();
      for await (const chunk of res.body!) stream.beats += (decoder.decode(chunk as Uint8Array).match(/: ping/g) ?? []).length;
      stream.ended = true;
    })
    .catch(() => {});
  return Object.assign(stream, { opened, done });
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('event streams after the caller loses access', () => {
  let s: GithubScenario;
  let server: http.Server;
  let url: string;

  beforeAll(async () => {
    s = await githubScenario({ pipeline: 'kind: pipeline\ntype: docker\nname: default\nsteps:\n- name: a\n  image: alpine:3\n  commands: [echo]\n' });
    const app = express();
    app.use(authenticate(s.server.ctx));
    app.use(buildStreamRouter(s.server.ctx, new AbortController().signal, 30));
    app.use(errorHandler(s.server.ctx.logger));
    server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/stream/${SLUG}`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await s?.close();
  });

  let made = 0;
  async function newToken(): Promise<{ token: string; id: string }> {
    const res = await s.api('/api/user/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: `stream-${++made}` }) });
    expect(res.status).toBe(201);
    return (await res.json()) as { token: string; id: string };
  }

  it('keeps the stream of a caller who may still read it', async () => {
    const stream = openStream(url, (await newToken()).token);
    await stream.opened;
    expect(stream.status).toBe(200);
    await until(() => stream.beats >= 5, 'five heartbeats');
    expect(stream.ended).toBe(false);
    stream.close();
  });

  it('ends the stream at the next heartbeat once its token is revoked', async () => {
    const { token, id } = await newToken();
    const stream = openStream(url, token);
    await stream.opened;
    await until(() => stream.beats >= 1, 'a heartbeat');
    expect((await s.api(`/api/user/tokens/${id}`, { method: 'DELETE' })).status).toBe(204);
    await stream.done;
    expect(stream.ended).toBe(true);
  });

  it('ends the stream once an administrator blocks the user', async () => {
    const stream = openStream(url, (await newToken()).token);
    await stream.opened;
    await until(() => stream.beats >= 1, 'a heartbeat');
    await s.server.ctx.db.user.updateMany({ data: { active: false } });
    await stream.done;
    expect(stream.ended).toBe(true);
    await s.server.ctx.db.user.updateMany({ data: { active: true } });
  });
});
