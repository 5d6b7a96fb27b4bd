import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiRequester } from './api-request.ts';
import { ScmError } from './scm.ts';

let server: http.Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

/** A provider that drops the connection of its first `drops` requests without answering, then answers 200. */
async function provider(drops: number): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  server = http.createServer((req, res) => {
    seen.push(req.method ?? '');
    if (seen.length <= drops) return void req.socket.destroy();
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/thing`, seen };
}

const requester = new ApiRequester('github', 'GitHub', () => undefined);

describe('ApiRequester', () => {
  it('sends a GET again, once, when the connection was closed under it', async () => {
    const p = await provider(1);
    const { data } = await requester.json<{ ok: boolean }>({ url: p.url });
    expect(data).toEqual({ ok: true });
    expect(p.seen).toEqual(['GET', 'GET']);
  });

  it('gives up on a GET whose connection is closed twice, naming the call', async () => {
    const p = await provider(2);
    const err = await requester.json({ url: p.url }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScmError);
    expect((err as ScmError).message).toMatch(/^GitHub did not answer GET http:\/\/127\.0\.0\.1:\d+\/thing: .*; check that the GitHub URL is right/);
    expect(p.seen).toEqual(['GET', 'GET']);
  });

  it('never sends a POST twice: it may have been carried out before the connection closed', async () => {
    const p = await provider(1);
    await expect(requester.json({ url: p.url, method: 'POST', json: { state: 'pending' } })).rejects.toThrow(/did not answer POST/);
    expect(p.seen).toEqual(['POST']);
  });
});
