import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBitbucketFake, type BitbucketFake } from '../../../test/fakes/bitbucket-api.ts';
import { LocalGitRepo } from '../../../test/fakes/local-git-repo.ts';
import { BitbucketScm } from './api.ts';
import { ScmError, type CommitState } from '../scm.ts';

let fake: BitbucketFake;
let scm: BitbucketScm;
let git: LocalGitRepo;
let first: string;
let second: string;
const callback = 'http://harrier.test/login/bitbucket';

beforeAll(async () => {
  fake = await startBitbucketFake({ user: { nickname: 'mona', displayName: 'Mona Lisa', email: 'mona@example.com' } });
  scm = new BitbucketScm({ clientId: fake.clientId, clientSecret: fake.clientSecret, url: fake.url, apiUrl: fake.apiUrl });
  git = new LocalGitRepo();
  first = git.commit({ '.drone.yml': 'kind: pipeline\nname: default\n' }, 'first');
  second = git.commit({ '.drone.yml': 'kind: pipeline\nname: second\n' }, 'second');
  fake.addRepo({ slug: 'mona/app', gitDir: git.dir, permission: 'admin' });
  fake.addRepo({ slug: 'team/writer', permission: 'write', private: false });
  fake.addRepo({ slug: 'team/reader', permission: 'read' });
  fake.addRepo({ slug: 'team/secret', permission: 'none' });
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
  expect(e.provider).toBe('bitbucket');
  expect(e.message).toMatch(text);
  return e;
}

describe('BitbucketScm OAuth', () => {
  it('builds the authorize URL on the web host with response_type=code', () => {
    const url = new URL(scm.authorizeUrl('st4te', callback));
    expect(`${url.origin}${url.pathname}`).toBe(`${fake.url}/site/oauth2/authorize`);
    expect(Object.fromEntries(url.searchParams)).toEqual({ client_id: fake.clientId, response_type: 'code', state: 'st4te', redirect_uri: callback });
  });

  it('exchanges the redirect’s code for a token that expires in two hours', async () => {
    const res = await fetch(scm.authorizeUrl('xyz', callback), { redirect: 'manual' });
    const back = new URL(res.headers.get('location')!);
    expect(back.origin + back.pathname).toBe(callback);
    expect(back.searchParams.get('state')).toBe('xyz');
    const before = Math.floor(Date.now() / 1000);
    const token = await scm.exchange(back.searchParams.get('code')!, callback);
    const after = Math.ceil(Date.now() / 1000);
    expect(token.access).toBe(fake.state.token);
    expect(token.refresh).toBe(fake.state.refreshToken);
    // expires_in 7200, counted from the answer: between the clock before and after the call, however long it took.
    expect(token.expires).toBeGreaterThanOrEqual(before + 7200);
    expect(token.expires).toBeLessThanOrEqual(after + 7200);
  });

  it('sends the client credentials as HTTP basic auth', async () => {
    await scm.exchange('bad', callback).catch(() => undefined);
    const req = await fake.waitForRequest((r) => r.path === '/site/oauth2/access_token');
    expect(req.authorization).toBe(`Basic ${Buffer.from(`${fake.clientId}:${fake.clientSecret}`).toString('base64')}`);
  });

  it('rejects an unknown code with Bitbucket’s invalid_grant', async () => {
    await expectScmError(scm.exchange('nope', callback), 400, /invalid_grant: The specified code is not valid/);
  });

  it('rejects wrong client credentials with 401', async () => {
    const bad = new BitbucketScm({ clientId: fake.clientId, clientSecret: 'wrong', url: fake.url, apiUrl: fake.apiUrl });
    await expectScmError(bad.exchange('x', callback), 401, /invalid_client/);
  });

  it('trades the refresh token for a new access token', async () => {
    const token = await scm.refresh(fake.state.refreshToken);
    expect(token.access).toBe(fake.state.token);
    await expectScmError(scm.refresh('stale'), 400, /Invalid refresh_token/);
  });
});

describe('BitbucketScm user', () => {
  it('uses the uuid as id and the nickname as login, since Bitbucket no longer sends usernames', async () => {
    const user = await scm.user(fake.state.token);
    expect(user).toEqual({ id: fake.state.user.uuid, login: 'mona', email: 'mona@example.com', avatar: fake.state.user.avatarUrl });
  });

  it('turns a wrong token into a 401 ScmError', async () => {
    await expectScmError(scm.user('wrong'), 401, /Token is invalid/);
  });

  it('lists the workspaces the user belongs to as their organisations', async () => {
    fake.state.workspaces = ['design'];
    try {
      const orgs = await scm.orgs(fake.state.token);
      expect(orgs).toEqual(expect.arrayContaining(['mona', 'team', 'design']));
      expect(orgs).not.toContain('elsewhere');
    } finally {
      fake.state.workspaces = [];
    }
  });

  it('follows `next` links through the workspace pages', async () => {
    const paged = await startBitbucketFake({ fixtureRepos: false, maxPageLen: 1, user: { nickname: 'pat' }, workspaces: ['one', 'two'] });
    try {
      const client = new BitbucketScm({ clientId: paged.clientId, clientSecret: paged.clientSecret, url: paged.url, apiUrl: paged.apiUrl });
      expect((await client.orgs(paged.state.token)).sort()).toEqual(['one', 'pat', 'two']);
    } finally {
      await paged.close();
    }
  });

  it('answers a refused token with a 401 ScmError when listing workspaces', async () => {
    await expectScmError(scm.orgs('wrong'), 401, /Token is invalid/);
  });

  it('calls a workspace the user owns theirs to administer, and not one they are a member of', async () => {
    fake.state.workspaces = ['design', 'ops'];
    fake.state.workspaceOwners = ['ops'];
    try {
      expect(await scm.orgAdmin(fake.state.token, 'mona')).toBe(true);
      expect(await scm.orgAdmin(fake.state.token, 'ops')).toBe(true);
      expect(await scm.orgAdmin(fake.state.token, 'design')).toBe(false);
      expect(await scm.orgAdmin(fake.state.token, 'team')).toBe(false);
      expect(await scm.orgAdmin(fake.state.token, 'elsewhere')).toBe(false);
    } finally {
      fake.state.workspaces = [];
      fake.state.workspaceOwners = [];
    }
  });

  it('answers a refused token with a 401 ScmError when asking for a workspace permission', async () => {
    await expectScmError(scm.orgAdmin('wrong', 'mona'), 401, /Token is invalid/);
  });
});

describe('BitbucketScm repositories', () => {
  it('lists the repositories of every workspace with the user’s permission on each', async () => {
    const repos = await scm.repos(fake.state.token);
    const bySlug = Object.fromEntries(repos.map((r) => [r.slug, r]));
    expect(Object.keys(bySlug).sort()).toEqual(['atlassian/stash-example-plugin', 'mona/app', 'team/reader', 'team/writer']);
    expect(bySlug['mona/app'].perm).toEqual({ read: true, write: true, admin: true });
    expect(bySlug['team/writer'].perm).toEqual({ read: true, write: true, admin: false });
    expect(bySlug['team/reader'].perm).toEqual({ read: true, write: false, admin: false });
    expect(bySlug['team/writer'].visibility).toBe('public');
    expect(bySlug['mona/app']).toMatchObject({ namespace: 'mona', name: 'app', cloneUrl: `file://${git.dir}`, defaultBranch: 'main', private: true, uid: fake.repo('mona/app')!.uuid });
  });

  it('drops the user name Bitbucket puts in https clone links', async () => {
    const repos = await scm.repos(fake.state.token);
    const fixture = repos.find((r) => r.slug === 'atlassian/stash-example-plugin')!;
    expect(fixture.cloneUrl).toBe('https://bitbucket.org/atlassian/stash-example-plugin.git');
    expect(fixture.sshUrl).toBe('git@bitbucket.org:atlassian/stash-example-plugin.git');
  });

  it('never calls /2.0/user/permissions/repositories, which Bitbucket removed', async () => {
    await scm.repos(fake.state.token);
    expect(fake.state.requests.items.some((r) => r.path.endsWith('/2.0/user/permissions/repositories'))).toBe(false);
  });

  it('follows `next` links through every page', async () => {
    const paged = await startBitbucketFake({ maxPageLen: 2, fixtureRepos: false, user: { nickname: 'p' } });
    try {
      for (let i = 0; i < 5; i++) paged.addRepo({ slug: `p/repo-${i}`, permission: i % 2 ? 'write' : 'admin' });
      const client = new BitbucketScm({ clientId: 'a', clientSecret: 'b', url: paged.url, apiUrl: paged.apiUrl });
      const repos = await client.repos(paged.state.token);
      expect(repos.map((r) => [r.slug, r.perm.admin])).toEqual([
        ['p/repo-0', true],
        ['p/repo-1', false],
        ['p/repo-2', true],
        ['p/repo-3', false],
        ['p/repo-4', true],
      ]);
    } finally {
      await paged.close();
    }
  });

  it('reads one repository with the user’s permission on it', async () => {
    expect(await scm.repo(fake.state.token, 'team/writer')).toMatchObject({ slug: 'team/writer', perm: { read: true, write: true, admin: false } });
    expect((await scm.repo(fake.state.token, 'mona/app')).perm.admin).toBe(true);
  });

  it('answers a missing repository with a 404 ScmError carrying Bitbucket’s message', async () => {
    await expectScmError(scm.repo(fake.state.token, 'mona/nope'), 404, /Repository mona\/nope not found/);
  });
});

describe('BitbucketScm file', () => {
  it('reads a file at a full commit hash', async () => {
    expect(await scm.file(fake.state.token, 'mona/app', first, '.drone.yml')).toBe('kind: pipeline\nname: default\n');
  });

  it('reads a file at the 12-character hash pull request hooks carry', async () => {
    expect(await scm.file(fake.state.token, 'mona/app', second.slice(0, 12), '.drone.yml')).toBe('kind: pipeline\nname: second\n');
  });

  it('resolves the 12-character hash pull request hooks carry to the full hash, and refuses an unknown one with 404', async () => {
    expect(await scm.commitHash(fake.state.token, 'mona/app', second.slice(0, 12))).toBe(second);
    await expect(scm.commitHash(fake.state.token, 'mona/app', 'a'.repeat(12))).rejects.toMatchObject({ status: 404, provider: 'bitbucket' });
  });

  it("finds a branch's head and a commit by its 12-character hash with the message, link, author and its account", async () => {
    const info = git.info(second);
    const expected = {
      sha: second,
      message: info.message,
      link: `${fake.url}/mona/app/commits/${second}`,
      timestamp: Math.floor(Date.parse(info.timestamp) / 1000),
      author: { login: 'mona', name: 'Mona Lisa', email: 'mona@example.com', avatar: fake.state.user.avatarUrl },
    };
    expect(await scm.findCommit(fake.state.token, 'mona/app', { branch: 'main' })).toEqual(expected);
    expect(await scm.findCommit(fake.state.token, 'mona/app', { sha: second.slice(0, 12) })).toEqual(expected);
    expect(await scm.findCommit(fake.state.token, 'mona/app', { branch: 'no-such-branch' })).toBeNull();
    expect(await scm.findCommit(fake.state.token, 'mona/app', { sha: 'a'.repeat(40) })).toBeNull();
  });

  it("reads Bitbucket's recorded commit and branch answers as go-scm's FindCommit does", async () => {
    const sha = 'a6e5e7d797edf751cbd839d6bd4aef86c941eec9';
    const recorded = {
      sha,
      message: 'Add Apache 2.0 License\n',
      link: `https://bitbucket.org/atlassian/stash-example-plugin/commits/${sha}`,
      timestamp: Date.parse('2015-08-27T03:25:04Z') / 1000,
      author: { login: 'aahmed', name: 'Adam Ahmed', email: 'aahmed@atlassian.com', avatar: 'https://bitbucket.org/account/aahmed/avatar/32/' },
    };
    expect(await scm.findCommit(fake.state.token, 'atlassian/stash-example-plugin', { sha })).toEqual(recorded);
    expect(await scm.findCommit(fake.state.token, 'atlassian/stash-example-plugin', { branch: 'master' })).toEqual(recorded);
  });

  it('returns null for a missing file or an unknown commit', async () => {
    expect(await scm.file(fake.state.token, 'mona/app', first, 'nope.yml')).toBeNull();
    expect(await scm.file(fake.state.token, 'mona/app', 'a'.repeat(40), '.drone.yml')).toBeNull();
  });

  it('reads the corpus repository’s recorded file', async () => {
    expect(await scm.file(fake.state.token, 'atlassian/atlaskit', '425863f9dbe56d70c8dcdbf2e4e0805e85591fcc', 'README')).toBe('HELLO WORLD\n');
  });
});

describe('BitbucketScm hooks', () => {
  it('creates a hook for pushes and pull requests with the secret Bitbucket signs with', async () => {
    const id = await scm.createHook(fake.state.token, 'mona/app', 'http://harrier.test/hook', 's3cret');
    expect(id).toMatch(/^\{[0-9a-f-]{36}\}$/);
    const hook = await fake.waitForHook((h) => h.uuid === id);
    expect(hook).toMatchObject({ url: 'http://harrier.test/hook', secret: 's3cret', description: 'harrier', active: true, events: ['repo:push', 'pullrequest:created', 'pullrequest:updated'] });
  });

  it('deletes a hook by its braced uuid, and a second delete is not an error', async () => {
    const id = await scm.createHook(fake.state.token, 'mona/app', 'http://harrier.test/hook2', 's');
    await scm.deleteHook(fake.state.token, 'mona/app', id);
    expect(fake.state.hooks.items.find((h) => h.uuid === id)?.deleted).toBe(true);
    await expect(scm.deleteHook(fake.state.token, 'mona/app', id)).resolves.toBeUndefined();
  });

  it('cannot create a hook without admin rights', async () => {
    await expectScmError(scm.createHook(fake.state.token, 'team/writer', 'http://harrier.test/hook', 's'), 403, /admin access/);
  });
});

describe('BitbucketScm status', () => {
  const cases: [CommitState, string][] = [
    ['pending', 'INPROGRESS'],
    ['running', 'INPROGRESS'],
    ['success', 'SUCCESSFUL'],
    ['failure', 'FAILED'],
    ['error', 'FAILED'],
    ['killed', 'STOPPED'],
  ];
  for (const [state, expected] of cases) {
    it(`posts ${state} as Bitbucket's ${expected}`, async () => {
      const context = `harrier/${state}`;
      await scm.status(fake.state.token, 'mona/app', second, { state, link: 'http://harrier.test/b/1', description: `Build ${state}`, context });
      expect(await fake.waitForStatus((s) => s.key === context)).toMatchObject({ state: expected, name: context, url: 'http://harrier.test/b/1', description: `Build ${state}`, fullSha: second });
    });
  }

  it('posts on the commit a 12-character hash names', async () => {
    await scm.status(fake.state.token, 'mona/app', second.slice(0, 12), { state: 'success', link: 'http://harrier.test/b/2', description: '', context: 'short' });
    expect((await fake.waitForStatus((s) => s.key === 'short')).fullSha).toBe(second);
  });

  it('cannot post a status on a read-only repository', async () => {
    await expectScmError(scm.status(fake.state.token, 'team/reader', second, { state: 'success', link: 'http://x', description: '', context: 'c' }), 403, /write access/);
  });
});

describe('BitbucketScm netrc', () => {
  it('gives git x-token-auth with the token as password', () => {
    expect(scm.netrc('tok', 'https://bitbucket.org/mona/app.git')).toEqual({ machine: 'bitbucket.org', login: 'x-token-auth', password: 'tok' });
  });
});
