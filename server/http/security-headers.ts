// Headers on every answer that keep the browser from running, framing or leaking what it
// should not. The web UI has no inline scripts or styles (React sets element styles
// through the DOM, which style-src does not govern), talks only to its own origin (REST
// and event streams), and shows avatars from the providers: the policy allows that and
// nothing more.
import type { RequestHandler } from 'express';
import type { ServerConfig } from '../config.ts';

/** Where the providers serve avatars: github.com's and Bitbucket's CDNs, Gravatar, and the configured hosts. */
const AVATAR_HOSTS = [
  'https://avatars.githubusercontent.com',
  'https://secure.gravatar.com',
  'https://bitbucket.org',
  'https://*.atl-paas.net',
];

export function contentSecurityPolicy(config: Pick<ServerConfig, 'github' | 'bitbucket'>): string {
  const images = new Set(["'self'", 'data:', ...AVATAR_HOSTS]);
  for (const p of [config.github, config.bitbucket]) {
    const url = new URL(p.url);
    images.add(url.origin);
    // GitHub Enterprise Server with subdomain isolation serves avatars from avatars.<host>.
    if (p === config.github) images.add(`${url.protocol}//avatars.${url.host}`);
  }
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src ${[...images].join(' ')}`,
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    // Sign-in starts with a link, not a form, so forms only ever post to Harrier itself.
    "form-action 'self'",
  ].join('; ');
}

export function securityHeaders(config: Pick<ServerConfig, 'github' | 'bitbucket'>): RequestHandler {
  const csp = contentSecurityPolicy(config);
  return (_req, res, next) => {
    res.setHeader('Content-Security-Policy', csp);
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    // Build pages link to the provider; the provider need not learn which Harrier page that was.
    res.setHeader('Referrer-Policy', 'same-origin');
    next();
  };
}
