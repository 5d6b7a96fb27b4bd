import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBitbucketFake, type BitbucketFake } from '../../test/fakes/bitbucket-api.ts';
import { startGithubFake, type GithubFake } from '../../test/fakes/github-api.ts';
import { startApiHarness, type ApiHarness, type Browser } from '../../test/support/http.ts';
import { userTokens } from '../secrets/stored-credentials.ts';
import { sha256 } from './secrets.ts';
import { SESSION_COOKIE } from './session.ts';
import { STATE_COOKIE } from './oauth-state.ts';

/** Walks /login/github -> the fake's authorize page -> back with code and state; `last` is Harrier's answer to the callback. */
async function signInWithGithub(browser: Browser) {
  const hops = await browser.follow('/login/github', {}, 2);
  return { hops, last: hops[2] };
}

describe.each(['sqlite', 'postgres'] as const)('GitHub sign-in on %s', (flavour) => {
  let github: GithubFake;
  let harness: ApiHarness;

  beforeAll(async () => {
    github = await startGithubFake({ fixtureRepos: false, user: { id: 4242, login: 'octo', email: 'octo@example.com' } });
    github.addRepo({ slug: 'octo/app', private: true, permissions: { admin: true, push: true, pull: true } });
    github.addRepo({ slug: 'octo/docs', visibility: 'public', permissions: { admin: false, push: false, pull: true } });
    harness = await startApiHarness({ flavour, github });
  });
  afterAll(async () => {
    await harness?.close();
    await github?.close();
  });

  it('redirects to the provider, comes back with code and state, stores the user, repositories and a hashed session, and sets an HttpOnly session cookie', async () => {
    const browser = harness.browser();
    const { hops, last } = await signInWithGithub(browser);

    const start = hops[0];
    expect(start.status).toBe(302);
    const authorize = new URL(start.headers.get('location')!);
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${github.url}/login/oauth/authorize`);
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${harness.url}/login/github`);
    expect(authorize.searchParams.get('client_id')).toBe(github.clientId);
    const state = authorize.searchParams.get('state')!;
    expect(state.length).toBeGreaterThanOrEqual(32);
    const stateCookie = start.headers.getSetCookie().find((c) => c.startsWith(`${STATE_COOKIE}=`))!;
    expect(stateCookie).toMatch(/HttpOnly/);
    expect(stateCookie).toMatch(/Path=\/login\/github/);

    expect(last.status).toBe(303);
    expect(last.headers.get('location')).toBe('/');
    const sessionCookie = last.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`))!;
    expect(sessionCookie).toMatch(/HttpOnly/);
    expect(sessionCookie).toMatch(/SameSite=Lax/);
    expect(sessionCookie).toMatch(/Path=\//);
    expect(sessionCookie).not.toMatch(/Secure/);
    expect(browser.cookies.has(STATE_COOKIE)).toBe(false);

    const user = await harness.db.user.findUniqueOrThrow({ where: { provider_providerId: { provider: 'github', providerId: '4242' } } });
    expect(user).toMatchObject({ login: 'octo', email: 'octo@example.com', scmRefused: 0 });
    // The provider token is stored sealed for this row only.
    expect(user.token).toMatch(/^v1:/);
    expect(user.token).not.toContain(github.state.token);
    expect(userTokens(harness.ctx.config, user).token).toBe(github.state.token);
    expect(user.syncedAt).toBeGreaterThan(0);
    // Only the digest of the cookie value is stored.
    const value = browser.cookies.get(SESSION_COOKIE)!;
    const session = await harness.db.session.findUniqueOrThrow({ where: { id: sha256(decodeURIComponent(value)) } });
    expect(session.userId).toBe(user.id);
    expect(session.expiresAt - harness.ctx.now()).toBeGreaterThan(29 * 24 * 3600);
    const repos = await harness.db.repo.findMany({ where: { provider: 'github' }, orderBy: { slug: 'asc' } });
    expect(repos.map((r) => [r.slug, r.private])).toEqual([
      ['octo/app', true],
      ['octo/docs', false],
    ]);
    const perms = await harness.db.perm.findMany({ where: { userId: user.id }, include: { repo: true } });
    expect(perms.map((p) => [p.repo.slug, p.admin, p.write, p.read]).sort()).toEqual([
      ['octo/app', true, true, true],
      ['octo/docs', false, false, true],
    ]);

    const me = await browser.json('/api/user');
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ login: 'octo', email: 'octo@example.com', provider: 'github', active: true });
  });

  it('refuses a callback whose state differs from the one this browser started with (400), and creates no session', async () => {
    const browser = harness.browser();
    const start = await browser.fetch('/login/github');
    const atProvider = await fetch(start.headers.get('location')!, { redirect: 'manual' });
    const back = new URL(atProvider.headers.get('location')!);
    back.searchParams.set('state', 'forged-state');
    const sessions = await harness.db.session.count();

    const res = await browser.json(back.pathname + back.search);
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/state sent back does not match/);
    expect(res.body.message).toMatch(/start again at .*\/login\/github/);
    expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);
    expect(await harness.db.session.count()).toBe(sessions);
  });

  it('refuses a callback arriving in a browser that never started the sign-in (no state cookie)', async () => {
    const starter = harness.browser();
    const start = await starter.fetch('/login/github');
    const atProvider = await fetch(start.headers.get('location')!, { redirect: 'manual' });
    const back = new URL(atProvider.headers.get('location')!);

    const victim = harness.browser();
    const res = await victim.json(back.pathname + back.search);
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/no sign-in state/);
    expect(victim.cookies.has(SESSION_COOKIE)).toBe(false);
  });

  it('sends a user who declined on the provider back to / with the error', async () => {
    const res = await harness.browser().fetch('/login/github?error=access_denied&error_description=The+user+has+denied');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/?error=access_denied');
  });

  it('answers GET /logout with 405 and keeps the session: only POST signs out', async () => {
    const browser = harness.browser();
    await signInWithGithub(browser);
    const res = await browser.json('/logout');
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(res.body.message).toMatch(/sign out with POST \/logout/);
    expect((await browser.json('/api/user')).status).toBe(200);
  });

  it('ends the session on POST /logout, after which the old cookie no longer signs in', async () => {
    const browser = harness.browser();
    await signInWithGithub(browser);
    const cookie = browser.cookies.get(SESSION_COOKIE)!;
    const out = await browser.fetch('/logout', { method: 'POST', headers: { Origin: harness.url } });
    expect(out.status).toBe(204);
    expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);

    const replay = await fetch(`${harness.url}/api/user`, { headers: { Cookie: `${SESSION_COOKIE}=${cookie}` } });
    expect(replay.status).toBe(401);
  });
});

describe('sign-in edge cases', () => {
  let github: GithubFake;
  let harness: ApiHarness;
  afterEach(async () => {
    await harness?.close();
    await github?.close();
  });

  it('answers 503 naming HARRIER_GITHUB_CLIENT_ID and HARRIER_GITHUB_CLIENT_SECRET when GitHub sign-in is not configured', async () => {
    harness = await startApiHarness();
    const res = await harness.browser().json('/login/github');
    expect(res.status).toBe(503);
    expect(res.body.message).toContain('HARRIER_GITHUB_CLIENT_ID');
    expect(res.body.message).toContain('HARRIER_GITHUB_CLIENT_SECRET');
    expect(res.body.message).toContain(`${harness.url}/login/github`);
    const bitbucket = await harness.browser().json('/login/bitbucket');
    expect(bitbucket.status).toBe(503);
    expect(bitbucket.body.message).toContain('HARRIER_BITBUCKET_CLIENT_ID');
  });

  it('answers 404 for a provider Harrier does not know', async () => {
    harness = await startApiHarness();
    const res = await harness.browser().json('/login/gitlab');
    expect(res.status).toBe(404);
    expect(res.body.message).toMatch(/\/login\/github or \/login\/bitbucket/);
  });

  it('marks the session cookie Secure when HARRIER_HOST is https', async () => {
    github = await startGithubFake({ fixtureRepos: false });
    harness = await startApiHarness({ github, env: { HARRIER_HOST: 'https://ci.example.test' } });
    const browser = harness.browser();
    const start = await browser.fetch('/login/github');
    expect(start.headers.getSetCookie()[0]).toMatch(/; Secure/);
    const atProvider = await fetch(start.headers.get('location')!, { redirect: 'manual' });
    // The provider sends the browser to https://ci.example.test; this test server stands at that address.
    const back = new URL(atProvider.headers.get('location')!);
    expect(back.origin).toBe('https://ci.example.test');
    const last = await browser.fetch(back.pathname + back.search);
    expect(last.status).toBe(303);
    expect(last.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`))).toMatch(/; Secure/);
  });

  it('makes nobody an administrator for arriving first', async () => {
    github = await startGithubFake({ fixtureRepos: false, user: { id: 1, login: 'first' } });
    harness = await startApiHarness({ github });
    await signInWithGithub(harness.browser());
    github.state.user.id = 2;
    github.state.user.login = 'second';
    await signInWithGithub(harness.browser());
    const users = await harness.db.user.findMany({ orderBy: { id: 'asc' } });
    expect(users.map((u) => [u.login, u.admin])).toEqual([
      ['first', false],
      ['second', false],
    ]);
  });

  it("on harrier up's localhost defaults (HARRIER_FIRST_USER_ADMIN) the first account becomes the administrator, later ones do not", async () => {
    github = await startGithubFake({ fixtureRepos: false, user: { id: 1, login: 'first' } });
    harness = await startApiHarness({ github, env: { HARRIER_FIRST_USER_ADMIN: 'true' } });
    await signInWithGithub(harness.browser());
    github.state.user.id = 2;
    github.state.user.login = 'second';
    await signInWithGithub(harness.browser());
    const users = await harness.db.user.findMany({ orderBy: { id: 'asc' } });
    expect(users.map((u) => [u.login, u.admin])).toEqual([
      ['first', true],
      ['second', false],
    ]);
  });

  it('answers 401 with the provider\'s reason when the code is refused', async () => {
    github = await startGithubFake({ fixtureRepos: false });
    harness = await startApiHarness({ github });
    const browser = harness.browser();
    const start = await browser.fetch('/login/github');
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    const res = await browser.json(`/login/github?code=not-a-code&state=${encodeURIComponent(state)}`);
    expect(res.status).toBe(401);
    expect(res.body.message).toMatch(/GitHub sign-in failed: .*incorrect or expired/);
  });
});

describe.each(['sqlite', 'postgres'] as const)('Bitbucket sign-in on %s', (flavour) => {
  let bitbucket: BitbucketFake;
  let harness: ApiHarness;

  beforeAll(async () => {
    bitbucket = await startBitbucketFake({ fixtureRepos: false, user: { nickname: 'brad', email: 'brad@example.com' } });
    bitbucket.addRepo({ slug: 'brad/app', private: true, permission: 'admin' });
    bitbucket.addRepo({ slug: 'team/lib', private: true, permission: 'write' });
    harness = await startApiHarness({ flavour, bitbucket });
  });
  afterAll(async () => {
    await harness?.close();
    await bitbucket?.close();
  });

  it('signs in through /login/bitbucket, stores the expiring token with its refresh token, and lists the workspace repositories', async () => {
    const browser = harness.browser();
    const start = await browser.fetch('/login/bitbucket');
    const authorize = new URL(start.headers.get('location')!);
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${bitbucket.url}/site/oauth2/authorize`);
    await browser.signIn('bitbucket');

    const user = await harness.db.user.findFirstOrThrow({ where: { provider: 'bitbucket' } });
    expect(user).toMatchObject({ login: 'brad', providerId: bitbucket.state.user.uuid });
    expect(user.token).toMatch(/^v1:/);
    expect(user.refresh).toMatch(/^v1:/);
    expect(`${user.token} ${user.refresh}`).not.toContain(bitbucket.state.token);
    expect(`${user.token} ${user.refresh}`).not.toContain(bitbucket.state.refreshToken);
    expect(userTokens(harness.ctx.config, user)).toEqual({ token: bitbucket.state.token, refresh: bitbucket.state.refreshToken });
    expect(user.expiry).toBeGreaterThan(harness.ctx.now());

    const me = await browser.json('/api/user');
    expect(me.body).toMatchObject({ login: 'brad', provider: 'bitbucket' });
    const repos = await browser.json('/api/user/repos');
    expect(repos.body.map((r: any) => [r.slug, r.scm, r.permissions.admin, r.permissions.write])).toEqual([
      ['brad/app', 'bitbucket', true, true],
      ['team/lib', 'bitbucket', false, true],
    ]);
  });

  it('refreshes the Bitbucket token once it has expired before calling Bitbucket again', async () => {
    const browser = harness.browser();
    await browser.signIn('bitbucket');
    const oldToken = bitbucket.state.token;
    bitbucket.state.token = 'rotated-by-bitbucket';
    harness.advance(3 * 3600);
    const repos = await browser.json('/api/user/repos?latest=true');
    expect(repos.status).toBe(200);
    expect(repos.body).toHaveLength(2);
    const user = await harness.db.user.findFirstOrThrow({ where: { provider: 'bitbucket' } });
    expect(userTokens(harness.ctx.config, user).token).toBe('rotated-by-bitbucket');
    expect(userTokens(harness.ctx.config, user).token).not.toBe(oldToken);
    expect(user.token).not.toContain('rotated-by-bitbucket');
    await bitbucket.waitForRequest((r) => r.path === '/site/oauth2/access_token' && r.body.includes('grant_type=refresh_token'));
  });
});
