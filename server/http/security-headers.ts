// Headers on every answer that keep the browser from running, framing or leaking what it
// should not. The web UI has no inline scripts or styles (React sets element styles
// through the DOM, which style-src does not govern), talks only to its own origin (REST
// and event streams), and shows avatars from the providers: the policy allows that and
// nothing more.
import type { RequestHandler } from 'express';
import { ProviderRegistry, type ProviderSettings } from '../providers/registry.ts';

/** Avatars of accounts with no picture of their own at the provider. */
const GRAVATAR = 'https://secure.gravatar.com';

/** The policy for the providers in `providers` (or those the settings configure): each names where it serves avatars. */
export function contentSecurityPolicy(providers: ProviderRegistry | ProviderSettings): string {
  const registry = providers instanceof ProviderRegistry ? providers : ProviderRegistry.fromSettings(providers);
  const images = new Set(["'self'", 'data:', GRAVATAR, ...registry.imageSources()]);
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

export function securityHeaders(providers: ProviderRegistry): RequestHandler {
  const csp = contentSecurityPolicy(providers);
  return (_req, res, next) => {
    res.setHeader('Content-Security-Policy', csp);
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    // Build pages link to the provider; the provider need not learn which Harrier page that was.
    res.setHeader('Referrer-Policy', 'same-origin');
    next();
  };
}
