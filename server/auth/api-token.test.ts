// Personal API tokens expire, carry a name, and are listed and revoked by their owner.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGithubFake, type GithubFake } from '../../test/fakes/github-api.ts';
import { bearerJson, startApiHarness, type ApiHarness, type Browser } from '../../test/support/http.ts';
import { createApiToken } from './api-token.ts';
import { sha256 } from './secrets.ts';

const DAY = 24 * 60 * 60;

describe('personal tokens with an expiry', () => {
  let github: GithubFake;
  let harness: ApiHarness;
  let browser: Browser;
  let userId: number;
  let seed: string;

  beforeAll(async () => {
    github = await startGithubFake({ fixtureRepos: false, user: { id: 91, login: 'keeper' } });
    harness = await startApiHarness({ github, env: { HARRIER_TOKEN_DAYS: '30' } });
    browser = harness.browser();
    await browser.signIn('github');
    userId = (await harness.db.user.findFirstOrThrow({ where: { login: 'keeper' } })).id;
    seed = await createApiToken(harness.ctx, userId, { name: 'seed' });
  });
  afterAll(async () => {
    await harness?.close();
    await github?.close();
  });

  const post = (json: unknown) => browser.json('/api/user/tokens', { method: 'POST', headers: { Origin: harness.url }, json });

  it('POST /api/user/tokens makes a named token that lasts HARRIER_TOKEN_DAYS, shown once; the list never holds the token', async () => {
    const created = await post({ name: 'laptop' });
    expect(created.status).toBe(201);
    const { token, id, name, created: at, expires, last_used } = created.body;
    expect(name).toBe('laptop');
    expect(expires - at).toBe(30 * DAY);
    expect(last_used).toBe(0);
    expect(id).toMatch(/^[0-9a-f]{12}$/);
    expect((await bearerJson(harness.url, token, '/api/user')).body.login).toBe('keeper');

    const list = await browser.json('/api/user/tokens');
    expect(list.status).toBe(200);
    const listed = list.body.find((t: any) => t.id === id);
    expect(listed).toMatchObject({ name: 'laptop', created: at, expires });
    expect(listed.last_used).toBeGreaterThanOrEqual(at);
    expect(JSON.stringify(list.body)).not.toContain(token);
    expect(Object.keys(listed).sort()).toEqual(['created', 'expires', 'id', 'last_used', 'name']);
  });

  it('takes a shorter or longer expiry in days, and refuses a missing name or a bad number of days with 400', async () => {
    const week = await post({ name: 'ci', days: 7 });
    expect(week.body.expires - week.body.created).toBe(7 * DAY);
    const year = await post({ name: 'deploy', days: 365 });
    expect(year.body.expires - year.body.created).toBe(365 * DAY);

    const unnamed = await post({ days: 7 });
    expect(unnamed.status).toBe(400);
    expect(unnamed.body.message).toMatch(/name: give the token a name/);
    const negative = await post({ name: 'x', days: 0 });
    expect(negative.status).toBe(400);
    expect(negative.body.message).toMatch(/days/);
    const forever = await post({ name: 'x', days: 100_000 });
    expect(forever.status).toBe(400);
  });

  it('answers an expired token with 401 saying it expired and how to make a new one', async () => {
    const created = await post({ name: 'short', days: 1 });
    harness.advance(DAY + 1);
    try {
      const res = await bearerJson(harness.url, created.body.token, '/api/user');
      expect(res.status).toBe(401);
      expect(res.body.message).toMatch(/expired on \d{4}-\d\d-\d\dT/);
      expect(res.body.message).toMatch(/\/account or with POST \/api\/user\/tokens/);
    } finally {
      harness.advance(-(DAY + 1));
    }
  });

  it('treats a token from before expiry existed (expiresAt 0) as expiring 90 days after it was made', async () => {
    const old = await createApiToken(harness.ctx, userId, { name: 'legacy' });
    const now = harness.ctx.now();
    await harness.db.apiToken.update({ where: { id: sha256(old) }, data: { expiresAt: 0, createdAt: now - 89 * DAY } });
    expect((await bearerJson(harness.url, old, '/api/user')).status).toBe(200);
    const listed = (await browser.json('/api/user/tokens')).body.find((t: any) => t.name === 'legacy');
    expect(listed.expires).toBe(now - 89 * DAY + 90 * DAY);
    await harness.db.apiToken.update({ where: { id: sha256(old) }, data: { createdAt: now - 91 * DAY } });
    const refused = await bearerJson(harness.url, old, '/api/user');
    expect(refused.status).toBe(401);
    expect(refused.body.message).toMatch(/expired/);
  });

  it('DELETE /api/user/tokens/{id} revokes that token only; another user cannot revoke it', async () => {
    const keep = await post({ name: 'keep' });
    const drop = await post({ name: 'drop' });
    const other = await harness.db.user.create({ data: { provider: 'github', providerId: '92', login: 'other', createdAt: 1, updatedAt: 1 } });
    const otherToken = await createApiToken(harness.ctx, other.id, { name: 'theirs' });
    const foreign = await bearerJson(harness.url, otherToken, `/api/user/tokens/${drop.body.id}`, { method: 'DELETE' });
    expect(foreign.status).toBe(404);
    expect((await bearerJson(harness.url, drop.body.token, '/api/user')).status).toBe(200);

    const gone = await browser.fetch(`/api/user/tokens/${drop.body.id}`, { method: 'DELETE', headers: { Origin: harness.url } });
    expect(gone.status).toBe(204);
    const refused = await bearerJson(harness.url, drop.body.token, '/api/user');
    expect(refused.status).toBe(401);
    expect(refused.body.message).toMatch(/not valid/);
    expect((await bearerJson(harness.url, keep.body.token, '/api/user')).status).toBe(200);
    const names = (await browser.json('/api/user/tokens')).body.map((t: any) => t.name);
    expect(names).toContain('keep');
    expect(names).not.toContain('drop');
    expect(names).not.toContain('theirs');

    const again = await browser.json(`/api/user/tokens/${drop.body.id}`, { method: 'DELETE', headers: { Origin: harness.url } });
    expect(again.status).toBe(404);
    expect(again.body.message).toMatch(/GET \/api\/user\/tokens lists yours/);
  });

  it('keeps POST /api/user/token working, with the default expiry', async () => {
    const res = await bearerJson(harness.url, seed, '/api/user/token', { method: 'POST' });
    expect(res.status).toBe(200);
    expect(res.body.login).toBe('keeper');
    const row = await harness.db.apiToken.findUniqueOrThrow({ where: { id: sha256(res.body.token) } });
    expect(row.expiresAt - row.createdAt).toBe(30 * DAY);
  });
});
