// Browser sessions: a random value in an HttpOnly cookie, its sha256 in the
// Session table together with the session's CSRF token and expiry.
import type { Request, Response } from 'express';
import type { ServerContext } from '../context.ts';
import type { UserRow } from '../http/request.ts';
import { clearCookie, readCookie, setCookie } from './cookies.ts';
import { randomSecret, sha256 } from './secrets.ts';

export const SESSION_COOKIE = 'harrier_session';
export const SESSION_TTL_SECONDS = 30 * 24 * 60 * 60;

export interface SessionInfo {
  /** sha256 of the cookie value: the Session row's id. */
  id: string;
  csrf: string;
  user: UserRow;
}

/** Creates a session for the user and sets its cookie on the answer. */
export async function startSession(ctx: ServerContext, res: Response, userId: number): Promise<void> {
  const value = randomSecret();
  const now = ctx.now();
  await ctx.db.session.create({
    data: { id: sha256(value), userId, csrf: randomSecret(), expiresAt: now + SESSION_TTL_SECONDS, createdAt: now },
  });
  setCookie(res, SESSION_COOKIE, value, { path: '/', maxAge: SESSION_TTL_SECONDS, secure: ctx.config.secureCookies });
}

/** The live session the request's cookie names, or undefined (no cookie, unknown, expired, or the user was disabled). */
export async function findSession(ctx: ServerContext, req: Request): Promise<SessionInfo | undefined> {
  const value = readCookie(req, SESSION_COOKIE);
  if (!value) return undefined;
  const id = sha256(value);
  const session = await ctx.db.session.findUnique({ where: { id }, include: { user: true } });
  if (!session) return undefined;
  if (session.expiresAt <= ctx.now()) {
    await ctx.db.session.deleteMany({ where: { id } });
    return undefined;
  }
  if (!session.user.active) return undefined;
  return { id, csrf: session.csrf, user: session.user };
}

/** Ends the request's session, if any, and clears the cookie. */
export async function endSession(ctx: ServerContext, req: Request, res: Response): Promise<void> {
  const value = readCookie(req, SESSION_COOKIE);
  if (value) await ctx.db.session.deleteMany({ where: { id: sha256(value) } });
  clearCookie(res, SESSION_COOKIE, { path: '/', secure: ctx.config.secureCookies });
}
