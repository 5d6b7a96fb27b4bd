// Who may sign in (HARRIER_USER_FILTER, blocked accounts) and who is an administrator
// (HARRIER_ADMINS), through the OAuth flow against the GitHub and Bitbucket stand-ins.
import { afterEach, describe, expect, it } from 'vitest';
import { startBitbucketFake, type BitbucketFake } from '../../test/fakes/bitbucket-api.ts';
import { startGithubFake, type GithubFake } from '../../test/fakes/github-api.ts';
import { startApiHarness, type ApiHarness, type Browser } from '../../test/support/http.ts';
import { ConfigError, loadServerConfig } from '../config.ts';
import { SESSION_COOKIE } from './session.ts';

/** The OAuth flow; the answer to Harrier's callback. */
async function signIn(browser: Browser, provider: 'github' | 'bitbucket'): Promise<Response> {
  const hops = await browser.follow(`/login/${provider}`, {}, 2);
  return hops[2];
}

describe('HARRIER_USER_FILTER with GitHub', () => {
  let github: GithubFake;
  let harness: ApiHarness;
  afterEach(async () => {
    await harness?.close();
    await github?.close();
  });

  async function start(env: Record<string, string>, user: { id: number; login: string }, orgs: string[] = []) {
    github = await startGithubFake({ fixtureRepos: false, user, orgs });
    harness = await startApiHarness({ github, env });
  }

  it('lets in a user whose login it lists, whatever the case', async () => {
    await start({ HARRIER_USER_FILTER: 'someone, Octo ' }, { id: 1, login: 'octo' });
    const browser = harness.browser();
    const back = await signIn(browser, 'github');
    expect(back.headers.get('location')).toBe('/');
    expect((await browser.json('/api/user')).body.login).toBe('octo');
  });

  it('lets in a member of an organisation it lists, asked of GitHub at sign-in', async () => {
    await start({ HARRIER_USER_FILTER: 'acme' }, { id: 2, login: 'member' }, ['other', 'ACME']);
    const browser = harness.browser();
    expect((await signIn(browser, 'github')).headers.get('location')).toBe('/');
    expect((await browser.json('/api/user')).status).toBe(200);
    await github.waitForRequest((r) => r.path.endsWith('/user/orgs'));
  });

  it('refuses anyone else: no session, no user row, no stored token, and the start page says why', async () => {
    await start({ HARRIER_USER_FILTER: 'acme,alice' }, { id: 3, login: 'mallory' }, ['evil-corp']);
    const browser = harness.browser();
    const back = await signIn(browser, 'github');
    expect(back.status).toBe(303);
    expect(back.headers.get('location')).toBe('/?error=not_allowed&login=mallory');
    expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);
    expect(await harness.db.user.count()).toBe(0);
    expect((await browser.json('/api/user')).status).toBe(401);
  });

  it('applies at every sign-in: leaving the organisation locks the account out at the next one', async () => {
    await start({ HARRIER_USER_FILTER: 'acme' }, { id: 4, login: 'leaver' }, ['acme']);
    expect((await signIn(harness.browser(), 'github')).headers.get('location')).toBe('/');
    github.state.orgs = [];
    expect((await signIn(harness.browser(), 'github')).headers.get('location')).toBe('/?error=not_allowed&login=leaver');
  });

  it('always lets in the administrators HARRIER_ADMINS names', async () => {
    await start({ HARRIER_USER_FILTER: 'acme', HARRIER_ADMINS: 'boss' }, { id: 5, login: 'boss' });
    expect((await signIn(harness.browser(), 'github')).headers.get('location')).toBe('/');
  });

  it('lets anyone in when empty', async () => {
    await start({}, { id: 6, login: 'anyone' });
    expect((await signIn(harness.browser(), 'github')).headers.get('location')).toBe('/');
    const orgCalls = github.state.requests.items.filter((r) => r.path.endsWith('/user/orgs'));
    expect(orgCalls).toHaveLength(0);
  });
});

describe('HARRIER_USER_FILTER with Bitbucket workspaces', () => {
  let bitbucket: BitbucketFake;
  let harness: ApiHarness;
  afterEach(async () => {
    await harness?.close();
    await bitbucket?.close();
  });

  it('lets in a member of a listed workspace and refuses one who is not', async () => {
    bitbucket = await startBitbucketFake({ fixtureRepos: false, user: { nickname: 'brad' }, workspaces: ['team-harrier'] });
    harness = await startApiHarness({ bitbucket, env: { HARRIER_USER_FILTER: 'team-harrier' } });
    expect((await signIn(harness.browser(), 'bitbucket')).headers.get('location')).toBe('/');
    bitbucket.state.workspaces = ['elsewhere'];
    expect((await signIn(harness.browser(), 'bitbucket')).headers.get('location')).toBe('/?error=not_allowed&login=brad');
  });
});

describe('HARRIER_ADMINS', () => {
  let github: GithubFake;
  let harness: ApiHarness;
  afterEach(async () => {
    await harness?.close();
    await github?.close();
  });

  it('makes the logins it names administrators at sign-in, bare or as provider:login, and nobody else', async () => {
    github = await startGithubFake({ fixtureRepos: false, user: { id: 10, login: 'Alice' } });
    harness = await startApiHarness({ github, env: { HARRIER_ADMINS: 'alice, github:bob, bitbucket:carol' } });
    for (const [id, login] of [
      [10, 'Alice'],
      [11, 'bob'],
      [12, 'carol'],
      [13, 'dave'],
    ] as const) {
      github.state.user.id = id;
      github.state.user.login = login;
      await signIn(harness.browser(), 'github');
    }
    const users = await harness.db.user.findMany({ orderBy: { id: 'asc' } });
    expect(users.map((u) => [u.login, u.admin])).toEqual([
      ['Alice', true],
      ['bob', true],
      // carol is named as a Bitbucket account; this is GitHub's carol.
      ['carol', false],
      ['dave', false],
    ]);
  });
});

describe('HARRIER_ADMINS entries', () => {
  it('refuses an entry naming a provider Harrier does not know, saying the form', () => {
    expect(() => loadServerConfig({ HARRIER_ADMINS: 'gitlab:eve' })).toThrow(ConfigError);
    expect(() => loadServerConfig({ HARRIER_ADMINS: 'gitlab:eve' })).toThrow(/"github:<login>" or "bitbucket:<login>"/);
  });
});

describe('HARRIER_FIRST_USER_ADMIN', () => {
  it("is refused on any host but localhost: it is for harrier up's embedded defaults only", () => {
    expect(() => loadServerConfig({ HARRIER_FIRST_USER_ADMIN: 'true', HARRIER_HOST: 'https://ci.example.com' })).toThrow(/only for harrier up's embedded defaults on localhost/);
    expect(loadServerConfig({ HARRIER_FIRST_USER_ADMIN: 'true', HARRIER_HOST: 'http://127.0.0.1:8080' }).firstUserAdmin).toBe(true);
    expect(loadServerConfig({ HARRIER_FIRST_USER_ADMIN: 'true', HARRIER_HOST: 'http://localhost:8080' }).firstUserAdmin).toBe(true);
    expect(() => loadServerConfig({ HARRIER_FIRST_USER_ADMIN: 'yes' })).toThrow(/must be true or false/);
  });
});

describe('a blocked account', () => {
  let github: GithubFake;
  let harness: ApiHarness;
  afterEach(async () => {
    await harness?.close();
    await github?.close();
  });

  it('cannot sign in; the start page says an administrator blocked it, and the stored token is not replaced', async () => {
    github = await startGithubFake({ fixtureRepos: false, user: { id: 20, login: 'blocked' } });
    harness = await startApiHarness({ github });
    await signIn(harness.browser(), 'github');
    const before = await harness.db.user.update({ where: { provider_login: { provider: 'github', login: 'blocked' } }, data: { active: false } });
    github.state.token = 'a-new-grant';
    const browser = harness.browser();
    const back = await signIn(browser, 'github');
    expect(back.headers.get('location')).toBe('/?error=blocked&login=blocked');
    expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);
    const after = await harness.db.user.findUniqueOrThrow({ where: { id: before.id } });
    expect(after.token).toBe(before.token);
    expect(after.lastLogin).toBe(before.lastLogin);
  });
});
