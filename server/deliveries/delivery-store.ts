// Every write to the Delivery table, each conditional on the state it leaves, so any
// number of servers may take deliveries from one database:
//
//   pending --claim--> running --finish--> built | ignored | failed
//      ^                  |
//      +----retry/release-+        (an expired claim is taken again as if pending)
//
// A delivery is stored in one INSERT when it arrives (storeDelivery), before it is
// answered, so nothing is lost if the server dies right after answering. The build
// transaction marks it built (markBuilt, in trigger/trigger.ts), conditional on it not
// being built yet, so one delivery never makes two builds.
import type { ServerContext } from '../context.ts';
import { type Delivery as DeliveryRow, Prisma } from '../db/generated/sqlite/client.ts';
import type { HookHeaders } from '../providers/hook-delivery.ts';

export type { DeliveryStatus } from '../../core/domain.ts';
export type { DeliveryRow };

export interface NewDelivery {
  provider: string;
  guid: string;
  bodyHash: string;
  repoId: number;
  event: string;
  headers: Record<string, string>;
  body: string;
  /** Why it builds nothing, when that is known on arrival (an event Harrier does not build): stored as ignored. */
  ignored?: string;
}

export type Stored =
  | { kind: 'stored'; id: number; status: 'pending' | 'ignored'; reason: string }
  /** The provider sent this delivery id before (its own retry): nothing new was stored. */
  | { kind: 'seen'; id: number; status: string };

/** Headers worth keeping: the provider's own (X-…) that its webhook code reads, and the content type. */
export function keptHeaders(headers: HookHeaders): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const key = name.toLowerCase();
    if (value === undefined || !(key.startsWith('x-') || key === 'content-type')) continue;
    kept[key] = String(Array.isArray(value) ? value[0] : value);
  }
  return kept;
}

export function duplicateBodyReason(guid: string, first: string): string {
  return `duplicate delivery: ${guid} has the same signed body as delivery ${first}, which was already received; a replayed delivery builds nothing`;
}

const DUPLICATE_PREFIX = 'duplicate delivery: ';
const DUPLICATE_MIDDLE = ' has the same signed body as delivery ';
const DUPLICATE_SUFFIX = ', which was already received; a replayed delivery builds nothing';

/**
 * Stores a verified delivery in one INSERT: pending, or ignored at once when an earlier
 * delivery had the same signed body (a replay under a fresh id). A delivery id already
 * stored inserts nothing and answers the earlier row.
 */
export async function storeDelivery(ctx: Pick<ServerContext, 'db' | 'now'>, d: NewDelivery): Promise<Stored> {
  const [stored] = await storeDeliveries(ctx, [d]);
  if (stored instanceof Error) throw stored;
  return stored;
}

/**
 * Stores deliveries in one INSERT (one commit), each as storeDelivery would; answers in
 * their order. A delivery removed before it could be answered (its repository was
 * deleted meanwhile) answers an Error of its own.
 */
export async function storeDeliveries(ctx: Pick<ServerContext, 'db' | 'now'>, ds: NewDelivery[]): Promise<(Stored | Error)[]> {
  const now = ctx.now();
  // Each row's twin lookup and its insert are one statement; two replays arriving together
  // may both be stored pending, and then the build transaction refuses the second (trigger.ts).
  // CASTs give PostgreSQL the parameters' types; `WHERE true` lets SQLite parse the upsert.
  const rows = ds.map((d) => {
    const headers = JSON.stringify(d.headers);
    const ignored = d.ignored ?? '';
    return Prisma.sql`
      SELECT CAST(${d.provider} AS TEXT), CAST(${d.guid} AS TEXT), CAST(${d.bodyHash} AS TEXT), CAST(${d.repoId} AS INTEGER),
        CAST(${d.event} AS TEXT), CAST(${headers} AS TEXT), CAST(${d.body} AS TEXT),
        CASE WHEN twin."guid" IS NULL AND CAST(${ignored} AS TEXT) = '' THEN 'pending' ELSE 'ignored' END,
        CASE WHEN twin."guid" IS NULL THEN CAST(${ignored} AS TEXT) ELSE CAST(${DUPLICATE_PREFIX + d.guid + DUPLICATE_MIDDLE} AS TEXT) || twin."guid" || CAST(${DUPLICATE_SUFFIX} AS TEXT) END,
        CAST(${now} AS INTEGER),
        CASE WHEN twin."guid" IS NULL AND CAST(${ignored} AS TEXT) = '' THEN 0 ELSE CAST(${now} AS INTEGER) END
      FROM (SELECT 1 AS "one") AS base
      LEFT JOIN (SELECT "guid" FROM "Delivery" WHERE "provider" = CAST(${d.provider} AS TEXT) AND "bodyHash" = CAST(${d.bodyHash} AS TEXT) AND "bodyHash" <> '' ORDER BY "id" LIMIT 1) AS twin ON 1 = 1
      WHERE true`;
  });
  const inserted = await ctx.db.$queryRaw<{ id: number | bigint; provider: string; guid: string; status: string; reason: string }[]>`
    INSERT INTO "Delivery" ("provider", "guid", "bodyHash", "repoId", "event", "headers", "body", "status", "reason", "createdAt", "finishedAt")
    ${Prisma.join(rows, ' UNION ALL ')}
    ON CONFLICT ("provider", "guid") DO NOTHING
    RETURNING "id", "provider", "guid", "status", "reason"`;
  const byKey = new Map(inserted.map((row) => [`${row.provider}\n${row.guid}`, row]));
  const answers: (Stored | Error)[] = [];
  const claimed = new Set<string>();
  for (const d of ds) {
    const key = `${d.provider}\n${d.guid}`;
    const row = byKey.get(key);
    // The same delivery id twice in one batch: the first stored it, the second has seen it.
    if (row && !claimed.has(key)) {
      claimed.add(key);
      answers.push({ kind: 'stored', id: Number(row.id), status: row.status as 'pending' | 'ignored', reason: row.reason });
      continue;
    }
    const seen = await ctx.db.delivery.findUnique({ where: { provider_guid: { provider: d.provider, guid: d.guid } }, select: { id: true, status: true } });
    // Deleted between the two statements (its repository was removed): say so rather than invent an id.
    answers.push(seen ? { kind: 'seen', id: seen.id, status: seen.status } : new Error(`delivery ${d.guid} was stored and then removed while it was being received; send it again`));
  }
  return answers;
}

/** A copy of a stored delivery under a fresh guid that skips the body-hash dedupe on purpose (someone asked for it). */
export async function storeRedelivery(ctx: Pick<ServerContext, 'db' | 'now'>, of: DeliveryRow, guid: string): Promise<DeliveryRow> {
  return ctx.db.delivery.create({
    data: {
      provider: of.provider,
      guid,
      bodyHash: of.bodyHash,
      repoId: of.repoId,
      event: of.event,
      headers: of.headers,
      body: of.body,
      status: 'pending',
      redeliveryOf: of.id,
      createdAt: ctx.now(),
    },
  });
}

/** A claim a worker holds: the row as it was taken, and the lease that proves the claim is still this worker's. */
export interface Claim {
  delivery: DeliveryRow;
  lease: number;
}

/**
 * Takes up to `limit` deliveries that are pending and due, or whose claim expired (its server
 * died or stalled). Each is taken by a conditional UPDATE on the state it was seen in, so of
 * several workers (in any number of servers) exactly one gets it.
 */
export async function claimDeliveries(ctx: Pick<ServerContext, 'db' | 'now'>, limit: number, leaseSeconds: number): Promise<Claim[]> {
  const now = ctx.now();
  const due = await ctx.db.delivery.findMany({
    where: { status: { in: ['pending', 'running'] }, nextAttempt: { lte: now } },
    orderBy: { id: 'asc' },
    take: limit,
    select: { id: true, status: true, nextAttempt: true },
  });
  const claims: Claim[] = [];
  for (const seen of due) {
    const lease = now + leaseSeconds;
    const { count } = await ctx.db.delivery.updateMany({
      where: { id: seen.id, status: seen.status, nextAttempt: seen.nextAttempt },
      data: { status: 'running', nextAttempt: lease, attempts: { increment: 1 } },
    });
    if (!count) continue;
    const delivery = await ctx.db.delivery.findUnique({ where: { id: seen.id } });
    if (delivery) claims.push({ delivery, lease });
  }
  return claims;
}

/** Whether any delivery is waiting, and the earliest second at which one is due; undefined when none. */
export async function nextDue(ctx: Pick<ServerContext, 'db'>): Promise<number | undefined> {
  const next = await ctx.db.delivery.findFirst({
    where: { status: { in: ['pending', 'running'] } },
    orderBy: { nextAttempt: 'asc' },
    select: { nextAttempt: true },
  });
  return next?.nextAttempt;
}

const held = (claim: Claim): Prisma.DeliveryWhereInput => ({ id: claim.delivery.id, status: 'running', nextAttempt: claim.lease });

/** Records an outcome without a build (ignored, failed); false when the claim was no longer this worker's. */
export async function finishDelivery(ctx: Pick<ServerContext, 'db' | 'now'>, claim: Claim, status: 'ignored' | 'failed', reason: string): Promise<boolean> {
  const { count } = await ctx.db.delivery.updateMany({ where: held(claim), data: { status, reason, finishedAt: ctx.now() } });
  return count === 1;
}

/** Puts a claimed delivery back to wait until `at` (a retry's back-off, or now when the server stops), with why. */
export async function releaseDelivery(ctx: Pick<ServerContext, 'db'>, claim: Claim, at: number, reason: string): Promise<boolean> {
  const { count } = await ctx.db.delivery.updateMany({ where: held(claim), data: { status: 'pending', nextAttempt: at, reason } });
  return count === 1;
}

/**
 * Inside the build transaction: marks the delivery built with its build's number, unless it
 * already is (another worker whose lease overlapped got there first). False means: roll back.
 */
export async function markBuilt(tx: Prisma.TransactionClient, deliveryId: number, buildNumber: number, now: number): Promise<boolean> {
  const { count } = await tx.delivery.updateMany({
    where: { id: deliveryId, status: { not: 'built' } },
    data: { status: 'built', buildNumber, reason: '', finishedAt: now },
  });
  return count === 1;
}

/** An earlier delivery with the same signed body, which makes this one a replay; redeliveries are never replays. */
export async function earlierTwin(db: Pick<ServerContext['db'], 'delivery'> | Prisma.TransactionClient, d: Pick<DeliveryRow, 'id' | 'provider' | 'bodyHash' | 'redeliveryOf'>, onlyBuilt = false): Promise<DeliveryRow | null> {
  if (!d.bodyHash || d.redeliveryOf) return null;
  return db.delivery.findFirst({
    where: { provider: d.provider, bodyHash: d.bodyHash, NOT: { id: d.id }, ...(onlyBuilt ? { status: 'built' } : { id: { lt: d.id } }) },
    orderBy: { id: 'asc' },
  });
}

export async function listDeliveries(ctx: Pick<ServerContext, 'db'>, repoId: number, page: number, perPage: number): Promise<DeliveryRow[]> {
  return ctx.db.delivery.findMany({ where: { repoId }, orderBy: { id: 'desc' }, skip: (page - 1) * perPage, take: perPage });
}
