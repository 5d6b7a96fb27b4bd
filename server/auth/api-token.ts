// Personal API tokens, sent as `Authorization: Bearer <token>`. Only their sha256 is
// stored, with the owner's name for it, when it expires and when it was last used.
import type { ServerContext } from '../context.ts';
import type { UserRow } from '../http/request.ts';
import { randomSecret, sha256 } from './secrets.ts';

const DAY = 24 * 60 * 60;
/** Tokens made before tokens had an expiry (expiresAt 0) last this long from their creation. */
export const LEGACY_TOKEN_DAYS = 90;
/** lastUsed is written at most this often per token, so busy clients do not write on every call. */
const LAST_USED_RESOLUTION_SECONDS = 60;

export interface ApiTokenOptions {
  /** The user's tokens made before this one stop working. */
  rotate?: boolean;
  /** What the owner calls it. */
  name?: string;
  /** Days until it expires; HARRIER_TOKEN_DAYS when not given. */
  days?: number;
}

export interface ApiTokenInfo {
  /** A short public handle for listing and revoking: the first 12 hex digits of the token's sha256. */
  id: string;
  name: string;
  created: number;
  expires: number;
  /** 0 when never used. */
  last_used: number;
}

/** Creates a token for the user and returns it; with rotate, the user's older tokens stop working. */
export async function createApiToken(ctx: ServerContext, userId: number, options: ApiTokenOptions = {}): Promise<string> {
  return (await issueApiToken(ctx, userId, options)).token;
}

/** createApiToken, with what the token list will say about it. */
export async function issueApiToken(ctx: ServerContext, userId: number, options: ApiTokenOptions = {}): Promise<{ token: string; info: ApiTokenInfo }> {
  const token = randomSecret();
  const now = ctx.now();
  const days = options.days ?? ctx.config.tokenDays;
  const data = { id: sha256(token), userId, name: options.name ?? '', createdAt: now, expiresAt: now + days * DAY };
  const create = ctx.db.apiToken.create({ data });
  if (options.rotate) {
    await ctx.db.$transaction([ctx.db.apiToken.deleteMany({ where: { userId } }), create]);
  } else {
    await create;
  }
  return { token, info: tokenInfo({ ...data, lastUsed: 0 }) };
}

/** When the token stops working: its own expiry, or 90 days after creation for tokens made before expiry existed. */
export function expiryOf(row: { expiresAt: number; createdAt: number }): number {
  return row.expiresAt || row.createdAt + LEGACY_TOKEN_DAYS * DAY;
}

export function tokenInfo(row: { id: string; name: string; createdAt: number; expiresAt: number; lastUsed: number }): ApiTokenInfo {
  return { id: publicId(row.id), name: row.name, created: row.createdAt, expires: expiryOf(row), last_used: row.lastUsed };
}

function publicId(digest: string): string {
  return digest.slice(0, 12);
}

export type TokenCheck = { ok: true; user: UserRow } | { ok: false; reason: 'unknown' | 'expired' | 'blocked'; expired?: number };

/** The active user the token belongs to, or why the token does not work. Records the use. */
export async function checkApiToken(ctx: ServerContext, token: string): Promise<TokenCheck> {
  const row = await ctx.db.apiToken.findUnique({ where: { id: sha256(token) }, include: { user: true } });
  if (!row) return { ok: false, reason: 'unknown' };
  const now = ctx.now();
  const expires = expiryOf(row);
  if (expires <= now) return { ok: false, reason: 'expired', expired: expires };
  if (!row.user.active) return { ok: false, reason: 'blocked' };
  if (now - row.lastUsed >= LAST_USED_RESOLUTION_SECONDS) {
    await ctx.db.apiToken.updateMany({ where: { id: row.id }, data: { lastUsed: now } });
  }
  return { ok: true, user: row.user };
}

/** The active user the token belongs to, or undefined. */
export async function userForApiToken(ctx: ServerContext, token: string): Promise<UserRow | undefined> {
  const check = await checkApiToken(ctx, token);
  return check.ok ? check.user : undefined;
}

/** The user's tokens, newest first; never the tokens themselves. */
export async function listApiTokens(ctx: ServerContext, userId: number): Promise<ApiTokenInfo[]> {
  const rows = await ctx.db.apiToken.findMany({ where: { userId }, orderBy: [{ createdAt: 'desc' }, { id: 'asc' }] });
  return rows.map(tokenInfo);
}

/** Revokes the user's token with this public id; false when the user has none such. */
export async function revokeApiToken(ctx: ServerContext, userId: number, id: string): Promise<boolean> {
  if (!/^[0-9a-f]{12}$/.test(id)) return false;
  const { count } = await ctx.db.apiToken.deleteMany({ where: { userId, id: { startsWith: id } } });
  return count > 0;
}
