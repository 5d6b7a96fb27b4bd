// Sign-in with the provider's OAuth web flow, and sign-out.
//   GET /login/{provider}                       -> redirect to the provider's authorize page (a registry id)
//   GET /login/{provider}?code=..&state=..      -> user, repositories, session cookie, redirect to /
//   GET /login/{provider}?error=access_denied   -> redirect to /?error=access_denied
//   a user HARRIER_USER_FILTER leaves out       -> redirect to /?error=not_allowed&login=..
//   a user an administrator blocked             -> redirect to /?error=blocked&login=..
//   POST /logout                                -> session ended (GET answers 405: a link or an
//                                                  image on another site must not sign anyone out)
import { Router, type Request, type Response } from 'express';
import type { Provider } from '../../core/domain.ts';
import type { ServerContext } from '../context.ts';
import { HttpError, notFound } from '../http/errors.ts';
import type { UserRow } from '../http/request.ts';
import { syncUserRepos } from '../api/repo-sync.ts';
import type { ScmProvider } from '../providers/provider.ts';
import { ScmError, type ScmToken, type ScmUser } from '../providers/scm.ts';
import { sealedUserTokens } from '../secrets/stored-credentials.ts';
import { authenticate } from './authenticate.ts';
import { checkState, issueState, type StateOptions } from './oauth-state.ts';
import { endSession, startSession } from './session.ts';

export function loginRouter(ctx: ServerContext): Router {
  const router = Router();

  router.get('/login/:provider', async (req, res) => {
    const scm = ctx.providers.find(req.params.provider);
    if (!scm) {
      throw notFound(`no sign-in for "${req.params.provider}"; Harrier signs in with ${ctx.providers.ids().map((p) => `/login/${p}`).join(' or ')}`);
    }
    const provider = scm.provider;
    if (!scm.configured) {
      throw new HttpError(
        503,
        `${scm.name} sign-in is not configured on this server: set ${scm.envPrefix}_CLIENT_ID and ${scm.envPrefix}_CLIENT_SECRET ` +
          `from an OAuth app whose callback URL is ${redirectUri(ctx, provider)}, then restart Harrier`,
      );
    }
    const stateOptions: StateOptions = {
      provider,
      key: scm.stateKey,
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
    const outcome = await signIn(ctx, scm, code);
    if (outcome.kind === 'refused') {
      return res.redirect(303, `/?error=${outcome.reason}&login=${encodeURIComponent(outcome.login)}`);
    }
    await startSession(ctx, res, outcome.user.id);
    res.redirect(303, '/');
  });

  // POST is cookie-authenticated and state-changing, so it passes the CSRF check like the API.
  router.post('/logout', authenticate(ctx), async (req: Request, res: Response) => {
    await endSession(ctx, req, res);
    res.status(204).end();
  });
  router.all('/logout', (req, res) => {
    res.set('Allow', 'POST');
    throw new HttpError(
      405,
      `sign out with POST /logout (the web UI's Sign out button does), not ${req.method}: a GET could be sent by any page that links or embeds this address`,
    );
  });

  return router;
}

function redirectUri(ctx: ServerContext, provider: Provider): string {
  return `${ctx.config.host}/login/${provider}`;
}

function query(req: Request, name: string): string | undefined {
  const value = req.query[name];
  return typeof value === 'string' && value ? value : undefined;
}

type SignInOutcome = { kind: 'in'; user: UserRow } | { kind: 'refused'; reason: 'not_allowed' | 'blocked'; login: string };

/** Code -> token -> provider user -> who may sign in -> User row, repositories and permissions. */
async function signIn(ctx: ServerContext, scm: ScmProvider, code: string): Promise<SignInOutcome> {
  const name = scm.name;
  let token: ScmToken;
  let account: ScmUser;
  let allowed: boolean;
  try {
    token = await scm.exchange(code, redirectUri(ctx, scm.provider));
    account = await scm.user(token.access);
    allowed = await passesUserFilter(ctx, scm, token.access, account.login);
  } catch (err) {
    if (err instanceof ScmError) {
      const status = err.status >= 500 ? 502 : 401;
      throw new HttpError(status, `${name} sign-in failed: ${err.message}; start again at ${ctx.config.host}/login/${scm.provider}`);
    }
    throw err;
  }
  const log = { provider: scm.provider, login: account.login };
  if (!allowed) {
    ctx.logger.warn({ event: 'sign_in_refused', reason: 'user_filter', ...log }, `${account.login} may not sign in: HARRIER_USER_FILTER names neither the login nor one of its organisations`);
    return { kind: 'refused', reason: 'not_allowed', login: account.login };
  }
  const known = await ctx.db.user.findUnique({ where: { provider_providerId: { provider: scm.provider, providerId: account.id } } });
  if (known && !known.active) {
    ctx.logger.warn({ event: 'sign_in_refused', reason: 'blocked', ...log }, `${account.login} may not sign in: an administrator blocked the account`);
    return { kind: 'refused', reason: 'blocked', login: account.login };
  }
  const user = await saveUser(ctx, scm.provider, account, token);
  try {
    await syncUserRepos(ctx, user);
  } catch (err) {
    // Signing in still works; GET /api/user/repos tries the sync again because syncedAt did not move.
    ctx.logger.warn({ err, user: user.login, provider: scm.provider }, 'repository sync at sign-in failed');
  }
  return { kind: 'in', user };
}

/**
 * HARRIER_USER_FILTER, as Drone's DRONE_USER_FILTER: when it lists anything, the user
 * signs in only if it lists their login or an organisation (a workspace, at some
 * providers) they belong to, asked of the provider at every sign-in. Administrators
 * named in HARRIER_ADMINS always may.
 */
async function passesUserFilter(ctx: ServerContext, scm: ScmProvider, token: string, login: string): Promise<boolean> {
  const filter = ctx.config.userFilter;
  if (filter.length === 0 || isConfiguredAdmin(ctx, scm.provider, login)) return true;
  if (filter.includes(login.toLowerCase())) return true;
  const orgs = await scm.orgs(token);
  return orgs.some((org) => filter.includes(org.toLowerCase()));
}

/** Whether HARRIER_ADMINS names the login, bare or as "provider:login". */
export function isConfiguredAdmin(ctx: ServerContext, provider: Provider, login: string): boolean {
  const l = login.toLowerCase();
  return ctx.config.admins.some((entry) => entry === l || entry === `${provider}:${l}`);
}
async function saveUser(ctx: ServerContext, provider: Provider, account: ScmUser, token: ScmToken): Promise<UserRow> {
  const now = ctx.now();
  // A login is unique per provider, but accounts get renamed: when another account
  // held this login before, it gives the login up until its own next sign-in.
  await ctx.db.user.updateMany({
    where: { provider, login: account.login, NOT: { providerId: account.id } },
    data: { login: `${account.login}~renamed-${now}`, updatedAt: now },
  });
  // The tokens are sealed for the row's id, known once the row exists (see the update below).
  const fields = {
    login: account.login,
    email: account.email,
    avatar: account.avatar,
    expiry: token.expires,
    lastLogin: now,
    // Signing in again is what ends a refused token's anonymous fallback.
    scmRefused: 0,
    updatedAt: now,
  };
  const upsert = () =>
    ctx.db.user.upsert({
      where: { provider_providerId: { provider, providerId: account.id } },
      update: fields,
      create: { provider, providerId: account.id, ...fields, createdAt: now },
    });
  const row = await upsert().catch((err) => {
    // Two sign-ins of a new account at once: the second insert loses and updates instead.
    if ((err as { code?: string })?.code === 'P2002') return upsert();
    throw err;
  });
  const admin = row.admin || isConfiguredAdmin(ctx, provider, account.login);
  const user = await ctx.db.user.update({
    where: { id: row.id },
    data: { ...sealedUserTokens(ctx.config, row.id, { token: token.access, refresh: token.refresh }), admin },
  });
  if (admin && !row.admin) ctx.logger.info({ event: 'admin_granted', provider, login: user.login, by: 'HARRIER_ADMINS' }, `${user.login} is an administrator: HARRIER_ADMINS names them`);
  return firstUserAdmin(ctx, user);
}

/**
 * On `harrier up`'s embedded defaults on localhost (HARRIER_FIRST_USER_ADMIN), the first
 * account to sign in becomes the administrator, so someone trying Harrier out can mark
 * repositories trusted. Nowhere else does arriving first make anyone an administrator.
 */
async function firstUserAdmin(ctx: ServerContext, user: UserRow): Promise<UserRow> {
  if (!ctx.config.firstUserAdmin || user.admin) return user;
  const admins = await ctx.db.user.count({ where: { admin: true } });
  if (admins > 0) return user;
  const first = await ctx.db.user.findFirst({ orderBy: { id: 'asc' } });
  if (first?.id !== user.id) return user;
  const made = await ctx.db.user.update({ where: { id: user.id }, data: { admin: true } });
  const message =
    `${user.login} is the administrator because this server runs on harrier up's embedded defaults on localhost; ` +
    'set HARRIER_ADMINS for a real installation';
  ctx.logger.warn({ event: 'admin_granted', provider: user.provider, login: user.login, by: 'HARRIER_FIRST_USER_ADMIN' }, message);
  return made;
}
