// Every answer carries the Content-Security-Policy and the framing, sniffing and referrer headers.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiHarness, type ApiHarness } from '../../test/support/http.ts';
import { packageRoot } from '../db/flavour.ts';
import { contentSecurityPolicy } from './security-headers.ts';

describe('security headers', () => {
  let harness: ApiHarness;
  beforeAll(async () => {
    harness = await startApiHarness({ env: { HARRIER_GITHUB_URL: 'https://ghe.example.com' } });
  });
  afterAll(async () => {
    await harness?.close();
  });

  it.each([
    ['the web UI', '/'],
    ['an app path', '/octo/app/1'],
    ['a JSON answer', '/api/system'],
    ['an error', '/api/nothing-here'],
    ['the health check', '/healthz'],
    ['a 401', '/api/user'],
    ['the sign-in', '/login/github'],
  ])('are on %s (%s)', async (_what, p) => {
    const res = await fetch(`${harness.url}${p}`, { redirect: 'manual' });
    const csp = res.headers.get('content-security-policy') ?? '';
    const directives = Object.fromEntries(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
    expect(directives['default-src']).toEqual(["'self'"]);
    expect(directives['script-src']).toEqual(["'self'"]);
    expect(directives['style-src']).toEqual(["'self'"]);
    expect(directives['connect-src']).toEqual(["'self'"]);
    expect(directives['frame-ancestors']).toEqual(["'none'"]);
    expect(directives['base-uri']).toEqual(["'none'"]);
    expect(directives['form-action']).toEqual(["'self'"]);
    expect(directives['img-src']).toEqual(expect.arrayContaining(["'self'", 'data:', 'https://avatars.githubusercontent.com', 'https://ghe.example.com']));
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*(?!\.)/);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('same-origin');
  });

  it('needs no inline script or style in the built web UI', () => {
    const index = path.join(packageRoot(), 'web/dist/index.html');
    const html = fs.readFileSync(index, 'utf8');
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/\bsrc="\/assets\//);
      expect(body.trim()).toBe('');
    }
    expect(html).not.toMatch(/<style\b|\sstyle="|\son[a-z]+="/i);
  });

  it('lets avatars load from a GitHub Enterprise host and its avatars subdomain', () => {
    const csp = contentSecurityPolicy({
      github: { url: 'https://git.corp.example', apiUrl: '', clientId: '', clientSecret: '' },
      bitbucket: { url: 'https://bitbucket.org', apiUrl: '', clientId: '', clientSecret: '' },
    });
    expect(csp).toContain('https://git.corp.example');
    expect(csp).toContain('https://avatars.git.corp.example');
  });
});
