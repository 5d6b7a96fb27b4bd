// Starts a server process: migrations, connections, the HTTP listener; and stops
// it gracefully, ending long-polls and streams first so runners re-poll elsewhere.
import { PipelineThread } from './pipelines/pipeline-thread.ts';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { createLogger, type Logger } from '../core/log.ts';
import { createApp } from './app.ts';
import { ConfigError, type ServerConfig } from './config.ts';
import type { ServerContext } from './context.ts';
import { unixNow } from './context.ts';
import { openDatabase } from './db/client.ts';
import { migrate } from './db/migrate.ts';
import { EventBus } from './events/event-bus.ts';
import { createMetrics } from './metrics/metrics.ts';
import { startReconciler } from './queue/reconciler.ts';
import { StageQueue } from './queue/stage-queue.ts';
import { createProviders } from './providers/registry.ts';
import { DeliveryWorkers } from './deliveries/delivery-workers.ts';
import { CronScheduler } from './cron/cron-scheduler.ts';
import { encryptStoredCredentials, NO_KEY_MESSAGE } from './secrets/stored-credentials.ts';

export interface RunningServer {
  url: string;
  port: number;
  ctx: ServerContext;
  close(): Promise<void>;
}

export async function connectRedis(url: string, logger: Logger): Promise<Redis> {
  // Commands wait through a Redis restart rather than fail (maxRetriesPerRequest null); duplicates inherit it.
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: null });
  redis.on('error', (error) => logger.warn({ err: error }, 'redis connection error'));
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    throw new ConfigError(`cannot reach Redis at HARRIER_REDIS_URL=${url} (${(error as Error).message}); start redis-server or fix the URL`);
  }
  return redis;
}

export async function startServer(config: ServerConfig, logger = createLogger('server')): Promise<RunningServer> {
  if (!config.rpcSecret) {
    // Runner tokens (POST /api/runners/tokens) work without it; an empty shared secret is never accepted.
    logger.warn(
      { event: 'no_rpc_secret' },
      'HARRIER_RPC_SECRET is not set: runners can connect only with a runner token an administrator issues on the Runners page; set it to a long random string to let runners share one secret',
    );
  }
  // Provider tokens and webhook secrets are kept only encrypted; `harrier up` makes a key in its data folder.
  if (!config.databaseSecret.trim()) throw new ConfigError(NO_KEY_MESSAGE);
  const migrated = await migrate(config.databaseUrl);
  if (migrated.applied.length) logger.info({ event: 'migrated', applied: migrated.applied }, 'database migrated');
  const database = openDatabase(config.databaseUrl);
  // Rows from before encryption are sealed before the first request can read them.
  await encryptStoredCredentials(database.db, config, logger);
  const redis = await connectRedis(config.redisUrl, logger);
  const events = new EventBus(redis, logger, config.redisPrefix);
  const queue = new StageQueue(database.db, events, logger);
  await queue.ready();
  const pipelines = new PipelineThread(logger);
  pipelines.warm();
  const ctx: ServerContext = {
    config,
    db: database.db,
    redis,
    providers: createProviders(config),
    logger,
    events,
    queue,
    metrics: createMetrics(),
    pipelines,
    // Requests arrive only after `deliveries` below exists.
    deliveries: { stored: () => deliveries.stored() },
    now: unixNow,
  };
  const deliveries = new DeliveryWorkers(ctx);
  // Before taking requests: leases that ran out while no server was up end, stuck builds move on.
  const reconciler = await startReconciler(ctx);
  // Deliveries stored before this server started (or left by one that died) are built now.
  await deliveries.start();
  // Cron jobs that came due while no server was up fire once now.
  const crons = new CronScheduler(ctx);
  await crons.start();

  const shutdown = new AbortController();
  const server = http.createServer(createApp(ctx, shutdown.signal));
  // Long-polls last 25 s; keep sockets open a little longer than that.
  server.keepAliveTimeout = 30_000;
  server.headersTimeout = 35_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://localhost:${port}`;
  logger.info({ event: 'listening', port, url, host: config.host }, `Harrier server listening on ${url}`);

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      logger.info({ event: 'stopping' }, 'server stopping');
      shutdown.abort();
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Streams (SSE) never end by themselves; give requests a moment, then cut.
      const cut = setTimeout(() => server.closeAllConnections(), 2_000);
      await stopped;
      clearTimeout(cut);
      // Deliveries in hand are finished; ones not yet taken stay pending for the next server.
      await deliveries.stop();
      await crons.stop();
      await reconciler.stop();
      await queue.close();
      await pipelines.close();
      await events.close();
      await redis.quit().catch(() => redis.disconnect());
      await database.close();
      logger.info({ event: 'stopped' }, 'server stopped');
    })());
  return { url, port, ctx, close };
}
