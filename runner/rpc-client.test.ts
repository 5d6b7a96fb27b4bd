import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type AcceptRequest, RUNNER_HEADER, type RunnerInfo, STAGE_TOKEN_HEADER } from '../core/protocol.ts';
import { RpcClient, RpcError } from './rpc-client.ts';

type Handler = (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void;
let server: http.Server | undefined;

async function serve(handler: Handler, runner?: string): Promise<RpcClient> {
  server = http.createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    handler(req, body, res);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return new RpcClient({ serverUrl: url, secret: 's3', runner, retryBaseMs: 5, retryMaxMs: 20 });
}

afterEach(async () => {
  const s = server;
  server = undefined;
  if (!s) return;
  s.closeAllConnections();
  await new Promise((resolve) => s.close(resolve));
});

const info: RunnerInfo = { name: 'r', labels: {}, capacity: 1, running: [], os: 'linux', arch: 'amd64', version: '0' };

describe('RpcClient', () => {
  it('sends the shared secret as a bearer token and JSON bodies to the protocol paths', async () => {
    const seen: { auth?: string; path?: string; body?: string } = {};
    const rpc = await serve((req, body, res) => {
      Object.assign(seen, { auth: req.headers.authorization, path: req.url, body });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 9, status: 'running' }));
    });
    await rpc.updateStep(9, { status: 'running', started: 100 });
    expect(seen).toEqual({ auth: 'Bearer s3', path: '/rpc/v1/steps/9', body: JSON.stringify({ status: 'running', started: 100 }) });
  });

  it('reads 204 from a long poll as nothing to do', async () => {
    const rpc = await serve((_req, _body, res) => res.writeHead(204).end());
    expect(await rpc.request(info)).toBeNull();
    expect(await rpc.watch(1)).toBeNull();
  });

  it('reports a stage another runner accepted first as taken instead of throwing', async () => {
    const rpc = await serve((_req, _body, res) => res.writeHead(409, { 'content-type': 'application/json' }).end('{"message":"taken"}'));
    expect(await rpc.accept(5, 'm')).toEqual({ accepted: false, reason: 'taken' });
  });

  it('retries a repeatable call after 5xx answers and succeeds', async () => {
    let calls = 0;
    const rpc = await serve((_req, _body, res) => {
      if (++calls < 3) return void res.writeHead(503, { 'content-type': 'application/json' }).end('{"message":"busy"}');
      res.writeHead(204).end();
    });
    await rpc.sendLogs(1, [{ pos: 0, out: 'x\n', time: 0 }]);
    expect(calls).toBe(3);
  });

  it('does not retry a long poll: its caller polls again anyway', async () => {
    let calls = 0;
    const rpc = await serve((_req, _body, res) => {
      calls++;
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"message":"boom"}');
    });
    await expect(rpc.request(info)).rejects.toThrow(RpcError);
    expect(calls).toBe(1);
  });

  it('does not send a malformed body again after a 400', async () => {
    let calls = 0;
    const rpc = await serve((_req, _body, res) => {
      calls++;
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"message":"status: invalid"}');
    });
    const err = await rpc.updateStep(9, { status: 'running' }).catch((e) => e);
    expect(err).toMatchObject({ status: 400, message: 'POST /rpc/v1/steps/9: 400 status: invalid' });
    expect(calls).toBe(1);
  });

  it('names the runner in its header on every call', async () => {
    const seen: (string | undefined)[] = [];
    const rpc = await serve((req, _body, res) => {
      seen.push(req.headers[RUNNER_HEADER] as string | undefined);
      if (req.url?.endsWith('/details') || req.url?.endsWith('/accept')) return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":1}');
      if (req.url?.match(/\/(stages|steps)\/\d+$/)) return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":1}');
      res.writeHead(204).end();
    }, 'ci-7');
    await rpc.request(info);
    await rpc.accept(1, 'ci-7');
    await rpc.details(1);
    await rpc.updateStage(1, { status: 'running' });
    await rpc.updateStep(2, { status: 'running' });
    await rpc.sendLogs(2, []);
    await rpc.watch(3);
    await rpc.release(1);
    await rpc.ping(info);
    expect(seen).toEqual(Array(9).fill('ci-7'));
  });

  it('sends the stage token it accepted with on every call about the stage, its steps and its build, and none after forgetting it', async () => {
    const seen: { url: string; token: string | undefined; body: string }[] = [];
    let accepts = 0;
    const rpc = await serve((req, body, res) => {
      seen.push({ url: req.url ?? '', token: req.headers[STAGE_TOKEN_HEADER] as string | undefined, body });
      const json = (value: unknown) => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      // The first answer to accept is lost: the client asks again, with the same token.
      if (req.url?.endsWith('/accept') && ++accepts === 1) return void req.socket.destroy();
      if (req.url?.endsWith('/accept')) return json({ id: 1, build_id: 3, steps: [{ id: 2 }], token: (JSON.parse(body) as AcceptRequest).token });
      if (req.url?.endsWith('/details')) return json({ build: { id: 3 }, stage: { id: 1, steps: [{ id: 2 }, { id: 4 }] } });
      if (req.url?.match(/\/(stages|steps)\/\d+$/)) return json({ id: 1 });
      res.writeHead(204).end();
    }, 'ci-7');
    expect(await rpc.accept(1, 'ci-7')).toMatchObject({ accepted: true, stage: { id: 1, build_id: 3 } });
    const [first, again] = seen.map((c) => (JSON.parse(c.body) as AcceptRequest).token);
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(again).toBe(first);
    await rpc.details(1);
    await rpc.updateStage(1, { status: 'running' });
    await rpc.updateStep(2, { status: 'running' });
    // Step 4 was named only by the details.
    await rpc.sendLogs(4, []);
    await rpc.watch(3);
    await rpc.release(1);
    expect(seen.slice(2).map((c) => [c.url, c.token])).toEqual(
      ['/rpc/v1/stages/1/details', '/rpc/v1/stages/1', '/rpc/v1/steps/2', '/rpc/v1/steps/4/logs', '/rpc/v1/builds/3/watch', '/rpc/v1/stages/1/release'].map((url) => [url, first]),
    );
    // Another stage's steps and build get no token, nor does this stage once forgotten.
    await rpc.updateStep(9, { status: 'running' });
    await rpc.watch(8);
    rpc.forget(1);
    await rpc.updateStage(1, { status: 'running' });
    expect(seen.slice(8).map((c) => c.token)).toEqual([undefined, undefined, undefined]);
    // A stage accepted afresh gets a token of its own.
    await rpc.accept(1, 'ci-7');
    expect((JSON.parse(seen.at(-1)!.body) as AcceptRequest).token).not.toBe(first);
  });

  it('accepts again after a 5xx or a dropped answer, and gets the stage', async () => {
    let calls = 0;
    const rpc = await serve((req, _body, res) => {
      calls++;
      if (calls === 1) return void res.writeHead(503, { 'content-type': 'application/json' }).end('{"message":"busy"}');
      // The server accepted, but its answer never arrives.
      if (calls === 2) return void req.socket.destroy();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 5, machine: 'm' }));
    });
    expect(await rpc.accept(5, 'm')).toEqual({ accepted: true, stage: { id: 5, machine: 'm' } });
    expect(calls).toBe(3);
  });

  it('reads a ping answer, and a 204 from a server without leases as the default lease', async () => {
    let answer: string | undefined = JSON.stringify({ lease_seconds: 20, lost: [4] });
    const rpc = await serve((_req, _body, res) => {
      if (answer) res.writeHead(200, { 'content-type': 'application/json' }).end(answer);
      else res.writeHead(204).end();
    });
    expect(await rpc.ping(info)).toEqual({ lease_seconds: 20, lost: [4] });
    answer = undefined;
    expect(await rpc.ping(info)).toEqual({ lease_seconds: 60, lost: [] });
  });

  it('says whether the server took a released stage back: 204 yes, 409 no', async () => {
    let status = 204;
    const paths: (string | undefined)[] = [];
    const rpc = await serve((req, _body, res) => {
      paths.push(req.url);
      res.writeHead(status, { 'content-type': 'application/json' }).end(status === 204 ? undefined : '{"message":"a step started"}');
    });
    expect(await rpc.release(8)).toBe(true);
    status = 409;
    expect(await rpc.release(8)).toBe(false);
    expect(paths).toEqual(['/rpc/v1/stages/8/release', '/rpc/v1/stages/8/release']);
  });

  it('surfaces the server message and status of a client error without retrying', async () => {
    let calls = 0;
    const rpc = await serve((_req, _body, res) => {
      calls++;
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"bad secret"}');
    });
    const err = await rpc.details(3).catch((e) => e);
    expect(err).toBeInstanceOf(RpcError);
    expect(err.status).toBe(401);
    expect(err.message).toBe('GET /rpc/v1/stages/3/details: 401 bad secret');
    expect(calls).toBe(1);
  });

  it('gives up on an unreachable server after its attempts with a clear error', async () => {
    const rpc = new RpcClient({ serverUrl: 'http://127.0.0.1:1', secret: 'x', attempts: 2, retryBaseMs: 1 });
    await expect(rpc.ping(info)).rejects.toThrow(/cannot reach http:\/\/127\.0\.0\.1:1/);
  });

  it('abandons a held long poll at once when the signal aborts', async () => {
    let arrived: () => void = () => {};
    const held = new Promise<void>((resolve) => (arrived = resolve));
    // Never answers, like a long poll with nothing queued.
    const rpc = await serve(() => arrived());
    const ac = new AbortController();
    const polling = rpc.request(info, ac.signal);
    await held;
    ac.abort(new Error('shutting down'));
    // Not ended by the abort, the poll would end later by the client's own timeout, with another message.
    await expect(polling).rejects.toThrow('shutting down');
  });
});
