import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGithubFake, type GithubFake } from '../../test/fakes/github-api.ts';
import { startApiHarness, type ApiHarness, type Browser, type BrowserRequest } from '../../test/support/http.ts';
import { SYNC_INTERVAL_SECONDS } from './repo-sync.ts';
import { hookSecretOf } from '../secrets/stored-credentials.ts';

const ADMIN = { admin: true, push: true, pull: true };
const WRITE = { admin: false, push: true, pull: true };
const READ = { admin: false, push: false, pull: true };
const NONE = { admin: false, push: false, pull: false };

describe.each(['sqlite', 'postgres'] as const)('repositories on %s', (flavour) => {
  let github: GithubFake;
  let harness: ApiHarness;
  let browser: Browser;
  /** A same-origin call, as Harrier's own page makes it. */
  const call = (path: string, init: BrowserRequest = {}) =>
    browser.json(path, { ...init, headers: { Origin: harness.url, ...init.headers } });

  beforeAll(async () => {
    github = await startGithubFake({ fixtureRepos: false, user: { id: 9, login: 'octo' } });
    github.addRepo({ slug: 'octo/app', private: true, permissions: ADMIN });
    github.addRepo({ slug: 'octo/lib', private: true, permissions: WRITE });
    github.addRepo({ slug: 'octo/docs', visibility: 'public', permissions: READ });
    github.addRepo({ slug: 'octo/refusing', private: true, permissions: ADMIN });
    github.addRepo({ slug: 'octo/taken', private: true, permissions: ADMIN });
    github.addRepo({ slug: 'corp/secret', private: true, permissions: NONE, id: 900 });
    harness = await startApiHarness({ flavour, github });
    // Someone else's private repository, known to Harrier from their sync; GitHub hides it from this user.
    const now = harness.ctx.now();
    await harness.db.repo.create({
      data: { provider: 'github', uid: '900', namespace: 'corp', name: 'secret', slug: 'corp/secret', private: true, visibility: 'private', createdAt: now, updatedAt: now },
    });
    browser = harness.browser();
    await browser.signIn('github');
  });
  afterAll(async () => {
    await harness?.close();
    await github?.close();
  });

  it('GET /api/user/repos lists only the repositories GitHub lets the user access, each with its permissions', async () => {
    const res = await call('/api/user/repos');
    expect(res.status).toBe(200);
    const bySlug = Object.fromEntries(res.body.map((r: any) => [r.slug, r.permissions]));
    expect(Object.keys(bySlug).sort()).toEqual(['octo/app', 'octo/docs', 'octo/lib', 'octo/refusing', 'octo/taken']);
    expect(bySlug['octo/app']).toEqual({ read: true, write: true, admin: true });
    expect(bySlug['octo/lib']).toEqual({ read: true, write: true, admin: false });
    expect(bySlug['octo/docs']).toEqual({ read: true, write: false, admin: false });
    const app = res.body.find((r: any) => r.slug === 'octo/app');
    expect(app).toMatchObject({ namespace: 'octo', name: 'app', scm: 'github', private: true, visibility: 'private', active: false, default_branch: 'main' });
  });

  it('GET /api/user/repos and ?latest=true carry each repository\'s last build as Drone\'s build JSON, and none for a repository never built', async () => {
    const { db } = harness;
    const now = harness.ctx.now();
    const app = await db.repo.findFirstOrThrow({ where: { slug: 'octo/app' } });
    for (const [number, status, branch] of [[1, 'success', 'main'], [2, 'failure', 'dev']] as const) {
      await db.build.create({
        data: { repoId: app.id, number, status, event: 'push', ref: `refs/heads/${branch}`, target: branch, source: branch, after: `${number}`.repeat(40), createdAt: now + number, updatedAt: now + number },
      });
    }
    await db.repo.update({ where: { id: app.id }, data: { counter: 2 } });
    for (const path of ['/api/user/repos', '/api/user/repos?latest=true']) {
      const res = await call(path);
      expect(res.status).toBe(200);
      const bySlug = Object.fromEntries(res.body.map((r: any) => [r.slug, r]));
      expect(bySlug['octo/app'].build).toMatchObject({ repo_id: app.id, number: 2, status: 'failure', target: 'dev', ref: 'refs/heads/dev', created: now + 2 });
      expect(bySlug['octo/lib']).not.toHaveProperty('build');
    }
    // The tests after this one see octo/app unbuilt.
    await db.build.deleteMany({ where: { repoId: app.id } });
    await db.repo.update({ where: { id: app.id }, data: { counter: 0 } });
  });

  it('syncs again when the last sync is older than 10 minutes or with ?latest=true, dropping repositories the user lost', async () => {
    github.addRepo({ slug: 'octo/new', private: true, permissions: ADMIN });
    const before = await call('/api/user/repos');
    expect(before.body.map((r: any) => r.slug)).not.toContain('octo/new');

    const latest = await call('/api/user/repos?latest=true');
    expect(latest.body.map((r: any) => r.slug)).toContain('octo/new');

    github.repo('octo/new')!.permissions = NONE;
    harness.advance(SYNC_INTERVAL_SECONDS + 1);
    const later = await call('/api/user/repos');
    expect(later.body.map((r: any) => r.slug)).not.toContain('octo/new');
  });

  it('GET /api/repos/{owner}/{name} answers the repository with the caller\'s permissions', async () => {
    const res = await call('/api/repos/octo/lib');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ slug: 'octo/lib', permissions: { read: true, write: true, admin: false }, config_path: '.drone.yml', timeout: 60 });
  });

  it('lets anyone read a public repository, signed in or not', async () => {
    const res = await harness.browser().json('/api/repos/octo/docs');
    expect(res.status).toBe(200);
    expect(res.body.permissions).toEqual({ read: true, write: false, admin: false });
  });

  it('answers 404, not 403, for a private repository the caller cannot see, signed in or not', async () => {
    const signedIn = await call('/api/repos/corp/secret');
    expect(signedIn.status).toBe(404);
    expect(signedIn.body.message).toMatch(/repository corp\/secret not found, or you cannot see it/);
    const anonymous = await harness.browser().json('/api/repos/octo/app');
    expect(anonymous.status).toBe(404);
    expect(anonymous.body.message).toMatch(/sign in to see private repositories/);
    const builds = await call('/api/repos/corp/secret/builds');
    expect(builds.status).toBe(404);
    // GitHub was asked, and its "no" is remembered.
    const user = await harness.db.user.findFirstOrThrow({ where: { login: 'octo' } });
    const repo = await harness.db.repo.findFirstOrThrow({ where: { slug: 'corp/secret' } });
    const perm = await harness.db.perm.findUnique({ where: { userId_repoId: { userId: user.id, repoId: repo.id } } });
    expect(perm).toMatchObject({ read: false, write: false, admin: false });
  });

  it('asks GitHub for the permission and the repository when Harrier has not synced them yet', async () => {
    github.addRepo({ slug: 'octo/fresh', private: true, permissions: WRITE });
    const res = await call('/api/repos/octo/fresh');
    expect(res.status).toBe(200);
    expect(res.body.permissions).toEqual({ read: true, write: true, admin: false });
    expect(await harness.db.repo.count({ where: { slug: 'octo/fresh' } })).toBe(1);
  });

  it('activates a repository: creates the webhook on GitHub pointing at {host}/hook with a secret, stores it and marks the repository active', async () => {
    const res = await call('/api/repos/octo/app', { method: 'POST' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ slug: 'octo/app', active: true, config_path: '.drone.yml' });

    const hook = await github.waitForHook((h) => h.repo === 'octo/app');
    expect(hook.url).toBe(`${harness.url}/hook`);
    expect(hook.secret.length).toBeGreaterThanOrEqual(32);
    const row = await harness.db.repo.findFirstOrThrow({ where: { slug: 'octo/app' } });
    const user = await harness.db.user.findFirstOrThrow({ where: { login: 'octo' } });
    expect(row).toMatchObject({ active: true, hookId: String(hook.id), userId: user.id });
    // Stored sealed for this row, never in the clear.
    expect(row.hookSecret).toMatch(/^v1:/);
    expect(row.hookSecret).not.toContain(hook.secret);
    expect(hookSecretOf(harness.ctx.config, row)).toBe(hook.secret);
    expect(res.body.user_id).toBe(user.id);
    expect(JSON.stringify(res.body)).not.toContain(hook.secret);
  });

  it('re-activating an active repository returns it and creates no second webhook', async () => {
    const res = await call('/api/repos/octo/app', { method: 'POST' });
    expect(res.status).toBe(200);
    expect(res.body.active).toBe(true);
    expect(github.state.hooks.items.filter((h) => h.repo === 'octo/app' && !h.deleted)).toHaveLength(1);
  });

  it('leaves the repository inactive and says GitHub refused, and why, when GitHub refuses the webhook', async () => {
    // A hook to the same URL already exists on GitHub: GitHub answers 422.
    const existing = await fetch(`${github.apiUrl}/repos/octo/taken/hooks`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${github.state.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'web', config: { url: `${harness.url}/hook`, content_type: 'json' } }),
    });
    expect(existing.status).toBe(201);
    const res = await call('/api/repos/octo/taken', { method: 'POST' });
    expect(res.status).toBe(422);
    expect(res.body.message).toMatch(/GitHub refused to create the webhook for octo\/taken: .*Hook already exists/);
    const row = await harness.db.repo.findFirstOrThrow({ where: { slug: 'octo/taken' } });
    expect(row).toMatchObject({ active: false, hookId: '', hookSecret: '' });
  });

  it('answers 403 naming GitHub when GitHub no longer grants the admin rights Harrier last saw', async () => {
    await call('/api/user/repos?latest=true');
    github.repo('octo/refusing')!.permissions = WRITE;
    const res = await call('/api/repos/octo/refusing', { method: 'POST' });
    expect(res.status).toBe(403);
    expect(res.body.message).toMatch(/GitHub refused to create the webhook for octo\/refusing/);
    expect(res.body.message).toMatch(/check that you are an admin/);
    expect((await harness.db.repo.findFirstOrThrow({ where: { slug: 'octo/refusing' } })).active).toBe(false);
  });

  it('refuses activation by a user with write but not admin permission (403)', async () => {
    const res = await call('/api/repos/octo/lib', { method: 'POST' });
    expect(res.status).toBe(403);
    expect(res.body.message).toMatch(/you need admin permission on octo\/lib/);
    expect(github.state.hooks.items.some((h) => h.repo === 'octo/lib')).toBe(false);
  });

  it('answers 401 to an anonymous activation of a public repository', async () => {
    const res = await harness.browser().json('/api/repos/octo/docs', { method: 'POST' });
    expect(res.status).toBe(401);
  });

  it('deactivates a repository: deletes the webhook on GitHub and clears it from the row', async () => {
    const hook = github.state.hooks.items.find((h) => h.repo === 'octo/app' && !h.deleted)!;
    const res = await call('/api/repos/octo/app', { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(res.body.active).toBe(false);
    expect(hook.deleted).toBe(true);
    const row = await harness.db.repo.findFirstOrThrow({ where: { slug: 'octo/app' } });
    expect(row).toMatchObject({ active: false, hookId: '', hookSecret: '' });
    // Deactivating twice is harmless.
    expect((await call('/api/repos/octo/app', { method: 'DELETE' })).status).toBe(200);
  });

  it('PATCH updates the settings and answers the repository', async () => {
    const res = await call('/api/repos/octo/app', {
      method: 'PATCH',
      json: { config_path: 'ci/.drone.yml', protected: true, timeout: 90, visibility: 'internal', ignore_forks: true, ignore_pull_requests: true, counter: 5 },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      config_path: 'ci/.drone.yml',
      protected: true,
      timeout: 90,
      visibility: 'internal',
      ignore_forks: true,
      ignore_pull_requests: true,
      counter: 0,
    });
  });

  it.each([
    [{ timeout: 0 }, /timeout: must be between 1 and 1440 minutes/],
    [{ timeout: 1441 }, /timeout: must be between 1 and 1440 minutes/],
    [{ timeout: 'soon' }, /timeout: must be a number of minutes/],
    [{ timeout: 1.5 }, /timeout: must be a whole number/],
    [{ visibility: 'secret' }, /visibility: must be public, private or internal/],
    [{ config_path: '' }, /config_path: must not be empty/],
    [{ config_path: '/etc/passwd' }, /config_path: must be a path inside the repository/],
    [{ protected: 'yes' }, /protected: /],
  ])('PATCH refuses %j with 400 naming the field', async (body, message) => {
    const res = await call('/api/repos/octo/app', { method: 'PATCH', json: body });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(message);
  });

  it('lets only a Harrier administrator change "trusted"', async () => {
    await harness.db.user.updateMany({ where: { login: 'octo' }, data: { admin: false } });
    const refused = await call('/api/repos/octo/app', { method: 'PATCH', json: { trusted: true } });
    expect(refused.status).toBe(403);
    expect(refused.body.message).toMatch(/only a Harrier administrator may change "trusted"/);
    await harness.db.user.updateMany({ where: { login: 'octo' }, data: { admin: true } });
    const allowed = await call('/api/repos/octo/app', { method: 'PATCH', json: { trusted: true } });
    expect(allowed.status).toBe(200);
    expect(allowed.body.trusted).toBe(true);
  });

  it('refuses PATCH by a user with write but not admin permission (403)', async () => {
    const res = await call('/api/repos/octo/lib', { method: 'PATCH', json: { timeout: 10 } });
    expect(res.status).toBe(403);
  });
});
