// Everything a request handler needs, built once per server process. Nothing here
// holds state of its own: the database and Redis do, so any number of server
// processes can share them.
import type { Redis } from 'ioredis';
import type { Logger } from '../core/log.ts';
import type { ServerConfig } from './config.ts';
import type { Db } from './db/client.ts';
import type { DeliveryWorkers } from './deliveries/delivery-workers.ts';
import type { EventBus } from './events/event-bus.ts';
import type { Metrics } from './metrics/metrics.ts';
import type { PipelineThread } from './pipelines/pipeline-thread.ts';
import type { StageQueue } from './queue/stage-queue.ts';
import type { ProviderRegistry } from './providers/registry.ts';

export interface ServerContext {
  config: ServerConfig;
  db: Db;
  /** For commands; blocking reads and subscriptions use connections of their own. */
  redis: Redis;
  /** Every source-code provider, looked up by the id stored with users and repositories. */
  providers: ProviderRegistry;
  logger: Logger;
  /** Cross-process notifications (log lines, build changes). */
  events: EventBus;
  /** Stages waiting for a runner. */
  queue: StageQueue;
  /** This process's Prometheus metrics (GET /metrics). */
  metrics: Metrics;
  /** Reads pipeline files and matches their conditions off the event loop. */
  pipelines: PipelineThread;
  /** Turns stored webhook deliveries into builds, off the request path; told by POST /hook of each one it stores. */
  deliveries: Pick<DeliveryWorkers, 'stored'>;
  /** Unix seconds; a function so tests can move time. */
  now(): number;
}

export function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}
