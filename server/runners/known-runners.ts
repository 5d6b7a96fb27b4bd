// The runners the server has heard from: each one's ping and long-poll upsert a
// Runner row (server/rpc/rpc-routes.ts). Read here for the runners page and to
// say why a stage waits.
import type { ServerContext } from '../context.ts';
import type { Runner as RunnerRow } from '../db/generated/sqlite/client.ts';

/** Runners ping every 15 s and long-poll every 25 s; silence for a minute means the runner is gone. */
export const ONLINE_SECONDS = 60;

export interface KnownRunner {
  name: string;
  labels: Record<string, string>;
  capacity: number;
  /** Ids of the stages the runner said it is executing. */
  running: number[];
  os: string;
  arch: string;
  version: string;
  lastSeen: number;
  online: boolean;
  /** Why the runner takes no work, as it last said; empty when healthy. Read from the row; absent in hand-made ones. */
  sick?: string;
  /** The runner said it is shutting down. */
  stopping?: boolean;
}

function parse<T>(text: string, fallback: T): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

export function knownRunner(row: RunnerRow, now: number): KnownRunner {
  const running = parse<unknown>(row.running, []);
  return {
    name: row.name,
    labels: parse<Record<string, string>>(row.labels, {}),
    capacity: row.capacity,
    running: Array.isArray(running) ? running.filter((id): id is number => Number.isInteger(id)) : [],
    os: row.os,
    arch: row.arch,
    version: row.version,
    lastSeen: row.lastSeen,
    online: now - row.lastSeen <= ONLINE_SECONDS,
    sick: row.sick ?? '',
    stopping: row.stopping ?? false,
  };
}

/** Every runner the server has heard from, sorted by name. */
export async function knownRunners(ctx: ServerContext): Promise<KnownRunner[]> {
  const now = ctx.now();
  const rows = await ctx.db.runner.findMany({ orderBy: { name: 'asc' } });
  return rows.map((row) => knownRunner(row, now));
}

/** Whether the runner has a free slot for another stage. */
export function isBusy(runner: Pick<KnownRunner, 'running' | 'capacity'>): boolean {
  return runner.running.length >= Math.max(runner.capacity, 1);
}
