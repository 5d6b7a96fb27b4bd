// The provider token the server uses on a user's behalf, refreshed when it is
// about to expire (Bitbucket's last two hours; GitHub's usually never expire).
import type { Provider } from '../../core/domain.ts';
import type { ServerContext } from '../context.ts';
import { HttpError } from '../http/errors.ts';
import type { UserRow } from '../http/request.ts';
import { ScmError } from '../scm/scm.ts';

/** Refresh this long before the provider's expiry so a token does not lapse mid-call. */
const REFRESH_MARGIN_SECONDS = 60;

export const PROVIDER_NAMES: Record<Provider, string> = { github: 'GitHub', bitbucket: 'Bitbucket' };

// One refresh per user at a time in this process: providers that rotate refresh
// tokens (GitHub's expiring user tokens) refuse the second use of the old one.
const refreshing = new Map<number, Promise<string>>();

/** A usable access token for the user; refreshes and stores it when needed. */
export async function scmTokenFor(ctx: ServerContext, user: UserRow): Promise<string> {
  const provider = user.provider as Provider;
  const name = PROVIDER_NAMES[provider] ?? provider;
  const signInAgain = `sign in again at ${ctx.config.host}/login/${provider}`;
  if (!user.token) throw new HttpError(401, `Harrier holds no ${name} token for ${user.login}; ${signInAgain}`);
  if (!user.expiry || user.expiry > ctx.now() + REFRESH_MARGIN_SECONDS) return user.token;
  if (!user.refresh) throw new HttpError(401, `the ${name} token of ${user.login} has expired; ${signInAgain}`);
  const pending = refreshing.get(user.id);
  if (pending) return pending;
  const refresh = refreshToken(ctx, user, name, signInAgain).finally(() => refreshing.delete(user.id));
  refreshing.set(user.id, refresh);
  return refresh;
}

async function refreshToken(ctx: ServerContext, user: UserRow, name: string, signInAgain: string): Promise<string> {
  const provider = user.provider as Provider;
  let fresh;
  try {
    fresh = await ctx.scms[provider].refresh(user.refresh);
  } catch (err) {
    if (err instanceof ScmError && err.status < 500) {
      throw new HttpError(401, `${name} refused to refresh the token of ${user.login} (${err.message}); ${signInAgain}`);
    }
    throw err;
  }
  const updated = await ctx.db.user.update({
    where: { id: user.id },
    data: { token: fresh.access, refresh: fresh.refresh || user.refresh, expiry: fresh.expires, updatedAt: ctx.now() },
  });
  Object.assign(user, { token: updated.token, refresh: updated.refresh, expiry: updated.expiry });
  return fresh.access;
}
