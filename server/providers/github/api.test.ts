import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGithubFake, type GithubFake } from '../../../test/fakes/github-api.ts';
import { LocalGitRepo } from '../../../test/fakes/local-git-repo.ts';
import { GithubScm } from './api.ts';
import { ScmError, type CommitState } from '../scm.ts';

let fake: GithubFake;
let scm: GithubScm;
let git: LocalGitRepo;
let first: string;
let second: string;
const callback = 'http://harrier.test/login/github';

beforeAll(async () => {
  fake = await startGithubFake();
  scm = new GithubScm({ clientId: fake.clientId, clientSecret: fake.clientSecret, url: fake.url, apiUrl: fake.apiUrl });
  git = new LocalGitRepo();
  first = git.commit({ '.drone.yml': 'kind: pipeline\nname: default\n', 'docs/ünïcode.md': 'grüße\n' }, 'first');
  second = git.commit({ '.drone.yml': 'kind: pipeline\nname: second\n' }, 'second');
  fake.addRepo({ slug: 'mona/app', gitDir: git.dir });
});

afterAll(async () => {
  await fake.close();
  git.remove();
});

async function expectScmError(p: Promise<unknown>, status: number, text: RegExp): Promise<ScmError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ScmError);
  const e = err as ScmError;
  expect(e.status).toBe(status);
  expect(e.provider).toBe('github');
  expect(e.message).toMatch(text);
  return e;
}

describe('GithubScm OAuth', () => {
  it('builds the authorize URL on the web host with the scopes Harrier needs', () => {
    const url = new URL(scm.authorizeUrl('st4te', callback));
    expect(`${url.origin}${url.pathname}`).toBe(`${fake.url}/login/oauth/authorize`);
    expect(url.searchParams.get('client_id')).toBe(fake.clientId);
    expect(url.searchParams.get('redirect_uri')).toBe(callback);
    expect(url.searchParams.get('scope')).toBe('repo,repo:status,user:email,read:org');
    expect(url.searchParams.get('state')).toBe('st4te');
  });

  it('is configured only with both a client id and a secret', () => {
    expect(scm.configured).toBe(true);
    expect(new GithubScm({ clientId: 'x', clientSecret: '', url: fake.url, apiUrl: fake.apiUrl }).configured).toBe(false);
  });

  it('exchanges the code the authorize redirect carries for the user token', async () => {
    const res = await fetch(scm.authorizeUrl('abc', callback), { redirect: 'manual' });
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get('location')!);
    expect(back.searchParams.get('state')).toBe('abc');
    const token = await scm.exchange(back.searchParams.get('code')!, callback);
    expect(token).toEqual({ access: fake.state.token, refresh: '', expires: 0 });
  });

  it('rejects a code GitHub does not know, although GitHub answers it with 200', async () => {
    await expectScmError(scm.exchange('not-a-code', callback), 401, /incorrect or expired/);
  });

  it('rejects a wrong client secret with GitHub’s explanation', async () => {
    const bad = new GithubScm({ clientId: fake.clientId, clientSecret: 'wrong', url: fake.url, apiUrl: fake.apiUrl });
    await expectScmError(bad.exchange('whatever', callback), 401, /client_id and\/or client_secret/);
  });

  it('refreshes an expiring token and reports when it expires', async () => {
    const expiring = await startGithubFake({ expiringTokens: true });
    try {
      const client = new GithubScm({ clientId: expiring.clientId, clientSecret: expiring.clientSecret, url: expiring.url, apiUrl: expiring.apiUrl });
      const before = Math.floor(Date.now() / 1000);
      const token = await client.refresh(expiring.state.refreshToken);
      const after = Math.ceil(Date.now() / 1000);
      expect(token.access).toBe(expiring.state.token);
      expect(token.refresh).toBe(expiring.state.refreshToken);
      // expires_in 28800, counted from the answer.
      expect(token.expires).toBeGreaterThanOrEqual(before + 28800);
      expect(token.expires).toBeLessThanOrEqual(after + 28800);
    } finally {
      await expiring.close();
    }
  });
});

describe('GithubScm orgs', () => {
  it('lists the logins of the organisations the user belongs to', async () => {
    fake.state.orgs = ['acme', 'friends-of-harrier'];
    try {
      expect(await scm.orgs(fake.state.token)).toEqual(['acme', 'friends-of-harrier']);
    } finally {
      fake.state.orgs = [];
    }
  });

  it('lists none for a user in no organisation', async () => {
    expect(await scm.orgs(fake.state.token)).toEqual([]);
  });

  it('answers a refused token with a 401 ScmError', async () => {
    await expectScmError(scm.orgs('wrong'), 401, /Bad credentials/);
  });
});

describe('GithubScm orgAdmin', () => {
  it('is true for an organisation where the membership role is admin, false for a member and a stranger', async () => {
    fake.state.orgs = ['acme', 'friends-of-harrier'];
    fake.state.orgAdmins = ['acme'];
    try {
      expect(await scm.orgAdmin(fake.state.token, 'acme')).toBe(true);
      expect(await scm.orgAdmin(fake.state.token, 'ACME')).toBe(true);
      expect(await scm.orgAdmin(fake.state.token, 'friends-of-harrier')).toBe(false);
      expect(await scm.orgAdmin(fake.state.token, 'elsewhere')).toBe(false);
      expect(fake.state.requests.items.some((r) => r.path.endsWith('/user/memberships/orgs/acme'))).toBe(true);
    } finally {
      fake.state.orgs = [];
      fake.state.orgAdmins = [];
    }
  });

  it('answers a refused token with a 401 ScmError', async () => {
    await expectScmError(scm.orgAdmin('wrong', 'acme'), 401, /Bad credentials/);
  });
});

describe('GithubScm user', () => {
  it('reads the signed-in user', async () => {
    const user = await scm.user(fake.state.token);
    expect(user).toEqual({ id: '1', login: 'octocat', email: 'octocat@github.com', avatar: 'https://github.com/images/error/octocat_happy.gif' });
  });

  it('falls back to the primary address of /user/emails when the profile email is private', async () => {
    const privateFake = await startGithubFake({ user: { email: null, primaryEmail: 'hidden@example.com' } });
    try {
      const client = new GithubScm({ clientId: 'a', clientSecret: 'b', url: privateFake.url, apiUrl: privateFake.apiUrl });
      expect((await client.user(privateFake.state.token)).email).toBe('hidden@example.com');
    } finally {
      await privateFake.close();
    }
  });

  it('turns a wrong token into a 401 ScmError carrying GitHub’s message', async () => {
    await expectScmError(scm.user('wrong-token'), 401, /Bad credentials/);
  });
});

describe('GithubScm repositories', () => {
  it('lists the fixture repository and the test’s own with their permissions', async () => {
    const repos = await scm.repos(fake.state.token);
    const app = repos.find((r) => r.slug === 'mona/app');
    expect(app).toMatchObject({
      namespace: 'mona',
      name: 'app',
      cloneUrl: `file://${git.dir}`,
      defaultBranch: 'main',
      private: true,
      visibility: 'private',
      perm: { read: true, write: true, admin: true },
    });
    expect(repos.find((r) => r.slug === 'octocat/Hello-World')).toMatchObject({ uid: '1296269', defaultBranch: 'master', cloneUrl: 'https://github.com/octocat/Hello-World.git' });
  });

  it('follows the Link header through every page', async () => {
    const paged = await startGithubFake({ maxPerPage: 2, fixtureRepos: false });
    try {
      for (let i = 0; i < 5; i++) paged.addRepo({ slug: `org/repo-${i}` });
      const client = new GithubScm({ clientId: 'a', clientSecret: 'b', url: paged.url, apiUrl: paged.apiUrl });
      const repos = await client.repos(paged.state.token);
      expect(repos.map((r) => r.slug)).toEqual(['org/repo-0', 'org/repo-1', 'org/repo-2', 'org/repo-3', 'org/repo-4']);
      expect(paged.state.requests.items.filter((r) => r.path === '/api/v3/user/repos')).toHaveLength(3);
    } finally {
      await paged.close();
    }
  });

  it('maps push to write and pull to read-only', async () => {
    fake.addRepo({ slug: 'mona/writer', permissions: { admin: false, push: true, pull: true } });
    fake.addRepo({ slug: 'mona/reader', permissions: { admin: false, push: false, pull: true } });
    expect((await scm.repo(fake.state.token, 'mona/writer')).perm).toEqual({ read: true, write: true, admin: false });
    expect((await scm.repo(fake.state.token, 'mona/reader')).perm).toEqual({ read: true, write: false, admin: false });
  });

  it('reports an internal repository’s visibility', async () => {
    fake.addRepo({ slug: 'corp/inner', visibility: 'internal', private: true });
    expect((await scm.repo(fake.state.token, 'corp/inner')).visibility).toBe('internal');
  });

  it('reads one repository by slug, keeping GitHub’s id as uid', async () => {
    const repo = await scm.repo(fake.state.token, 'mona/app');
    expect(repo.uid).toBe(String(fake.repo('mona/app')!.id));
    expect(repo.link).toBe(`${fake.url}/mona/app`);
  });

  it('answers a missing repository with a 404 ScmError', async () => {
    await expectScmError(scm.repo(fake.state.token, 'mona/nope'), 404, /Not Found/);
  });

  it('refuses a slug that is not owner/name before calling GitHub', async () => {
    await expectScmError(scm.repo(fake.state.token, 'just-a-name'), 400, /not a repository slug/);
  });
});

describe('GithubScm file', () => {
  it('reads a file at a commit from base64 content', async () => {
    expect(await scm.file(fake.state.token, 'mona/app', first, '.drone.yml')).toBe('kind: pipeline\nname: default\n');
    expect(await scm.file(fake.state.token, 'mona/app', second, '.drone.yml')).toBe('kind: pipeline\nname: second\n');
  });

  it('resolves an abbreviated hash to the full one, and refuses an unknown one with GitHub\'s 422', async () => {
    expect(await scm.commitHash(fake.state.token, 'mona/app', second.slice(0, 12))).toBe(second);
    await expect(scm.commitHash(fake.state.token, 'mona/app', 'a'.repeat(12))).rejects.toMatchObject({ status: 422, provider: 'github' });
  });

  it("finds a branch's head and a commit by hash with the message, link and author date; an email no account has leaves login and avatar empty", async () => {
    const info = git.info(second);
    const expected = { sha: second, message: info.message, link: `${fake.url}/mona/app/commit/${second}`, timestamp: Math.floor(Date.parse(info.timestamp) / 1000) };
    expect(await scm.findCommit(fake.state.token, 'mona/app', { branch: 'main' })).toEqual({ ...expected, author: { login: '', name: 'Mona Lisa', email: 'mona@example.com', avatar: '' } });
    const linked = { ...fake.state.user };
    fake.state.user.primaryEmail = 'mona@example.com';
    try {
      expect(await scm.findCommit(fake.state.token, 'mona/app', { sha: second.slice(0, 12) })).toEqual({
        ...expected,
        author: { login: linked.login, name: 'Mona Lisa', email: 'mona@example.com', avatar: linked.avatarUrl },
      });
    } finally {
      fake.state.user.primaryEmail = linked.primaryEmail;
    }
    expect(await scm.findCommit(fake.state.token, 'mona/app', { branch: 'no-such-branch' })).toBeNull();
    expect(await scm.findCommit(fake.state.token, 'mona/app', { sha: 'a'.repeat(40) })).toBeNull();
  });

  it("reads GitHub's recorded commit answer as go-scm's FindCommit does", async () => {
    expect(await scm.findCommit(fake.state.token, 'octocat/Hello-World', { sha: '7fd1a60b01f91b314f59955a4e4d4e80d8edf11d' })).toEqual({
      sha: '7fd1a60b01f91b314f59955a4e4d4e80d8edf11d',
      message: 'Merge pull request #6 from Spaceghost/patch-1\n\nNew line at end of file.',
      link: 'https://github.com/octocat/Hello-World/commit/7fd1a60b01f91b314f59955a4e4d4e80d8edf11d',
      timestamp: Date.parse('2012-03-06T23:06:50Z') / 1000,
      author: { login: 'octocat', name: 'The Octocat', email: 'octocat@nowhere.com', avatar: 'https://avatars3.githubusercontent.com/u/583231?v=4' },
    });
  });

  it('keeps UTF-8 content and encodes non-ASCII path segments', async () => {
    expect(await scm.file(fake.state.token, 'mona/app', first, 'docs/ünïcode.md')).toBe('grüße\n');
  });

  it('returns null for a file missing at that commit', async () => {
    expect(await scm.file(fake.state.token, 'mona/app', first, 'missing.yml')).toBeNull();
  });

  it('returns null for a commit the repository does not have', async () => {
    expect(await scm.file(fake.state.token, 'mona/app', 'f'.repeat(40), '.drone.yml')).toBeNull();
  });

  it('fetches a file over 1 MB through the raw media type', async () => {
    const big = 'x'.repeat(1024 * 1024 + 10);
    fake.setFile('mona/app', 'big.txt', big);
    expect(await scm.file(fake.state.token, 'mona/app', first, 'big.txt')).toBe(big);
  });

  it('reads the corpus repository’s recorded README', async () => {
    expect(await scm.file(fake.state.token, 'octocat/Hello-World', '7fd1a60b01f91b314f59955a4e4d4e80d8edf11d', 'README')).toBe('Hello World!\n');
  });
});

describe('GithubScm hooks', () => {
  it('creates a JSON web hook for push, pull_request, create and delete, signed with the secret', async () => {
    const id = await scm.createHook(fake.state.token, 'mona/app', 'http://harrier.test/hook', 's3cret');
    const hook = await fake.waitForHook((h) => String(h.id) === id);
    expect(hook).toMatchObject({
      repo: 'mona/app',
      url: 'http://harrier.test/hook',
      secret: 's3cret',
      contentType: 'json',
      events: ['push', 'pull_request', 'create', 'delete'],
      active: true,
      insecureSsl: '0',
    });
  });

  it('deletes a hook, and deleting one already gone is not an error', async () => {
    const id = await scm.createHook(fake.state.token, 'mona/app', 'http://harrier.test/hook2', 's');
    await scm.deleteHook(fake.state.token, 'mona/app', id);
    expect(fake.state.hooks.items.find((h) => String(h.id) === id)?.deleted).toBe(true);
    await expect(scm.deleteHook(fake.state.token, 'mona/app', id)).resolves.toBeUndefined();
  });

  it('cannot create a hook without admin rights', async () => {
    await expectScmError(scm.createHook(fake.state.token, 'mona/writer', 'http://harrier.test/hook', 's'), 404, /Not Found/);
  });
});

describe('GithubScm status', () => {
  const cases: [CommitState, string][] = [
    ['pending', 'pending'],
    ['running', 'pending'],
    ['success', 'success'],
    ['failure', 'failure'],
    ['error', 'error'],
    ['killed', 'error'],
  ];
  for (const [state, expected] of cases) {
    it(`posts ${state} as GitHub's ${expected}`, async () => {
      const context = `continuous-integration/harrier/${state}`;
      await scm.status(fake.state.token, 'mona/app', second, { state, link: 'http://harrier.test/mona/app/1', description: `Build ${state}`, context });
      const posted = await fake.waitForStatus((s) => s.context === context);
      expect(posted).toMatchObject({ repo: 'mona/app', sha: second, state: expected, targetUrl: 'http://harrier.test/mona/app/1', description: `Build ${state}` });
    });
  }

  it('shortens a description GitHub would refuse as too long', async () => {
    await scm.status(fake.state.token, 'mona/app', second, { state: 'success', link: '', description: 'd'.repeat(300), context: 'long' });
    expect((await fake.waitForStatus((s) => s.context === 'long')).description).toHaveLength(140);
  });

  it('cannot post a status on a read-only repository', async () => {
    await expectScmError(scm.status(fake.state.token, 'mona/reader', second, { state: 'success', link: '', description: '', context: 'c' }), 404, /Not Found/);
  });
});

describe('GithubScm netrc and transport', () => {
  it('gives git the token as login on the clone URL’s host', () => {
    expect(scm.netrc('tok', 'https://github.example.com:8443/mona/app.git')).toEqual({ machine: 'github.example.com', login: 'tok', password: 'x-oauth-basic' });
  });

  it('reports an unreachable API as a 502 ScmError naming the URL', async () => {
    const down = new GithubScm({ clientId: 'a', clientSecret: 'b', url: 'http://127.0.0.1:1', apiUrl: 'http://127.0.0.1:1/api/v3' });
    await expectScmError(down.user('t'), 502, /did not answer GET http:\/\/127\.0\.0\.1:1\/api\/v3\/user/);
  });
});
