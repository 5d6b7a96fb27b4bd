// Log lines are rows (step, pos), written as runners send them, so a log is
// readable from any server process while its step runs and after.
import type { LogLine } from '../../core/domain.ts';
import type { ServerContext } from '../context.ts';
import { Prisma } from '../db/generated/sqlite/client.ts';
import { channels } from '../events/event-bus.ts';

// Log lines are the server's hottest write: a chatty step sends hundreds a second.
// One multi-row INSERT per chunk is about twenty times faster than Prisma's createMany here.
const ROWS_PER_INSERT = 1_000;

/**
 * Appends lines. A batch the runner sends again after a lost answer holds positions
 * already stored; the database drops those (ON CONFLICT), so a retry never
 * duplicates a line, and only the lines actually stored are announced to live readers.
 */
export async function appendLogLines(ctx: Pick<ServerContext, 'db' | 'events'>, stepId: number, lines: LogLine[]): Promise<number> {
  const sorted = [...lines].sort((a, b) => a.pos - b.pos);
  const stored = new Set<number>();
  for (let i = 0; i < sorted.length; i += ROWS_PER_INSERT) {
    const rows = sorted.slice(i, i + ROWS_PER_INSERT).map((l) => Prisma.sql`(${stepId}, ${l.pos}, ${l.out}, ${Math.floor(l.time)})`);
    const inserted = await ctx.db.$queryRaw<{ pos: number | bigint }[]>`
      INSERT INTO "LogLine" ("stepId", "pos", "out", "time") VALUES ${Prisma.join(rows)}
      ON CONFLICT ("stepId", "pos") DO NOTHING RETURNING "pos"`;
    for (const row of inserted) stored.add(Number(row.pos));
  }
  const fresh = sorted.filter((l) => stored.has(l.pos));
  if (fresh.length) await ctx.events.publish(channels.stepLog(stepId), { lines: fresh });
  return fresh.length;
}

export async function readLogLines(ctx: Pick<ServerContext, 'db'>, stepId: number, afterPos = -1, limit?: number): Promise<LogLine[]> {
  const rows = await ctx.db.logLine.findMany({
    where: { stepId, pos: { gt: afterPos } },
    orderBy: { pos: 'asc' },
    select: { pos: true, out: true, time: true },
    ...(limit ? { take: limit } : {}),
  });
  return rows;
}

/** The first page is small: a log's lines may be up to 1 MB each. Later pages are sized from the lines seen. */
const FIRST_PAGE = 1_000;
const MIN_PAGE = 100;
const MAX_PAGE = 5_000;
/** What one page should weigh, so a reader holds about this much of a log at a time however long the log is. */
const PAGE_BYTES = 1 << 20;

export interface LogRange {
  /** The first position to read. */
  from?: number;
  /** How many lines at most; all that follow when absent. */
  count?: number;
  /** Stops between pages when aborted (the client went away). */
  signal?: AbortSignal;
}

/**
 * A step's lines in order of position, one query per page, each page starting after
 * the last position of the one before (keyset on the primary key (stepId, pos)), so a
 * page costs the same at the end of a long log as at its start, and a reader never
 * holds more than a page.
 */
export async function* logLinePages(ctx: Pick<ServerContext, 'db'>, stepId: number, range: LogRange = {}): AsyncGenerator<LogLine[]> {
  let after = (range.from ?? 0) - 1;
  let left = range.count ?? Number.POSITIVE_INFINITY;
  let size = FIRST_PAGE;
  while (left > 0 && !range.signal?.aborted) {
    const take = Math.min(size, left);
    const lines = await readLogLines(ctx, stepId, after, take);
    if (lines.length) yield lines;
    if (lines.length < take) return;
    left -= lines.length;
    after = lines[lines.length - 1].pos;
    const bytes = lines.reduce((n, l) => n + l.out.length, 0);
    size = Math.max(MIN_PAGE, Math.min(MAX_PAGE, Math.floor((PAGE_BYTES * lines.length) / Math.max(1, bytes))));
  }
}
