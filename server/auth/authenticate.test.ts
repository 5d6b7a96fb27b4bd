import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGithubFake, type GithubFake } from '../../test/fakes/github-api.ts';
import { bearerJson, startApiHarness, type ApiHarness, type Browser } from '../../test/support/http.ts';
import { sha256 } from './secrets.ts';
import { SESSION_COOKIE } from './session.ts';

describe('personal tokens, sessions and CSRF protection', () => {
  let github: GithubFake;
  let harness: ApiHarness;
  let browser: Browser;

  beforeAll(async () => {
    github = await startGithubFake({ fixtureRepos: false, user: { id: 77, login: 'tok' } });
    harness = await startApiHarness({ github });
    browser = harness.browser();
    await browser.signIn('github');
  });
  afterAll(async () => {
    await harness?.close();
    await github?.close();
  });

  it('POST /api/user/token returns a token usable as Authorization: Bearer, and stores only its sha256', async () => {
    const created = await browser.json('/api/user/token', { method: 'POST', headers: { Origin: harness.url } });
    expect(created.status).toBe(200);
    const token: string = created.body.token;
    expect(token).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(created.body.login).toBe('tok');
    const row = await harness.db.apiToken.findUnique({ where: { id: sha256(token) } });
    expect(row).not.toBeNull();
    expect(await harness.db.apiToken.count({ where: { id: token } })).toBe(0);

    const me = await bearerJson(harness.url, token, '/api/user');
    expect(me.status).toBe(200);
    expect(me.body.login).toBe('tok');
  });

  it('?rotate=true revokes the older tokens; a revoked token answers 401 saying how to get a new one', async () => {
    const first = (await bearerJson(harness.url, await newToken(), '/api/user/token', { method: 'POST' })).body.token as string;
    const rotated = await bearerJson(harness.url, first, '/api/user/token?rotate=true', { method: 'POST' });
    expect(rotated.status).toBe(200);
    const old = await bearerJson(harness.url, first, '/api/user');
    expect(old.status).toBe(401);
    expect(old.body.message).toMatch(/not valid .*POST \/api\/user\/token/);
    expect((await bearerJson(harness.url, rotated.body.token, '/api/user')).status).toBe(200);
  });

  it('answers 401 for an Authorization header that is not a Bearer token', async () => {
    const res = await fetch(`${harness.url}/api/user`, { headers: { Authorization: 'Basic dXNlcjpwYXNz' } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { message: string }).message).toMatch(/Bearer <token>/);
  });

  it('answers 401 with a JSON message when nobody is signed in', async () => {
    const res = await harness.browser().json('/api/user');
    expect(res.status).toBe(401);
    expect(res.body.message).toMatch(/sign in first/);
  });

  it('refuses a cookie-authenticated POST without an Origin header with 403 saying why', async () => {
    const res = await browser.json('/api/user/token', { method: 'POST' });
    expect(res.status).toBe(403);
    expect(res.body.message).toMatch(/cross-site/);
    expect(res.body.message).toMatch(/no Origin header/);
    expect(res.body.message).toMatch(/X-CSRF-Token/);
  });

  it('refuses a cookie-authenticated POST from another origin', async () => {
    const res = await browser.json('/api/user/token', { method: 'POST', headers: { Origin: 'https://evil.example' } });
    expect(res.status).toBe(403);
    expect(res.body.message).toMatch(/Origin https:\/\/evil.example is not/);
  });

  it('accepts a cookie-authenticated POST whose Origin is HARRIER_HOST', async () => {
    const res = await browser.json('/api/user/token', { method: 'POST', headers: { Origin: harness.url } });
    expect(res.status).toBe(200);
  });

  it('accepts a cookie-authenticated POST carrying the session CSRF token from GET /api/user (header) or GET /api/user/csrf', async () => {
    const me = await browser.json('/api/user');
    const fromHeader = me.headers.get('x-csrf-token')!;
    expect(fromHeader).toBeTruthy();
    const viaHeader = await browser.json('/api/user/token', { method: 'POST', headers: { 'X-CSRF-Token': fromHeader } });
    expect(viaHeader.status).toBe(200);

    const csrf = await browser.json('/api/user/csrf');
    expect(csrf.body.token).toBe(fromHeader);
    const wrong = await browser.json('/api/user/token', { method: 'POST', headers: { 'X-CSRF-Token': 'not-the-token' } });
    expect(wrong.status).toBe(403);
  });

  it('accepts a Bearer-authenticated POST without Origin or CSRF token', async () => {
    const token = await newToken();
    const res = await bearerJson(harness.url, token, '/api/user/token', { method: 'POST' });
    expect(res.status).toBe(200);
  });

  it('treats an expired session as signed out and removes it', async () => {
    const other = harness.browser();
    await other.signIn('github');
    const id = sha256(decodeURIComponent(other.cookies.get(SESSION_COOKIE)!));
    await harness.db.session.update({ where: { id }, data: { expiresAt: harness.ctx.now() - 1 } });
    expect((await other.json('/api/user')).status).toBe(401);
    expect(await harness.db.session.findUnique({ where: { id } })).toBeNull();
  });

  it('refuses sessions and tokens of a deactivated user', async () => {
    const other = harness.browser();
    await other.signIn('github');
    const token = await newToken();
    await harness.db.user.updateMany({ where: { login: 'tok' }, data: { active: false } });
    try {
      expect((await other.json('/api/user')).status).toBe(401);
      expect((await bearerJson(harness.url, token, '/api/user')).status).toBe(401);
    } finally {
      await harness.db.user.updateMany({ where: { login: 'tok' }, data: { active: true } });
    }
  });

  async function newToken(): Promise<string> {
    const res = await browser.json('/api/user/token', { method: 'POST', headers: { Origin: harness.url } });
    return res.body.token;
  }
});
