// Cookies by hand: the Cookie header is parsed here and Set-Cookie values are
// written here, so every cookie Harrier sets carries the same safe attributes.
import type { Request, Response } from 'express';

export function parseCookies(header: string | undefined): Record<string, string> {
  const cookies: Record<string, string> = {};
  if (!header) return cookies;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    // The first cookie of a name wins, as in browsers' own ordering (most specific path first).
    if (name in cookies) continue;
    try {
      cookies[name] = decodeURIComponent(value);
    } catch {
      cookies[name] = value;
    }
  }
  return cookies;
}

export function readCookie(req: Request, name: string): string | undefined {
  return parseCookies(req.get('cookie'))[name];
}

export interface CookieOptions {
  /** Seconds; 0 deletes the cookie. */
  maxAge: number;
  path: string;
  secure: boolean;
}

export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  const parts = [`${name}=${encodeURIComponent(value)}`, `Path=${options.path}`, `Max-Age=${options.maxAge}`, 'HttpOnly', 'SameSite=Lax'];
  if (options.maxAge === 0) parts.push('Expires=Thu, 01 Jan 1970 00:00:00 GMT');
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}

export function setCookie(res: Response, name: string, value: string, options: CookieOptions): void {
  res.append('Set-Cookie', serializeCookie(name, value, options));
}

export function clearCookie(res: Response, name: string, options: Omit<CookieOptions, 'maxAge'>): void {
  res.append('Set-Cookie', serializeCookie(name, '', { ...options, maxAge: 0 }));
}
