// Log retention: the log chunks of finished builds older than HARRIER_LOG_RETENTION_DAYS,
// or outside the newest HARRIER_LOG_RETENTION_BUILDS builds of their repository, are
// deleted, and the build records when (Build.logsPurged), so the API and the build page
// can say the log was removed rather than show an empty one. The build, its stages and
// steps stay.
//
// Every server runs the purge, at start and every ten minutes. Each statement is small
// (a page of repositories, a page of builds, a few hundred log chunks) and the purge yields
// to the event loop between them: SQLite's driver is synchronous, so one large DELETE
// would stall every request of the process. Several servers purging at once only
// repeat idempotent deletes; marking a build is conditional, so each is counted once.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { isDone, STATUSES } from '../../core/domain.ts';
import type { ServerContext } from '../context.ts';
import { Prisma } from '../db/generated/sqlite/client.ts';

export const PURGE_INTERVAL_MS = 10 * 60_000;
const DAY = 86_400;
const REPOS_PER_PAGE = 100;
const BUILDS_PER_PAGE = 50;
/** One DELETE removes at most this many chunks, holding at most about this much text. */
const CHUNKS_PER_DELETE = 500;
const BYTES_PER_DELETE = 16 << 20;

/** Builds whose logs are final: never a pending, running, blocked or waiting one. */
const FINISHED = STATUSES.filter((s) => isDone(s));

export interface PurgeResult {
  builds: number;
  lines: number;
}

type Ctx = Pick<ServerContext, 'db' | 'config' | 'now' | 'metrics' | 'logger'>;

/** One pass over every repository. Does nothing when neither limit is set. */
export async function purgeLogs(ctx: Ctx, signal?: AbortSignal): Promise<PurgeResult> {
  const { logRetentionDays: days, logRetentionBuilds: keep } = ctx.config;
  const total: PurgeResult = { builds: 0, lines: 0 };
  if (!days && !keep) return total;
  const cutoff = days ? ctx.now() - days * DAY : 0;
  for (let after = 0; ; ) {
    const repos = await ctx.db.repo.findMany({ where: { id: { gt: after } }, orderBy: { id: 'asc' }, take: REPOS_PER_PAGE, select: { id: true } });
    if (!repos.length) break;
    after = repos[repos.length - 1].id;
    for (const repo of repos) {
      if (signal?.aborted) return total;
      const done = await purgeRepo(ctx, repo.id, cutoff, keep, signal);
      total.builds += done.builds;
      total.lines += done.lines;
    }
  }
  if (total.builds || total.lines) {
    ctx.logger.info({ event: 'logs_purged', ...total, days, keep }, 'removed the logs of builds past the retention policy');
  }
  return total;
}

async function purgeRepo(ctx: Ctx, repoId: number, cutoff: number, keep: number, signal?: AbortSignal): Promise<PurgeResult> {
  const total: PurgeResult = { builds: 0, lines: 0 };
  // Builds numbered up to `beyond` are older than the newest `keep`.
  const beyond = keep
    ? ((await ctx.db.build.findFirst({ where: { repoId }, orderBy: { number: 'desc' }, skip: keep, select: { number: true } }))?.number ?? 0)
    : 0;
  const past = [
    ...(beyond ? [{ number: { lte: beyond } }] : []),
    // A build that never started (declined, killed while pending) is as old as its creation.
    ...(cutoff ? [{ finished: { gt: 0, lt: cutoff } }, { finished: 0, createdAt: { lt: cutoff } }] : []),
  ];
  if (!past.length) return total;
  for (;;) {
    const builds = await ctx.db.build.findMany({
      where: { repoId, logsPurged: 0, status: { in: FINISHED }, OR: past },
      orderBy: { number: 'asc' },
      take: BUILDS_PER_PAGE,
      select: { id: true },
    });
    for (const build of builds) {
      if (signal?.aborted) break;
      total.lines += await deleteBuildLines(ctx, build.id);
      // Only after every line is gone, so a purge cut short is finished by the next one.
      const marked = await ctx.db.build.updateMany({ where: { id: build.id, logsPurged: 0 }, data: { logsPurged: ctx.now() } });
      total.builds += marked.count;
      await nextTurn();
    }
    if (builds.length < BUILDS_PER_PAGE || signal?.aborted) break;
  }
  ctx.metrics.logsPurged(total.builds, total.lines);
  return total;
}

/**
 * Deletes a build's log chunks a few at a time, each statement bounded in rows and in the
 * text they hold; returns how many lines this process deleted (RETURNING counts only the
 * rows this statement removed, so servers purging together count each line once).
 */
async function deleteBuildLines(ctx: Ctx, buildId: number): Promise<number> {
  const steps = await ctx.db.step.findMany({ where: { stage: { buildId } }, select: { id: true } });
  let deleted = 0;
  for (const step of steps) {
    for (;;) {
      // One attempt's log at a time (a retried stage's steps have several): positions repeat across attempts.
      const oldest = await ctx.db.logChunk.findFirst({ where: { stepId: step.id }, orderBy: [{ attempt: 'asc' }, { first: 'asc' }], select: { attempt: true } });
      if (!oldest) break;
      const { attempt } = oldest;
      const heads = await ctx.db.logChunk.findMany({
        where: { stepId: step.id, attempt },
        orderBy: { first: 'asc' },
        take: CHUNKS_PER_DELETE + 1,
        select: { first: true, bytes: true },
      });
      if (!heads.length) continue; // another server purged it meanwhile
      // The first chunk this statement leaves (keyset on the primary key); none when it takes the rest.
      let end = 1;
      let text = heads[0].bytes;
      while (end < Math.min(heads.length, CHUNKS_PER_DELETE) && text + heads[end].bytes <= BYTES_PER_DELETE) text += heads[end++].bytes;
      const bound = heads[end]?.first;
      const gone = await ctx.db.$queryRaw<{ first: number | bigint; last: number | bigint }[]>`
        DELETE FROM "LogChunk" WHERE "stepId" = ${step.id} AND "attempt" = ${attempt} ${bound === undefined ? Prisma.empty : Prisma.sql`AND "first" < ${bound}`}
        RETURNING "first", "last"`;
      for (const chunk of gone) deleted += Number(chunk.last) - Number(chunk.first) + 1;
      await nextTurn();
    }
  }
  return deleted;
}

export interface LogRetention {
  stop(): Promise<void>;
}

/** Purges now (without delaying the caller) and every PURGE_INTERVAL_MS after, until stopped. */
export function startLogRetention(ctx: Ctx, intervalMs = PURGE_INTERVAL_MS): LogRetention {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const stopping = new AbortController();
  const loop = () => {
    if (stopped) return;
    running = purgeLogs(ctx, stopping.signal)
      .then(() => undefined)
      .catch((err) => ctx.logger.warn({ event: 'log_purge_failed', err: String(err) }, 'removing old logs failed; trying again at the next purge'))
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, intervalMs);
      });
  };
  timer = setTimeout(loop, 0);
  return {
    async stop() {
      stopped = true;
      stopping.abort();
      clearTimeout(timer);
      await running;
    },
  };
}
