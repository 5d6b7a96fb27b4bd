import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGithubFake, type GithubFake } from '../../test/fakes/github-api.ts';
import { startApiHarness, type ApiHarness, type Browser, type BrowserRequest } from '../../test/support/http.ts';

const ADMIN = { admin: true, push: true, pull: true };
const WRITE = { admin: false, push: true, pull: true };

describe('the webhook in the repository JSON', () => {
  let github: GithubFake;
  let harness: ApiHarness;
  let browser: Browser;
  const call = (path: string, init: BrowserRequest = {}) => browser.json(path, { ...init, headers: { Origin: harness.url, ...init.headers } });

  beforeAll(async () => {
    github = await startGithubFake({ fixtureRepos: false, user: { id: 9, login: 'octo' } });
    github.addRepo({ slug: 'octo/app', visibility: 'public', permissions: ADMIN });
    github.addRepo({ slug: 'octo/lib', visibility: 'public', permissions: WRITE });
    harness = await startApiHarness({ github });
    browser = harness.browser();
    await browser.signIn('github');
  });
  afterAll(async () => {
    await harness?.close();
    await github?.close();
  });

  it('shows an admin that an inactive repository has no webhook, and where it would deliver', async () => {
    const res = await call('/api/repos/octo/app');
    expect(res.body.webhook).toEqual({ active: false, id: '', url: `${harness.url}/hook` });
  });

  it('shows the webhook GitHub created in the activation answer and afterwards', async () => {
    const activated = await call('/api/repos/octo/app', { method: 'POST' });
    const hook = await github.waitForHook((h) => h.repo === 'octo/app');
    expect(activated.body.webhook).toEqual({ active: true, id: String(hook.id), url: `${harness.url}/hook` });
    expect((await call('/api/repos/octo/app')).body.webhook).toEqual({ active: true, id: String(hook.id), url: `${harness.url}/hook` });
    const patched = await call('/api/repos/octo/app', { method: 'PATCH', json: { timeout: 30 } });
    expect(patched.body.webhook.active).toBe(true);
  });

  it('shows no webhook after deactivation', async () => {
    const res = await call('/api/repos/octo/app', { method: 'DELETE' });
    expect(res.body.webhook).toEqual({ active: false, id: '', url: `${harness.url}/hook` });
  });

  it('leaves the webhook out for callers without admin permission and for anyone not signed in', async () => {
    expect((await call('/api/repos/octo/lib')).body).not.toHaveProperty('webhook');
    const anonymous = await harness.browser().json('/api/repos/octo/app');
    expect(anonymous.status).toBe(200);
    expect(anonymous.body).not.toHaveProperty('webhook');
  });

  it('leaves the webhook out of the repository list', async () => {
    const res = await call('/api/user/repos');
    expect(res.body.length).toBeGreaterThan(0);
    for (const repo of res.body) expect(repo).not.toHaveProperty('webhook');
  });
});
