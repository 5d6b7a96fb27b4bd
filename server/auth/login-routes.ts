// Sign-in with the provider's OAuth web flow, and sign-out.
//   GET /login/{github|bitbucket}               -> redirect to the provider's authorize page
//   GET /login/{provider}?code=..&state=..      -> user, repositories, session cookie, redirect to /
//   GET /login/{provider}?error=access_denied   -> redirect to /?error=access_denied
//   POST /logout (GET too, for a plain link)    -> session ended
import { Router, type Request, type Response } from 'express';
import type { Provider } from '../../core/domain.ts';
import type { ServerContext } from '../context.ts';
import { HttpError, notFound } from '../http/errors.ts';
import type { UserRow } from '../http/request.ts';
import { syncUserRepos } from '../api/repo-sync.ts';
import { ScmError, type Scm, type ScmToken, type ScmUser } from '../scm/scm.ts';
import { authenticate } from './authenticate.ts';
import { checkState, issueState, type StateOptions } from './oauth-state.ts';
import { PROVIDER_NAMES } from './scm-token.ts';
import { endSession, startSession } from './session.ts';

const PROVIDERS: Provider[] = ['github', 'bitbucket'];

export function loginRouter(ctx: ServerContext): Router {
  const router = Router();

  router.get('/login/:provider', async (req, res) => {
    const provider = req.params.provider as Provider;
    if (!PROVIDERS.includes(provider)) {
      throw notFound(`no sign-in for "${req.params.provider}"; Harrier signs in with ${PROVIDERS.map((p) => `/login/${p}`).join(' or ')}`);
    }
    const scm = ctx.scms[provider];
    const env = provider.toUpperCase();
    if (!scm?.configured) {
      throw new HttpError(
        503,
        `${PROVIDER_NAMES[provider]} sign-in is not configured on this server: set HARRIER_${env}_CLIENT_ID and HARRIER_${env}_CLIENT_SECRET ` +
          `from an OAuth app whose callback URL is ${redirectUri(ctx, provider)}, then restart Harrier`,
      );
    }
    const stateOptions: StateOptions = {
      provider,
      key: ctx.config[provider].clientSecret,
      secure: ctx.config.secureCookies,
      now: ctx.now(),
    };
    const error = query(req, 'error');
    if (error) {
      // The user said no on the provider's page (or the provider refused the app): back to the start page, which shows why.
      return res.redirect(303, `/?error=${encodeURIComponent(error)}`);
    }
    const code = query(req, 'code');
    if (!code) {
      const state = issueState(res, stateOptions);
      return res.redirect(302, scm.authorizeUrl(state, redirectUri(ctx, provider)));
    }
    const check = checkState(req, res, query(req, 'state') ?? '', stateOptions);
    if (!check.ok) {
      throw new HttpError(400, `sign-in refused: ${check.reason}; start again at ${ctx.config.host}/login/${provider}`);
    }
    const user = await signIn(ctx, scm, code);
    await startSession(ctx, res, user.id);
    res.redirect(303, '/');
  });

  const logout = async (req: Request, res: Response) => {
    await endSession(ctx, req, res);
    if (req.method === 'GET') res.redirect(303, '/');
    else res.status(204).end();
  };
  // POST is cookie-authenticated and state-changing, so it passes the CSRF check like the API.
  router.post('/logout', authenticate(ctx), logout);
  router.get('/logout', logout);

  return router;
}

function redirectUri(ctx: ServerContext, provider: Provider): string {
  return `${ctx.config.host}/login/${provider}`;
}

function query(req: Request, name: string): string | undefined {
  const value = req.query[name];
  return typeof value === 'string' && value ? value : undefined;
}

/** Code -> token -> provider user -> User row, repositories and permissions. */
async function signIn(ctx: ServerContext, scm: Scm, code: string): Promise<UserRow> {
  const name = PROVIDER_NAMES[scm.provider];
  let token: ScmToken;
  let account: ScmUser;
  try {
    token = await scm.exchange(code, redirectUri(ctx, scm.provider));
    account = await scm.user(token.access);
  } catch (err) {
    if (err instanceof ScmError) {
      const status = err.status >= 500 ? 502 : 401;
      throw new HttpError(status, `${name} sign-in failed: ${err.message}; start again at ${ctx.config.host}/login/${scm.provider}`);
    }
    throw err;
  }
  const user = await saveUser(ctx, scm.provider, account, token);
  try {
    await syncUserRepos(ctx, user);
  } catch (err) {
    // Signing in still works; GET /api/user/repos tries the sync again because syncedAt did not move.
    ctx.logger.warn({ err, user: user.login, provider: scm.provider }, 'repository sync at sign-in failed');
  }
  return user;
}

async function saveUser(ctx: ServerContext, provider: Provider, account: ScmUser, token: ScmToken): Promise<UserRow> {
  const now = ctx.now();
  // A login is unique per provider, but accounts get renamed: when another account
  // held this login before, it gives the login up until its own next sign-in.
  await ctx.db.user.updateMany({
    where: { provider, login: account.login, NOT: { providerId: account.id } },
    data: { login: `${account.login}~renamed-${now}`, updatedAt: now },
  });
  const fields = {
    login: account.login,
    email: account.email,
    avatar: account.avatar,
    token: token.access,
    refresh: token.refresh,
    expiry: token.expires,
    lastLogin: now,
    updatedAt: now,
  };
  const upsert = () =>
    ctx.db.user.upsert({
      where: { provider_providerId: { provider, providerId: account.id } },
      update: fields,
      create: { provider, providerId: account.id, ...fields, createdAt: now },
    });
  const user = await upsert().catch((err) => {
    // Two sign-ins of a new account at once: the second insert loses and updates instead.
    if ((err as { code?: string })?.code === 'P2002') return upsert();
    throw err;
  });
  return bootstrapAdmin(ctx, user);
}

/**
 * The first account to sign in becomes Harrier's administrator, so someone can
 * mark repositories trusted (Drone reserves that for administrators). Nothing
 * here makes later accounts administrators; that is the users API's job.
 */
async function bootstrapAdmin(ctx: ServerContext, user: UserRow): Promise<UserRow> {
  if (user.admin) return user;
  const admins = await ctx.db.user.count({ where: { admin: true } });
  if (admins > 0) return user;
  const first = await ctx.db.user.findFirst({ orderBy: { id: 'asc' } });
  if (first?.id !== user.id) return user;
  return ctx.db.user.update({ where: { id: user.id }, data: { admin: true } });
}
