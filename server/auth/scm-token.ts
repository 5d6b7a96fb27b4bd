// The provider token the server uses on a user's behalf, refreshed when it is
// about to expire (some providers' last two hours, others' never expire).
import type { ServerContext } from '../context.ts';
import { HttpError } from '../http/errors.ts';
import type { UserRow } from '../http/request.ts';
import { ScmError } from '../providers/scm.ts';
import { SecretBoxError } from '../secrets/secret-box.ts';
import { sealedUserTokens, userTokens } from '../secrets/stored-credentials.ts';

/** Refresh this long before the provider's expiry so a token does not lapse mid-call. */
const REFRESH_MARGIN_SECONDS = 60;

// One refresh per user at a time in this process: providers that rotate refresh
// tokens refuse the second use of the old one.
const refreshing = new Map<number, Promise<string>>();

/**
 * A usable access token for the user; refreshes and stores it when needed. When the
 * provider's grant is gone (no token, a refused refresh, a token this key cannot open)
 * the user is marked refused (see markScmRefused) and the answer is a 401 saying to sign in again.
 */
export async function scmTokenFor(ctx: ServerContext, user: UserRow): Promise<string> {
  const provider = user.provider;
  const name = ctx.providers.nameOf(provider);
  const signInAgain = `sign in again at ${ctx.config.host}/login/${provider}`;
  let stored: { token: string; refresh: string };
  try {
    stored = userTokens(ctx.config, user);
  } catch (err) {
    if (!(err instanceof SecretBoxError)) throw err;
    await markScmRefused(ctx, user);
    throw new HttpError(401, `Harrier cannot read its stored ${name} token for ${user.login} (${err.message}); ${signInAgain}`);
  }
  if (!stored.token) {
    await markScmRefused(ctx, user);
    throw new HttpError(401, `Harrier holds no ${name} token for ${user.login}; ${signInAgain}`);
  }
  if (!user.expiry || user.expiry > ctx.now() + REFRESH_MARGIN_SECONDS) return stored.token;
  if (!stored.refresh) {
    await markScmRefused(ctx, user);
    throw new HttpError(401, `the ${name} token of ${user.login} has expired; ${signInAgain}`);
  }
  const pending = refreshing.get(user.id);
  if (pending) return pending;
  const refresh = refreshToken(ctx, user, stored.refresh, name, signInAgain).finally(() => refreshing.delete(user.id));
  refreshing.set(user.id, refresh);
  return refresh;
}

async function refreshToken(ctx: ServerContext, user: UserRow, refreshWith: string, name: string, signInAgain: string): Promise<string> {
  const provider = user.provider;
  let fresh;
  try {
    fresh = await ctx.providers.get(provider).refresh(refreshWith);
  } catch (err) {
    if (err instanceof ScmError && err.status < 500) {
      await markScmRefused(ctx, user);
      throw new HttpError(401, `${name} refused to refresh the token of ${user.login} (${err.message}); ${signInAgain}`);
    }
    throw err;
  }
  const sealed = sealedUserTokens(ctx.config, user.id, { token: fresh.access, refresh: fresh.refresh || refreshWith });
  const updated = await ctx.db.user.update({
    where: { id: user.id },
    data: { ...sealed, expiry: fresh.expires, updatedAt: ctx.now() },
  });
  Object.assign(user, { token: updated.token, refresh: updated.refresh, expiry: updated.expiry });
  return fresh.access;
}

/**
 * Whether Harrier may rely on what the provider said about the user's permissions.
 * Not after the provider refused the user's token: the grant may have been revoked
 * because the person left, so until they sign in again they get what an anonymous
 * visitor gets, whatever the stored permissions say.
 */
export function providerPermsKnown(user: Pick<UserRow, 'scmRefused'>): boolean {
  return !user.scmRefused;
}

/** Records that the provider refused the user's token (sign-in clears it). */
export async function markScmRefused(ctx: ServerContext, user: UserRow): Promise<void> {
  if (user.scmRefused) return;
  const now = ctx.now();
  await ctx.db.user.updateMany({ where: { id: user.id, scmRefused: 0 }, data: { scmRefused: now } });
  user.scmRefused = now;
  ctx.logger.warn({ event: 'scm_token_refused', user: user.login, provider: user.provider }, 'the provider refused the user\'s token; their permissions count as anonymous until they sign in again');
}

/** A 401 from the provider for the user's own token means the grant is gone: mark it, and say whether it was one. */
export async function noteScmRefusal(ctx: ServerContext, user: UserRow, err: unknown): Promise<boolean> {
  const refused = (err instanceof ScmError && err.status === 401) || (err instanceof HttpError && err.status === 401);
  if (refused) await markScmRefused(ctx, user);
  return refused;
}

/** The message for a user whose token the provider refused. */
export function scmRefusedMessage(ctx: ServerContext, user: UserRow): string {
  const provider = user.provider;
  return `${ctx.providers.nameOf(provider)} refused Harrier's token for ${user.login}, so your permissions there are unknown; sign in again at ${ctx.config.host}/login/${provider}`;
}

