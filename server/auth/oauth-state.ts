// The OAuth `state` parameter, bound to the browser that started the sign-in.
// The browser holds the state in a short-lived HttpOnly cookie on the login path,
// signed with the OAuth client secret (a key every server process already shares),
// so a callback carrying someone else's code and state is refused.
import { createHmac } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Provider } from '../../core/domain.ts';
import { clearCookie, readCookie, setCookie } from './cookies.ts';
import { randomSecret, sameSecret } from './secrets.ts';

export const STATE_COOKIE = 'harrier_oauth_state';
/** Long enough to type a password and pass two-factor on the provider's page. */
export const STATE_TTL_SECONDS = 10 * 60;

export interface StateOptions {
  provider: Provider;
  /** Signing key: the provider's OAuth client secret. */
  key: string;
  secure: boolean;
  now: number;
}

const cookiePath = (provider: Provider) => `/login/${provider}`;

function sign(key: string, provider: Provider, state: string, expires: number): string {
  return createHmac('sha256', key).update(`${provider}.${state}.${expires}`).digest('base64url');
}

/** Makes a new state, sets its cookie and returns the value to send to the provider. */
export function issueState(res: Response, options: StateOptions): string {
  const state = randomSecret();
  const expires = options.now + STATE_TTL_SECONDS;
  const value = `${state}.${expires}.${sign(options.key, options.provider, state, expires)}`;
  setCookie(res, STATE_COOKIE, value, { path: cookiePath(options.provider), maxAge: STATE_TTL_SECONDS, secure: options.secure });
  return state;
}

export type StateCheck = { ok: true } | { ok: false; reason: string };

/** Checks the state the provider sent back against the browser's cookie, and clears the cookie either way. */
export function checkState(req: Request, res: Response, returned: string, options: StateOptions): StateCheck {
  const cookie = readCookie(req, STATE_COOKIE);
  clearCookie(res, STATE_COOKIE, { path: cookiePath(options.provider), secure: options.secure });
  if (!cookie) return { ok: false, reason: 'this browser holds no sign-in state (the cookie is missing or expired)' };
  const [state, expiresText, mac] = cookie.split('.');
  const expires = Number(expiresText);
  if (!state || !mac || !Number.isInteger(expires) || !sameSecret(mac, sign(options.key, options.provider, state, expires))) {
    return { ok: false, reason: 'the sign-in state cookie is not one this server issued' };
  }
  if (expires < options.now) return { ok: false, reason: 'the sign-in took longer than 10 minutes' };
  if (!returned || !sameSecret(returned, state)) {
    return { ok: false, reason: 'the state sent back does not match the one this browser started with' };
  }
  return { ok: true };
}
