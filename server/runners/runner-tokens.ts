// Runner tokens: one secret per runner name, issued and revoked by an administrator, in
// place of the shared HARRIER_RPC_SECRET. The runner sends it as its Bearer (in its own
// HARRIER_RPC_SECRET); the token speaks for its runner's name only. Only the sha256 is
// stored (RunnerToken.id); the token itself is shown once, when issued.
import { createHash, randomBytes } from 'node:crypto';
import type { ServerContext } from '../context.ts';
import type { RunnerToken as RunnerTokenRow } from '../db/generated/sqlite/client.ts';

export type { RunnerTokenRow };

/** Marks a runner token, so that a log line or a leaked value says what it is. */
export const RUNNER_TOKEN_PREFIX = 'hrt_';

/** lastUsed is written at most this often per token: a busy runner calls several times a second. */
const LAST_USED_RESOLUTION_SECONDS = 60;

export function runnerTokenId(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export async function issueRunnerToken(ctx: ServerContext, runner: string, createdBy: string): Promise<{ token: string; row: RunnerTokenRow }> {
  const token = RUNNER_TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const row = await ctx.db.runnerToken.create({ data: { id: runnerTokenId(token), runner, createdBy, createdAt: ctx.now() } });
  return { token, row };
}

/** Every token, newest first; revoked ones stay listed with when they were revoked. */
export function listRunnerTokens(ctx: ServerContext): Promise<RunnerTokenRow[]> {
  return ctx.db.runnerToken.findMany({ orderBy: [{ createdAt: 'desc' }, { runner: 'asc' }] });
}

/** Revokes the token; it is refused from the next call on. Undefined when no token has this id. */
export async function revokeRunnerToken(ctx: ServerContext, id: string): Promise<RunnerTokenRow | undefined> {
  await ctx.db.runnerToken.updateMany({ where: { id, revokedAt: 0 }, data: { revokedAt: ctx.now() } });
  return (await ctx.db.runnerToken.findUnique({ where: { id } })) ?? undefined;
}

/**
 * The runner name a valid, unrevoked token speaks for; undefined for any other value. Looked
 * up on every call, so a revocation counts at once.
 */
export async function runnerOfToken(ctx: ServerContext, token: string): Promise<string | undefined> {
  if (!token.startsWith(RUNNER_TOKEN_PREFIX)) return undefined;
  // A lookup by the hash: its timing tells nothing about the token (finding a value whose hash starts alike is no help).
  const row = await ctx.db.runnerToken.findUnique({ where: { id: runnerTokenId(token) } });
  if (!row || row.revokedAt) return undefined;
  const now = ctx.now();
  if (now - row.lastUsed >= LAST_USED_RESOLUTION_SECONDS) {
    // Conditional on the value read, so servers racing on one token write it once.
    await ctx.db.runnerToken.updateMany({ where: { id: row.id, lastUsed: row.lastUsed }, data: { lastUsed: now } });
  }
  return row.runner;
}
