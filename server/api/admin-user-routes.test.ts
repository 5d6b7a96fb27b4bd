// Administrators list, block, promote and delete users; nobody can leave Harrier without an active administrator.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGithubFake, type GithubFake } from '../../test/fakes/github-api.ts';
import { bearerJson, startApiHarness, type ApiHarness, type Browser } from '../../test/support/http.ts';
import { createApiToken } from '../auth/api-token.ts';

describe('the users API', () => {
  let github: GithubFake;
  let harness: ApiHarness;
  let root: Browser;
  let rootToken: string;

  /** Signs the account in through GitHub (the stand-in serves one account at a time). */
  async function signIn(id: number, login: string): Promise<Browser> {
    github.state.user.id = id;
    github.state.user.login = login;
    const browser = harness.browser();
    await browser.signIn('github');
    return browser;
  }
  const tokenOf = async (login: string) => createApiToken(harness.ctx, (await harness.db.user.findFirstOrThrow({ where: { login } })).id);

  beforeAll(async () => {
    github = await startGithubFake({ fixtureRepos: false });
    harness = await startApiHarness({ github, env: { HARRIER_ADMINS: 'root' } });
    root = await signIn(1, 'root');
    rootToken = await tokenOf('root');
    await signIn(2, 'dev');
  });
  afterAll(async () => {
    await harness?.close();
    await github?.close();
  });

  const call = (path: string, init: { method?: string; json?: unknown } = {}) => bearerJson(harness.url, rootToken, path, init);

  it('lists users and shows one by login, to administrators only', async () => {
    const list = await call('/api/users');
    expect(list.status).toBe(200);
    expect(list.body.map((u: any) => [u.login, u.admin, u.active])).toEqual(
      expect.arrayContaining([
        ['dev', false, true],
        ['root', true, true],
      ]),
    );
    expect(JSON.stringify(list.body)).not.toMatch(/"token"|v1:/);
    const one = await call('/api/users/dev');
    expect(one.body).toMatchObject({ login: 'dev', provider: 'github', admin: false });
    const missing = await call('/api/users/nobody');
    expect(missing.status).toBe(404);
    expect(missing.body.message).toMatch(/no user nobody has signed in/);

    const dev = await tokenOf('dev');
    for (const [method, path] of [
      ['GET', '/api/users'],
      ['GET', '/api/users/root'],
      ['PATCH', '/api/users/dev'],
      ['DELETE', '/api/users/root'],
    ]) {
      const res = await bearerJson(harness.url, dev, path, { method, json: method === 'PATCH' ? { admin: true } : undefined });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body.message).toMatch(/dev is not an administrator of Harrier/);
    }
    expect((await fetch(`${harness.url}/api/users`)).status).toBe(401);
  });

  it('blocking a user ends their session and refuses their tokens at once; unblocking lets the tokens work again', async () => {
    const eve = await signIn(3, 'eve');
    const eveToken = await tokenOf('eve');
    expect((await eve.json('/api/user')).status).toBe(200);

    const blocked = await call('/api/users/eve', { method: 'PATCH', json: { active: false } });
    expect(blocked.status).toBe(200);
    expect(blocked.body.active).toBe(false);
    expect((await eve.json('/api/user')).status).toBe(401);
    const refused = await bearerJson(harness.url, eveToken, '/api/user');
    expect(refused.status).toBe(401);
    expect(refused.body.message).toMatch(/administrator of this Harrier blocked/);
    const userId = (await harness.db.user.findFirstOrThrow({ where: { login: 'eve' } })).id;
    expect(await harness.db.session.count({ where: { userId } })).toBe(0);

    await call('/api/users/eve', { method: 'PATCH', json: { active: true } });
    expect((await bearerJson(harness.url, eveToken, '/api/user')).status).toBe(200);
  });

  it('promotes and demotes', async () => {
    const promoted = await call('/api/users/dev', { method: 'PATCH', json: { admin: true } });
    expect(promoted.body.admin).toBe(true);
    const devToken = await tokenOf('dev');
    expect((await bearerJson(harness.url, devToken, '/api/users')).status).toBe(200);
    const demoted = await call('/api/users/dev', { method: 'PATCH', json: { admin: false } });
    expect(demoted.body.admin).toBe(false);
    expect((await bearerJson(harness.url, devToken, '/api/users')).status).toBe(403);
  });

  it('refuses a body that changes nothing or names other fields, with 400', async () => {
    const empty = await call('/api/users/dev', { method: 'PATCH', json: {} });
    expect(empty.status).toBe(400);
    expect(empty.body.message).toMatch(/send "admin" and\/or "active"/);
    const other = await call('/api/users/dev', { method: 'PATCH', json: { login: 'x' } });
    expect(other.status).toBe(400);
    const wrongType = await call('/api/users/dev', { method: 'PATCH', json: { admin: 'yes' } });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.message).toMatch(/admin/);
  });

  it('refuses with 409 to let the last active administrator demote, block or delete themselves', async () => {
    for (const [method, json, verb] of [
      ['PATCH', { admin: false }, 'demote'],
      ['PATCH', { active: false }, 'block'],
      ['DELETE', undefined, 'delete'],
    ] as const) {
      const res = await call('/api/users/root', { method, json });
      expect(res.status, verb).toBe(409);
      expect(res.body.message).toMatch(new RegExp(`cannot ${verb} yourself: root is the last active administrator.*promote another user first`));
    }
    const row = await harness.db.user.findFirstOrThrow({ where: { login: 'root' } });
    expect(row).toMatchObject({ admin: true, active: true });
    expect((await root.json('/api/user')).status).toBe(200);
  });

  it('lets an administrator step down once another one is active', async () => {
    await call('/api/users/dev', { method: 'PATCH', json: { admin: true } });
    const devToken = await tokenOf('dev');
    const down = await call('/api/users/root', { method: 'PATCH', json: { admin: false } });
    expect(down.status).toBe(200);
    expect(down.body.admin).toBe(false);
    // Put things back for the other tests.
    expect((await bearerJson(harness.url, devToken, '/api/users/root', { method: 'PATCH', json: { admin: true } })).status).toBe(200);
  });

  it('deletes a user with their sessions and tokens', async () => {
    const gone = await signIn(4, 'gone');
    const goneToken = await tokenOf('gone');
    const res = await call('/api/users/gone', { method: 'DELETE' });
    expect(res.status).toBe(204);
    expect(await harness.db.user.count({ where: { login: 'gone' } })).toBe(0);
    expect((await gone.json('/api/user')).status).toBe(401);
    expect((await bearerJson(harness.url, goneToken, '/api/user')).status).toBe(401);
  });
});
