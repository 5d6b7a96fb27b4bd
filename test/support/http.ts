// A small harness for REST API tests: a ServerContext on a fresh migrated database,
// the sign-in, user, repository and build routers on a bare Express app listening on
// 127.0.0.1, and a cookie-keeping client that behaves like a browser where it matters
// (cookies, manual redirects). The lead's full-app harness may replace it.
import { PipelineThread } from '../../server/pipelines/pipeline-thread.ts';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Redis } from 'ioredis';
import pino from 'pino';
import { createApp } from '../../server/app.ts';
import { loadServerConfig } from '../../server/config.ts';
import { unixNow, type ServerContext } from '../../server/context.ts';
import type { Db } from '../../server/db/client.ts';
import { EventBus } from '../../server/events/event-bus.ts';
import { createMetrics } from '../../server/metrics/metrics.ts';
import { StageQueue } from '../../server/queue/stage-queue.ts';
import { createProviders } from '../../server/providers/registry.ts';
import { DeliveryWorkers } from '../../server/deliveries/delivery-workers.ts';
import { migratedDatabase } from './databases.ts';
import { providerEnv } from './server.ts';
import { watchDatabaseDeliveries } from './deliveries.ts';

/** The provider-facing settings of a stand-in (test/fakes), as HARRIER_* variables want them. */
export interface ProviderEndpoints {
  url: string;
  apiUrl: string;
  clientId: string;
  clientSecret: string;
}

export interface ApiHarnessOptions {
  flavour?: 'sqlite' | 'postgres';
  github?: ProviderEndpoints;
  bitbucket?: ProviderEndpoints;
  /** Extra HARRIER_* variables. */
  env?: Record<string, string>;
}

export interface ApiHarness {
  /** The server's base URL, also HARRIER_HOST. */
  url: string;
  ctx: ServerContext;
  db: Db;
  /** Moves ctx.now() forward (seconds). */
  advance(seconds: number): void;
  /** A new client with an empty cookie jar. */
  browser(): Browser;
  close(): Promise<void>;
}

export async function startApiHarness(opts: ApiHarnessOptions = {}): Promise<ApiHarness> {
  const database = await migratedDatabase(opts.flavour ?? 'sqlite');
  // The server listens first: HARRIER_HOST must be its real address for the OAuth redirect to come back.
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const env: Record<string, string> = {
    HARRIER_HOST: url,
    HARRIER_DATABASE_URL: database.url,
    // Tests running side by side share the Redis on 127.0.0.1 and must not hear each other.
    HARRIER_REDIS_PREFIX: `harrier-test-${randomBytes(4).toString('hex')}`,
    // Provider tokens and webhook secrets are stored encrypted with it, as on a real server.
    HARRIER_DATABASE_SECRET: randomBytes(32).toString('hex'),
    ...providerEnv(opts),
    ...opts.env,
  };
  const config = loadServerConfig(env);
  let offset = 0;
  const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  const logger = pino({ level: process.env.HARRIER_TEST_LOG_LEVEL ?? 'silent' });
  // The event bus and the queue open Redis connections of their own: only made when a test's route uses them.
  let events: EventBus | undefined;
  let queue: StageQueue | undefined;
  let workers: DeliveryWorkers | undefined;
  const eventBus = () => (events ??= new EventBus(redis, logger, config.redisPrefix));
  // Its thread starts with the first pipeline file a test's route reads.
  const pipelines = new PipelineThread(logger);
  const ctx: ServerContext = {
    config,
    db: database.db,
    redis,
    providers: createProviders(config),
    logger,
    get events() {
      return eventBus();
    },
    get queue() {
      if (!queue) {
        queue = new StageQueue(database.db, eventBus(), logger);
        void queue.ready();
      }
      return queue;
    },
    metrics: createMetrics(),
    pipelines,
    // Started with the first delivery a test's route stores, as a server would have them running.
    deliveries: {
      stored() {
        if (!workers) {
          workers = new DeliveryWorkers(ctx);
          void workers.start();
        }
        workers.stored();
      },
    },
    now: () => unixNow() + offset,
  };
  server.on('request', apiApp(ctx));
  const unwatch = watchDatabaseDeliveries(url, database.db);
  return {
    url,
    ctx,
    db: database.db,
    advance: (seconds) => {
      offset += seconds;
    },
    browser: () => new Browser(url),
    async close() {
      unwatch();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await workers?.stop();
      await Promise.allSettled([events?.close(), queue?.close(), pipelines.close()]);
      redis.disconnect();
      await database.close();
    },
  };
}

/** The server's own app on the harness's context; long-polls end when the harness closes. */
const shutdown = new AbortController();
export function apiApp(ctx: ServerContext): express.Express {
  return createApp(ctx, shutdown.signal);
}

export interface BrowserRequest {
  method?: string;
  headers?: Record<string, string>;
  /** Sent as JSON. */
  json?: unknown;
}

/**
 * A fetch with a cookie jar. Redirects are not followed automatically, so tests see
 * each hop; follow() walks them, keeping cookies for the Harrier host only.
 */
export class Browser {
  readonly cookies = new Map<string, string>();

  constructor(readonly base: string) {}

  async fetch(pathOrUrl: string, init: BrowserRequest = {}): Promise<Response> {
    const target = new URL(pathOrUrl, this.base);
    const own = target.origin === new URL(this.base).origin;
    const headers: Record<string, string> = { ...init.headers };
    if (own && this.cookies.size) headers.Cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined;
    if (init.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(init.json);
    }
    const res = await fetch(target, { method: init.method ?? 'GET', headers, body, redirect: 'manual' });
    if (own) this.keepCookies(res);
    return res;
  }

  /** Follows up to `hops` redirects from the first answer (fewer when one is not a redirect); returns every answer. */
  async follow(pathOrUrl: string, init: BrowserRequest = {}, hops = 10): Promise<Response[]> {
    const answers = [await this.fetch(pathOrUrl, init)];
    for (let hop = 0; hop < hops; hop++) {
      const last = answers[answers.length - 1];
      const location = last.headers.get('location');
      if (last.status < 300 || last.status >= 400 || !location) break;
      answers.push(await this.fetch(new URL(location, last.url || this.base).toString()));
    }
    return answers;
  }

  /** The OAuth web flow against a provider stand-in: Harrier, the provider's authorize page, Harrier's callback. */
  async signIn(provider: 'github' | 'bitbucket'): Promise<Response> {
    const answers = await this.follow(`/login/${provider}`, {}, 2);
    const callback = answers[2];
    if (!callback || callback.status !== 303) {
      const last = answers[answers.length - 1];
      throw new Error(`sign-in with ${provider} did not come back to Harrier: ${last.status} ${await last.text()}`);
    }
    return callback;
  }

  /** JSON of a same-origin call, with a method, body and headers. */
  async json<T = any>(path: string, init: BrowserRequest = {}): Promise<{ status: number; body: T; headers: Headers }> {
    const res = await this.fetch(path, init);
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON: the test sees the text.
    }
    return { status: res.status, body: body as T, headers: res.headers };
  }

  private keepCookies(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const gone = attributes.some((a) => /^max-age=0$/i.test(a));
      if (gone) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(eq + 1));
    }
  }
}

/** Calls with a personal token instead of cookies. */
export async function bearerJson<T = any>(
  base: string,
  token: string,
  path: string,
  init: BrowserRequest = {},
): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { Authorization: `Bearer ${token}`, ...init.headers };
  if (init.json !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(new URL(path, base), {
    method: init.method ?? 'GET',
    headers,
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}
