// Every write the scheduler makes to the Cron table, each conditional on the `next` it
// saw, so any number of servers may share one database and a due job fires once:
//
//   next <= now --claim--> next = lease --finish--> next = the following time from now
//                               |       --retry---> next = a minute from now (provider failed)
//                               +-- lease lapses (its server died): due again
//
// The following time is computed from the time of the run, not from the missed one,
// so a job whose servers were all down for days fires one catch-up run, not one per miss.
import type { Cron } from '../../core/domain.ts';
import type { ServerContext } from '../context.ts';
import type { Cron as CronRow, Prisma } from '../db/generated/sqlite/client.ts';
import { nextRun, parseCron } from './cron-expr.ts';

export type { CronRow };

/** The Redis channel on which a server tells the others' schedulers that a job was added or changed. */
export const CRON_CHANNEL = 'cron';

export function cronJson(c: CronRow): Cron {
  return {
    id: c.id,
    repo_id: c.repoId,
    name: c.name,
    expr: c.expr,
    next: c.next,
    prev: c.prev,
    branch: c.branch,
    disabled: c.disabled,
    error: c.error,
    created: c.createdAt,
    updated: c.updatedAt,
    version: c.version,
  };
}

/** When an enabled job with this expression fires next after `now`; 0 for a disabled one, which never does. */
export function nextFor(expr: string, disabled: boolean, now: number): number {
  return disabled ? 0 : nextRun(parseCron(expr), now);
}

/** A job a scheduler took: the row as it was, and the `next` (the lease's end) that proves it is still this one's. */
export interface CronClaim {
  job: CronRow;
  lease: number;
}

/**
 * Takes up to `limit` enabled jobs that are due: each by an UPDATE conditional on the
 * `next` it was seen with, so of several servers exactly one gets it.
 */
export async function claimDueCrons(ctx: Pick<ServerContext, 'db' | 'now'>, limit: number, leaseSeconds: number): Promise<CronClaim[]> {
  const now = ctx.now();
  const due = await ctx.db.cron.findMany({
    where: { disabled: false, next: { gt: 0, lte: now } },
    orderBy: { next: 'asc' },
    take: limit,
    select: { id: true, next: true },
  });
  const claims: CronClaim[] = [];
  for (const seen of due) {
    const lease = now + leaseSeconds;
    const { count } = await ctx.db.cron.updateMany({ where: { id: seen.id, disabled: false, next: seen.next }, data: { next: lease, prev: now } });
    if (!count) continue;
    const job = await ctx.db.cron.findUnique({ where: { id: seen.id } });
    if (job) claims.push({ job, lease });
  }
  return claims;
}

/** The earliest second an enabled job is due; undefined when none is. */
export async function nextCronDue(ctx: Pick<ServerContext, 'db'>): Promise<number | undefined> {
  const first = await ctx.db.cron.findFirst({ where: { disabled: false, next: { gt: 0 } }, orderBy: { next: 'asc' }, select: { next: true } });
  return first?.next;
}

/**
 * Ends a run: the job waits for its following time from now, with why the run made no
 * build (empty when it did). False when the claim was no longer this server's (the job
 * was changed, disabled or deleted meanwhile, and that change stands).
 */
export async function finishCronRun(ctx: Pick<ServerContext, 'db' | 'now'>, claim: CronClaim, error: string): Promise<boolean> {
  const next = nextFor(claim.job.expr, false, ctx.now());
  const { count } = await ctx.db.cron.updateMany({ where: { id: claim.job.id, next: claim.lease }, data: { next, error } });
  return count === 1;
}

/**
 * Inside the build transaction of a scheduled run: ends the run as finishCronRun does, so the
 * build and the job's following time commit together. A server that dies after that commit
 * leaves nothing due; one whose claim lapsed meanwhile (another server took the run) gets
 * the reason, and its build is rolled back: each due run makes one build.
 */
export async function finishCronRunWithBuild(tx: Prisma.TransactionClient, claim: CronClaim, now: number): Promise<string | undefined> {
  const next = nextFor(claim.job.expr, false, now);
  const { count } = await tx.cron.updateMany({ where: { id: claim.job.id, next: claim.lease }, data: { next, error: '' } });
  return count === 1 ? undefined : `cron job "${claim.job.name}" was changed, deleted or taken by another server while this one built it`;
}

/** Puts a run back to be tried again at `at` (the provider failed, or this server is stopping), with why. */
export async function retryCronRun(ctx: Pick<ServerContext, 'db'>, claim: CronClaim, at: number, error: string): Promise<boolean> {
  const { count } = await ctx.db.cron.updateMany({ where: { id: claim.job.id, next: claim.lease }, data: { next: at, error } });
  return count === 1;
}
