// Failing closed: once the provider answers 401 for a user's token, Harrier no longer
// trusts what it stored about their permissions, and they get what an anonymous visitor
// gets until they sign in again.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBitbucketFake, type BitbucketFake } from '../../test/fakes/bitbucket-api.ts';
import { startGithubFake, type GithubFake } from '../../test/fakes/github-api.ts';
import { bearerJson, startApiHarness, type ApiHarness, type Browser } from '../../test/support/http.ts';
import { SYNC_INTERVAL_SECONDS } from '../api/repo-sync.ts';
import { createApiToken } from './api-token.ts';

const ADMIN = { admin: true, push: true, pull: true };

describe('a GitHub user whose token GitHub refuses', () => {
  let github: GithubFake;
  let harness: ApiHarness;
  let browser: Browser;
  let token: string;
  const user = () => harness.db.user.findFirstOrThrow({ where: { login: 'octo' } });

  beforeAll(async () => {
    github = await startGithubFake({ fixtureRepos: false, user: { id: 31, login: 'octo' } });
    github.addRepo({ slug: 'octo/private', private: true, permissions: ADMIN });
    github.addRepo({ slug: 'octo/public', visibility: 'public', permissions: ADMIN });
    harness = await startApiHarness({ github });
  });
  afterAll(async () => {
    await harness?.close();
    await github?.close();
  });

  /** Signed in with a good grant, then GitHub revokes it. */
  async function revoked(): Promise<void> {
    github.state.token = `gho_${Math.random().toString(36).slice(2)}`;
    browser = harness.browser();
    await browser.signIn('github');
    token = await createApiToken(harness.ctx, (await user()).id);
    const before = await bearerJson(harness.url, token, '/api/repos/octo/private');
    expect(before.body.permissions).toEqual({ read: true, write: true, admin: true });
    github.state.token = 'revoked-by-github';
  }
  afterEach(() => harness.advance(-harness.ctx.now() + Math.floor(Date.now() / 1000)));

  it('marks the user refused when GitHub answers 401 on a permission check, and hides private repositories behind "sign in again"', async () => {
    await revoked();
    harness.advance(SYNC_INTERVAL_SECONDS + 1);
    const hidden = await bearerJson(harness.url, token, '/api/repos/octo/private');
    expect(hidden.status).toBe(404);
    expect(hidden.body.message).toMatch(/GitHub refused Harrier's token for octo.*sign in again at .*\/login\/github/);
    expect((await user()).scmRefused).toBeGreaterThan(0);
  });

  it('ignores stored permissions while refused, even fresh ones: public repositories are read-only, changes answer 403', async () => {
    await revoked();
    await harness.db.user.update({ where: { id: (await user()).id }, data: { scmRefused: harness.ctx.now() } });
    // The stored permission is fresh and says admin; it must not count.
    const stored = await harness.db.perm.findMany({ where: { userId: (await user()).id } });
    expect(stored.every((p) => p.admin)).toBe(true);

    expect((await bearerJson(harness.url, token, '/api/repos/octo/private')).status).toBe(404);
    const pub = await bearerJson(harness.url, token, '/api/repos/octo/public');
    expect(pub.status).toBe(200);
    expect(pub.body.permissions).toEqual({ read: true, write: false, admin: false });
    const patch = await bearerJson(harness.url, token, '/api/repos/octo/public', { method: 'PATCH', json: { timeout: 30 } });
    expect(patch.status).toBe(403);
    expect(patch.body.message).toMatch(/you need admin permission on octo\/public .*refused Harrier's token/);
    const list = await bearerJson(harness.url, token, '/api/user/repos');
    expect(list.body.map((r: any) => [r.slug, r.permissions])).toEqual([['octo/public', { read: true, write: false, admin: false }]]);
    const latest = await bearerJson(harness.url, token, '/api/user/repos?latest=true');
    expect(latest.status).toBe(401);
    expect(latest.body.message).toMatch(/sign in again/);
  });

  it('ends the fallback when the user signs in again with a good grant', async () => {
    await revoked();
    harness.advance(SYNC_INTERVAL_SECONDS + 1);
    expect((await bearerJson(harness.url, token, '/api/repos/octo/private')).status).toBe(404);
    expect((await user()).scmRefused).toBeGreaterThan(0);

    github.state.token = 'a-fresh-grant';
    await harness.browser().signIn('github');
    expect((await user()).scmRefused).toBe(0);
    const again = await bearerJson(harness.url, token, '/api/repos/octo/private');
    expect(again.status).toBe(200);
    expect(again.body.permissions.admin).toBe(true);
  });
});

describe('a Bitbucket user whose refresh token Bitbucket refuses', () => {
  let bitbucket: BitbucketFake;
  let harness: ApiHarness;
  beforeAll(async () => {
    bitbucket = await startBitbucketFake({ fixtureRepos: false, user: { nickname: 'brad' } });
    bitbucket.addRepo({ slug: 'brad/app', private: true, permission: 'admin' });
    harness = await startApiHarness({ bitbucket });
  });
  afterAll(async () => {
    await harness?.close();
    await bitbucket?.close();
  });

  it('is marked refused once the token expired and the refresh fails, and sees the private repository no more', async () => {
    await harness.browser().signIn('bitbucket');
    const u = await harness.db.user.findFirstOrThrow({ where: { login: 'brad' } });
    const token = await createApiToken(harness.ctx, u.id);
    bitbucket.state.refreshToken = 'revoked';
    harness.advance(3 * 3600);
    const res = await bearerJson(harness.url, token, '/api/repos/brad/app');
    expect(res.status).toBe(404);
    expect(res.body.message).toMatch(/Bitbucket refused Harrier's token for brad/);
    expect((await harness.db.user.findUniqueOrThrow({ where: { id: u.id } })).scmRefused).toBeGreaterThan(0);
  });
});
