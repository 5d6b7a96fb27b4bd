// Who is calling: a browser with a session cookie, or a client with a personal
// token. And, for browsers, proof that a state-changing call comes from Harrier's
// own pages (CSRF protection).
import type { Request, RequestHandler } from 'express';
import type { ServerContext } from '../context.ts';
import { forbidden, unauthorized } from '../http/errors.ts';
import { checkApiToken, type TokenCheck } from './api-token.ts';
import { sameSecret } from './secrets.ts';
import { findSession, type SessionInfo } from './session.ts';

export const CSRF_HEADER = 'X-CSRF-Token';

// The session behind a cookie-authenticated request, for the CSRF check and the
// CSRF token endpoint. A WeakMap keeps it off the request's public shape.
const sessions = new WeakMap<Request, SessionInfo>();

export function sessionOf(req: Request): SessionInfo | undefined {
  return sessions.get(req);
}

/**
 * Sets req.user and req.authMethod from `Authorization: Bearer <personal token>`
 * (checked first) or the session cookie. Nobody signed in is not an error here;
 * requireUser and repoAccess decide. An unknown Bearer token is refused outright,
 * so a client with a revoked token hears so instead of seeing only public data.
 *
 * A cookie-authenticated call that changes state must also pass the CSRF check
 * (see checkCsrf). It is part of authenticating rather than a middleware of its
 * own so that no route can accept the session cookie without it. /hook and /rpc
 * have their own authentication and do not mount this.
 */
export function authenticate(ctx: ServerContext): RequestHandler {
  const hostOrigin = new URL(ctx.config.host).origin;
  return async (req, _res, next) => {
    const authorization = req.get('authorization');
    if (authorization) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      if (!m) {
        throw unauthorized('the Authorization header must be "Bearer <token>" with a personal token from POST /api/user/token');
      }
      const check = await checkApiToken(ctx, m[1]);
      if (!check.ok) throw unauthorized(tokenRefusal(ctx, check));
      req.user = check.user;
      req.authMethod = 'token';
      return next();
    }
    const session = await findSession(ctx, req);
    if (session) {
      checkCsrf(req, session, hostOrigin);
      sessions.set(req, session);
      req.user = session.user;
      req.authMethod = 'session';
    }
    next();
  };
}

function tokenRefusal(ctx: ServerContext, check: Exclude<TokenCheck, { ok: true }>): string {
  const newToken = `create a new one on ${ctx.config.host}/account or with POST /api/user/tokens`;
  if (check.reason === 'expired') {
    return `the Bearer token expired on ${new Date((check.expired ?? 0) * 1000).toISOString()}; ${newToken}`;
  }
  if (check.reason === 'blocked') return 'the Bearer token belongs to a user an administrator of this Harrier blocked; ask them to unblock the account';
  return `the Bearer token is not valid (revoked, rotated, or never issued here); ${newToken}`;
}

/**
 * Whether the caller a long-lived answer (an event stream) was opened for is still signed
 * in as then: their token not revoked or expired, their session not ended, the user not
 * blocked. An anonymous caller stays what it was.
 */
export function stillAuthenticated(ctx: ServerContext, req: Request): () => Promise<boolean> {
  return async () => {
    if (!req.user) return true;
    if (req.authMethod === 'token') {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
      return !!m && (await checkApiToken(ctx, m[1])).ok;
    }
    const session = await findSession(ctx, req);
    return !!session;
  };
}

/** 401 unless someone is signed in. */
export const requireUser: RequestHandler = (req, _res, next) => {
  next(req.user ? undefined : unauthorized());
};

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A state-changing call authenticated by the session cookie must come from
 * Harrier's own pages: an `Origin` header equal to HARRIER_HOST's origin, or the
 * session's CSRF token in `X-CSRF-Token` (the page gets it from the X-CSRF-Token
 * header of GET /api/user, or from GET /api/user/csrf). Bearer-token calls need
 * neither: a browser never attaches that header on its own.
 */
function checkCsrf(req: Request, session: SessionInfo, hostOrigin: string): void {
  if (SAFE_METHODS.has(req.method)) return;
  const origin = req.get('origin');
  if (origin && origin === hostOrigin) return;
  const token = req.get(CSRF_HEADER);
  if (token && sameSecret(token, session.csrf)) return;
  const why = origin ? `its Origin ${origin} is not ${hostOrigin} (HARRIER_HOST)` : 'it has no Origin header';
  throw forbidden(
    `refused ${req.method} ${req.originalUrl.split('?')[0]} as a possible cross-site request: it is authenticated by the session cookie, but ${why} ` +
      `and no valid ${CSRF_HEADER} header; send the session's CSRF token (GET /api/user/csrf) in ${CSRF_HEADER}, or use a personal token as Authorization: Bearer`,
  );
}
