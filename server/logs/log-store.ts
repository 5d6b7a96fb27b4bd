// A step's log is kept as chunks (LogChunk rows): each holds a run of consecutive lines,
// first..last, compressed (log-chunk.ts). A runner batch becomes one row, or a few for a
// large one, instead of one row and one index entry per line, and any server process
// reads the log while its step runs and after. A retried stage's steps start a new log
// under the stage's new attempt number; the earlier attempts' logs stay as they were.
import type { LogLine } from '../../core/domain.ts';
import type { ServerContext } from '../context.ts';
import { Prisma } from '../db/generated/sqlite/client.ts';
import { channels } from '../events/event-bus.ts';
import { CHUNK_BYTES, CHUNK_LINES, type ChunkRow, decodeChunk, type EncodedChunk, encodeChunk } from './log-chunk.ts';

type Db = ServerContext['db'];

/**
 * Appends a runner's batch and returns how many of its lines were new. Positions stay
 * as the runner numbered them. A batch sent again (the runner lost the answer, and may
 * have added lines since) or two batches racing each other never store a position twice
 * nor lose one: a chunk is only written where no stored chunk overlaps it, and when one
 * does, the positions still missing are read back and written in what is left. Only the
 * lines actually stored are announced to live readers.
 */
export async function appendLogLines(ctx: Pick<ServerContext, 'db' | 'events'>, stepId: number, lines: readonly LogLine[], attempt = 1): Promise<number> {
  let todo = inOrder(lines);
  const stored: LogLine[] = [];
  for (let round = 0; todo.length; round++) {
    // Each round either stores lines or learns of chunks stored meanwhile, so a few always do.
    if (round === 8) throw new Error(`appending ${todo.length} log lines to step ${stepId} kept colliding with other writers; the runner will send them again`);
    const refused: LogLine[] = [];
    for (const [start, end] of pieces(todo)) {
      const chunk = encodeChunk(todo, start, end);
      const into = (await insertChunk(ctx.db, stepId, attempt, chunk)) ? stored : refused;
      for (let i = start; i < end; i++) into.push(todo[i]);
    }
    if (!refused.length) break;
    todo = await stillMissing(ctx.db, stepId, attempt, refused);
  }
  if (!stored.length) return 0;
  stored.sort((a, b) => a.pos - b.pos);
  // Written before asked: a stream that subscribes after the question reads these lines from
  // the database. Most logs have no viewer, and encoding a loud step's lines for none cost
  // the server about a quarter of a second per million.
  const channel = channels.stepLog(stepId);
  if (await ctx.events.listening(channel)) await ctx.events.publish(channel, { lines: stored });
  return stored.length;
}

/** The batch by position, each position once, times in whole seconds as they are stored; as it came when it already is so. */
function inOrder(lines: readonly LogLine[]): readonly LogLine[] {
  let ready = true;
  for (let i = 0; i < lines.length && ready; i++) ready = (i === 0 || lines[i].pos > lines[i - 1].pos) && Number.isInteger(lines[i].time);
  if (ready) return lines;
  const out = lines.map(({ pos, out: text, time }) => ({ pos, out: text, time: Math.floor(time) }));
  out.sort((a, b) => a.pos - b.pos);
  return out.filter((l, i) => i === 0 || l.pos !== out[i - 1].pos);
}

/** [start, end) ranges of `lines` that are runs of consecutive positions, each at most a chunk's size. */
function* pieces(lines: readonly LogLine[]): Generator<[number, number]> {
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < lines.length; i++) {
    const size = lines[i].out.length;
    const breaks = i > start && (lines[i].pos !== lines[i - 1].pos + 1 || i - start >= CHUNK_LINES || bytes + size > CHUNK_BYTES);
    if (breaks) {
      yield [start, i];
      start = i;
      bytes = 0;
    }
    bytes += size;
  }
  if (lines.length) yield [start, lines.length];
}

/** Class id of the advisory locks that serialize appends to one step's log on PostgreSQL ("LOGS"). */
const LOG_LOCK_CLASS = 0x4c4f4753;

function isPostgres(db: Db): boolean {
  return (db as unknown as { _activeProvider?: string })._activeProvider === 'postgresql';
}

/**
 * Writes a chunk unless a stored chunk overlaps its positions: one with its first among
 * them, or the chunk before it reaching into them (chunks never overlap, so no other
 * can). On SQLite the one statement is atomic. On PostgreSQL two transactions could
 * each miss the other's chunk, so appends to one step take turns on an advisory lock.
 */
async function insertChunk(db: Db, stepId: number, attempt: number, chunk: EncodedChunk): Promise<boolean> {
  const { first, last, bytes, data } = chunk;
  const pg = isPostgres(db);
  const insert = db.$executeRaw`
    INSERT INTO "LogChunk" ("stepId", "attempt", "first", "last", "bytes", "codec", "data")
    SELECT ${stepId}, ${attempt}, ${first}, ${last}, ${bytes}, 'deflate', ${pg ? Prisma.sql`${data}::bytea` : data}
    WHERE NOT EXISTS (SELECT 1 FROM "LogChunk" WHERE "stepId" = ${stepId} AND "attempt" = ${attempt} AND "first" BETWEEN ${first} AND ${last})
      AND NOT EXISTS (
        SELECT 1 FROM (SELECT "last" FROM "LogChunk" WHERE "stepId" = ${stepId} AND "attempt" = ${attempt} AND "first" < ${first} ORDER BY "first" DESC LIMIT 1) AS before
        WHERE before."last" >= ${first})
    ON CONFLICT DO NOTHING`;
  if (!pg) return (await insert) === 1;
  const [, inserted] = await db.$transaction([db.$executeRaw`SELECT pg_advisory_xact_lock(${LOG_LOCK_CLASS}::int, ${stepId}::int)`, insert]);
  return inserted === 1;
}

/** Which of `lines` (by position) no stored chunk holds. */
async function stillMissing(db: Db, stepId: number, attempt: number, lines: LogLine[]): Promise<readonly LogLine[]> {
  lines.sort((a, b) => a.pos - b.pos);
  const lo = lines[0].pos;
  const hi = lines[lines.length - 1].pos;
  const select = { first: true, last: true } as const;
  const before = await db.logChunk.findFirst({ where: { stepId, attempt, first: { lt: lo } }, orderBy: { first: 'desc' }, select });
  const within = await db.logChunk.findMany({ where: { stepId, attempt, first: { gte: lo, lte: hi } }, orderBy: { first: 'asc' }, select });
  const taken = before ? [before, ...within] : within;
  const missing: LogLine[] = [];
  let t = 0;
  for (const line of lines) {
    while (t < taken.length && taken[t].last < line.pos) t++;
    if (t < taken.length && taken[t].first <= line.pos) continue;
    missing.push(line);
  }
  return missing;
}

export interface LogRange {
  /** The first position to read. */
  from?: number;
  /** How many lines at most; all that follow when absent. */
  count?: number;
  /** Stops between chunks when aborted (the client went away). */
  signal?: AbortSignal;
  /** Which attempt of the step's stage (Stage.attempt); the first when absent. */
  attempt?: number;
}

/** Chunk rows read per query: a reader holds about this many chunks (each at most CHUNK_BYTES of text) at a time. */
const CHUNKS_PER_QUERY = 4;

/**
 * A step's chunks from the one holding `from` on, by first position: keyset pages on the
 * primary key (stepId, attempt, first), so a page costs the same at the end of a long log
 * as at its start.
 */
async function* chunksFrom(db: Db, stepId: number, attempt: number, from: number, signal?: AbortSignal): AsyncGenerator<ChunkRow> {
  const holding = await db.logChunk.findFirst({ where: { stepId, attempt, first: { lte: from } }, orderBy: { first: 'desc' }, select: { first: true, last: true } });
  let next = holding && holding.last >= from ? holding.first : from;
  while (!signal?.aborted) {
    const rows = await db.logChunk.findMany({
      where: { stepId, attempt, first: { gte: next } },
      orderBy: { first: 'asc' },
      take: CHUNKS_PER_QUERY,
      select: { stepId: true, first: true, last: true, codec: true, data: true },
    });
    for (const row of rows) {
      if (signal?.aborted) return;
      yield row;
    }
    if (rows.length < CHUNKS_PER_QUERY) return;
    next = rows[rows.length - 1].first + 1;
  }
}

/**
 * A step's lines in order of position, a chunk's worth at a time: a reader never holds
 * more than a few chunks, however long the log. A position is yielded once even if
 * stored twice, so an overlap between chunks could never show a line twice.
 */
export async function* logLinePages(ctx: Pick<ServerContext, 'db'>, stepId: number, range: LogRange = {}): AsyncGenerator<LogLine[]> {
  const from = range.from ?? 0;
  let left = range.count ?? Number.POSITIVE_INFINITY;
  let emitted = from - 1;
  if (left <= 0) return;
  for await (const row of chunksFrom(ctx.db, stepId, range.attempt ?? 1, from, range.signal)) {
    if (row.last <= emitted) continue;
    const lines = decodeChunk(row);
    const start = Math.max(0, emitted + 1 - row.first);
    const page = start || lines.length > left ? lines.slice(start, start + left) : lines;
    if (!page.length) continue;
    yield page;
    emitted = page[page.length - 1].pos;
    left -= page.length;
    if (left <= 0) return;
  }
}

/** The lines after `afterPos`, at most `limit` of them: for callers that want an array (tests, small reads). */
export async function readLogLines(ctx: Pick<ServerContext, 'db'>, stepId: number, afterPos = -1, limit?: number, attempt = 1): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  for await (const page of logLinePages(ctx, stepId, { from: afterPos + 1, count: limit, attempt })) {
    for (const line of page) lines.push(line);
  }
  return lines;
}
