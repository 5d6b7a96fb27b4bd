// The whole server, as `harrier server` runs it, in the test process: a fresh
// database, its own Redis namespace, and optional provider stand-ins.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import pino from 'pino';
import { loadServerConfig } from '../../server/config.ts';
import { startServer, type RunningServer } from '../../server/main.ts';
import { testDatabase } from './databases.ts';
import { watchDatabaseDeliveries } from './deliveries.ts';
import type { ProviderEndpoints } from './http.ts';

export const TEST_RPC_SECRET = 'test-rpc-secret';

export interface TestServerOptions {
  flavour?: 'sqlite' | 'postgres';
  github?: ProviderEndpoints;
  bitbucket?: ProviderEndpoints;
  env?: Record<string, string>;
  /** Where the server logs; silent unless HARRIER_TEST_LOG_LEVEL is set. */
  logger?: pino.Logger;
}

export interface TestServer extends RunningServer {
  /** Stops the server as SIGTERM would, keeping its database for another server process; close() still drops it. */
  stop(): Promise<void>;
  /** HARRIER_HOST: the address the server listens on. */
  host: string;
  env: Record<string, string>;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export function providerEnv(opts: Pick<TestServerOptions, 'github' | 'bitbucket'>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [provider, p] of Object.entries({ github: opts.github, bitbucket: opts.bitbucket })) {
    if (!p) continue;
    const prefix = `HARRIER_${provider.toUpperCase()}`;
    Object.assign(env, {
      [`${prefix}_CLIENT_ID`]: p.clientId,
      [`${prefix}_CLIENT_SECRET`]: p.clientSecret,
      [`${prefix}_URL`]: p.url,
      [`${prefix}_API_URL`]: p.apiUrl,
    });
  }
  return env;
}

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const database = await testDatabase(opts.flavour ?? 'sqlite');
  const port = await freePort();
  const host = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    HARRIER_HOST: host,
    HARRIER_PORT: String(port),
    HARRIER_DATABASE_URL: database.url,
    HARRIER_RPC_SECRET: TEST_RPC_SECRET,
    HARRIER_REDIS_PREFIX: `harrier-test-${randomBytes(4).toString('hex')}`,
    // The server refuses to start without one: provider tokens and webhook secrets are stored encrypted.
    HARRIER_DATABASE_SECRET: randomBytes(32).toString('hex'),
    ...providerEnv(opts),
    ...opts.env,
  };
  const logger = opts.logger ?? pino({ level: process.env.HARRIER_TEST_LOG_LEVEL ?? 'silent' });
  const server = await startServer(loadServerConfig(env), logger);
  // Deliveries it answers can be awaited (test/fakes/delivered.ts).
  const unwatch = watchDatabaseDeliveries(host, server.ctx.db);
  return {
    ...server,
    host,
    env,
    stop: () => server.close(),
    async close() {
      unwatch();
      await server.close();
      await database.drop();
    },
  };
}
