// A stand-in for Harrier's webhook endpoint, for testing the fakes' deliveries and the
// hook parsers together: it identifies, verifies and parses each delivery exactly as
// the server is meant to, and records what came out.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HookError, identifyHookRepo, parseHook, verifyHookSignature, type HookIdentity, type HookResult } from '../../server/providers/parse-hook.ts';
import { WatchedList } from './fake-http.ts';

export interface ReceivedDelivery {
  identity?: HookIdentity;
  verified: boolean;
  result?: HookResult;
  error?: string;
  status: number;
}

export interface HookReceiver {
  url: string;
  deliveries: WatchedList<ReceivedDelivery>;
  close(): Promise<void>;
}

/** secretFor gets the repository slug the delivery names and returns its hook secret. */
export async function startHookReceiver(secretFor: (slug: string) => string | undefined): Promise<HookReceiver> {
  const deliveries = new WatchedList<ReceivedDelivery>('delivery');
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const record: ReceivedDelivery = { verified: false, status: 200 };
      try {
        record.identity = identifyHookRepo(req.headers, body);
        const secret = record.identity.repo ? secretFor(record.identity.repo.slug) : undefined;
        record.verified = secret !== undefined && (await verifyHookSignature(record.identity.provider, req.headers, body, secret));
        if (record.verified) record.result = parseHook(req.headers, body);
        else record.status = 401;
      } catch (err) {
        record.status = err instanceof HookError ? err.status : 500;
        record.error = err instanceof Error ? err.message : String(err);
      }
      deliveries.push(record);
      res.writeHead(record.status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ status: record.status }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    deliveries,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
