// Runner credentials: per-runner tokens an administrator issues and revokes, in place of the
// shared HARRIER_RPC_SECRET or beside it; a token speaks for its own runner name only; a
// server may run with tokens alone; and no body is read before the credentials are checked.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Build, RunnerTokenIssuedJson, RunnerTokenJson } from '../../core/domain.ts';
import { RUNNER_HEADER, rpcPaths, type RunnerInfo } from '../../core/protocol.ts';
import { RpcClient } from '../../runner/rpc-client.ts';
import { createApiToken } from '../../server/auth/api-token.ts';
import { githubScenario, SLUG, type GithubScenario } from '../support/scenario.ts';
import { TEST_RPC_SECRET } from '../support/server.ts';

const PIPELINE = `kind: pipeline
type: docker
name: default
steps:
- name: build
  image: alpine:3
  commands: [echo build]
`;

const now = () => Math.floor(Date.now() / 1000);
const info = (name: string, over: Partial<RunnerInfo> = {}): RunnerInfo => ({ name, labels: {}, capacity: 1, running: [], os: 'linux', arch: 'amd64', version: 'test', ...over });

function harness(flavour: 'sqlite' | 'postgres', env: Record<string, string> = {}) {
  const h = {} as { s: GithubScenario };
  beforeAll(async () => {
    h.s = await githubScenario({ pipeline: PIPELINE, flavour, env });
    await h.s.server.ctx.db.user.updateMany({ data: { admin: true } });
  });
  afterAll(async () => {
    await h.s?.close();
  });

  async function issue(runner: string): Promise<RunnerTokenIssuedJson> {
    const res = await h.s.api('/api/runners/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ runner }) });
    expect(res.status).toBe(201);
    return (await res.json()) as RunnerTokenIssuedJson;
  }

  async function rpc(path: string, bearer: string, body: unknown, name?: string): Promise<{ status: number; message: string }> {
    const res = await fetch(h.s.server.host + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', ...(name ? { [RUNNER_HEADER]: name } : {}) },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, message: text ? ((JSON.parse(text) as { message?: string }).message ?? '') : '' };
  }

  const client = (secret: string, runner: string) => new RpcClient({ serverUrl: h.s.server.host, secret, runner, attempts: 1 });
  return { h, issue, rpc, client };
}

describe.each(['sqlite', 'postgres'] as const)('runner tokens on %s', (flavour) => {
  const { h, issue, rpc, client } = harness(flavour);

  it('lets an administrator issue, list and revoke runner tokens, shown once; nobody else', async () => {
    const issued = await issue('tok-list');
    expect(issued.token).toMatch(/^hrt_[A-Za-z0-9_-]{43}$/);
    expect(issued).toMatchObject({ runner: 'tok-list', created_by: 'octocat', last_used: 0, revoked: 0 });
    const listed = (await (await h.s.api('/api/runners/tokens')).json()) as RunnerTokenJson[];
    const mine = listed.find((t) => t.id === issued.id)!;
    expect(mine).toEqual({ id: issued.id, runner: 'tok-list', created_by: 'octocat', created: issued.created, last_used: 0, revoked: 0 });
    expect(JSON.stringify(listed)).not.toContain(issued.token);

    const bad = await h.s.api('/api/runners/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ runner: 'has space' }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/^invalid request body: runner: a runner name/);
    expect((await h.s.api('/api/runners/tokens/not-an-id', { method: 'DELETE' })).status).toBe(404);

    const { db } = h.s.server.ctx;
    const stranger = await db.user.create({ data: { provider: 'github', providerId: '999', login: 'stranger', createdAt: now(), updatedAt: now() } });
    const strangerToken = await createApiToken(h.s.server.ctx, stranger.id);
    const as = (init: RequestInit = {}) => ({ ...init, headers: { ...(init.headers ?? {}), authorization: `Bearer ${strangerToken}` } });
    const listing = await fetch(`${h.s.server.host}/api/runners/tokens`, as());
    expect(listing.status).toBe(403);
    expect(((await listing.json()) as { message: string }).message).toContain('not an administrator');
    const issuing = await fetch(`${h.s.server.host}/api/runners/tokens`, as({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ runner: 'x' }) }));
    expect(issuing.status).toBe(403);
    expect((await fetch(`${h.s.server.host}/api/runners/tokens/${issued.id}`, as({ method: 'DELETE' }))).status).toBe(403);
    expect((await fetch(`${h.s.server.host}/api/runners/tokens`)).status).toBe(401);

    const revoked = await h.s.api(`/api/runners/tokens/${issued.id}`, { method: 'DELETE' });
    expect(revoked.status).toBe(200);
    expect(((await revoked.json()) as RunnerTokenJson).revoked).toBeGreaterThan(0);
  });

  it('runs a stage with a runner token in place of the shared secret', async () => {
    const { token } = await issue('tok-run');
    const { responses } = await h.s.push({ 'run.txt': 'run' }, 'run');
    const build = await responses[0].build();
    const runner = client(token, 'tok-run');
    expect(await runner.ping(info('tok-run'))).toMatchObject({ lost: [] });
    const stage = await runner.request(info('tok-run'));
    expect(stage?.build_id).toBe(build.id);
    expect((await runner.accept(stage!.id, 'tok-run')).accepted).toBe(true);
    expect((await runner.details(stage!.id)).repo.slug).toBe(SLUG);
    await runner.updateStage(stage!.id, { status: 'success', started: now(), stopped: now() });
  });

  it("refuses a runner token for runner X used under the name Y, wherever the call names a runner", async () => {
    const { token } = await issue('tok-x');
    const header = await rpc(rpcPaths.ping, token, info('tok-x'), 'tok-y');
    expect(header.status).toBe(403);
    expect(header.message).toBe('this runner token is for runner tok-x, not tok-y; set HARRIER_RUNNER_NAME=tok-x, or ask an administrator for a token for tok-y');
    expect((await rpc(rpcPaths.ping, token, info('tok-y'))).status).toBe(403);
    expect((await rpc(rpcPaths.request, token, info('tok-y'))).status).toBe(403);
    expect((await rpc(rpcPaths.accept(1), token, { machine: 'tok-y', token: 'a'.repeat(43) })).status).toBe(403);
    // Its own name is accepted, in the header or not.
    expect((await rpc(rpcPaths.ping, token, info('tok-x'), 'tok-x')).status).toBe(200);
    expect((await rpc(rpcPaths.ping, token, info('tok-x'))).status).toBe(200);
    // The shared secret still speaks for any name.
    expect((await rpc(rpcPaths.ping, TEST_RPC_SECRET, info('tok-y'), 'tok-y')).status).toBe(200);
  });

  it('refuses a revoked token from the next call on', async () => {
    const issued = await issue('tok-revoked');
    const runner = client(issued.token, 'tok-revoked');
    await runner.ping(info('tok-revoked'));
    expect((await h.s.api(`/api/runners/tokens/${issued.id}`, { method: 'DELETE' })).status).toBe(200);
    await expect(runner.ping(info('tok-revoked'))).rejects.toMatchObject({ status: 401, message: expect.stringContaining('wrong runner secret or token') });
  });

  it('records when a token was last used, at most once a minute', async () => {
    const issued = await issue('tok-used');
    const { db } = h.s.server.ctx;
    const lastUsed = async () => (await db.runnerToken.findUniqueOrThrow({ where: { id: issued.id } })).lastUsed;
    const runner = client(issued.token, 'tok-used');
    const before = now();
    await runner.ping(info('tok-used'));
    const first = await lastUsed();
    expect(first).toBeGreaterThanOrEqual(before);
    // As if the last use was 30 s ago: not written again.
    await db.runnerToken.update({ where: { id: issued.id }, data: { lastUsed: first - 30 } });
    await runner.ping(info('tok-used'));
    expect(await lastUsed()).toBe(first - 30);
    // 61 s ago: written.
    await db.runnerToken.update({ where: { id: issued.id }, data: { lastUsed: first - 61 } });
    await runner.ping(info('tok-used'));
    expect(await lastUsed()).toBeGreaterThanOrEqual(first);
  });
});

describe('a server without a shared secret', () => {
  const { issue, rpc } = harness('sqlite', { HARRIER_RPC_SECRET: '' });

  it('takes runner tokens only: an empty or made-up Bearer is refused with a way out', async () => {
    const empty = await rpc(rpcPaths.ping, '', info('tok-only'));
    expect(empty.status).toBe(401);
    expect(empty.message).toMatch(/^missing runner credentials/);
    const guessed = await rpc(rpcPaths.ping, TEST_RPC_SECRET, info('tok-only'));
    expect(guessed.status).toBe(401);
    expect(guessed.message).toContain('this server takes no shared secret (HARRIER_RPC_SECRET is not set on it); ask an administrator for a runner token');
    const { token } = await issue('tok-only');
    expect((await rpc(rpcPaths.ping, token, info('tok-only'))).status).toBe(200);
  });
});

/**
 * Sends the headers of a `size`-byte body and its first 64 KiB, then nothing more: the rest
 * comes only if the server never answers (it would wait for it forever, and the test times out).
 */
function sendPartOfBigBody(url: string, headers: Record<string, string>, size: number): Promise<{ status: number; sent: number; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = http.request({
      host: target.hostname,
      port: target.port,
      path: target.pathname,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(size), ...headers },
    });
    let sent = 0;
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      resolve({ status: res.statusCode ?? 0, sent, connection: res.headers.connection });
      res.resume();
      req.destroy();
    });
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    req.write(chunk);
    sent += chunk.length;
  });
}

describe('bodies before credentials', () => {
  const { h } = harness('sqlite');
  const size = 20 * 1024 * 1024;

  it('answers 401 to a 20 MB body without credentials before the body was sent, and closes the connection', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong-secret' }, { authorization: 'Bearer hrt_not-issued' }] as Record<string, string>[]) {
      const answer = await sendPartOfBigBody(h.s.server.host + rpcPaths.logs(1), headers, size);
      expect(answer).toEqual({ status: 401, sent: 64 * 1024, connection: 'close' });
    }
  });
});
