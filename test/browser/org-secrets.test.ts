// An organisation's secrets in the web UI, in headless Chromium against real server and
// runner processes: reached from a repository's settings, managed by an administrator of
// the organisation (add, update, delete, never showing a value), and refused with the
// server's reason to a member who is not one. The harness's own user administers this
// Harrier (HARRIER_ADMINS), which would let it manage any namespace, so these tests sign
// in as another account of the stand-in.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startUiHarness, type UiHarness, type UiSession } from './ui-harness.ts';

const PIPELINE = 'kind: pipeline\ntype: docker\nname: default\nsteps:\n- name: build\n  image: alpine:3\n  commands: [echo hi]\n';

describe('organisation secrets in the web UI', () => {
  let h: UiHarness;
  beforeAll(async () => {
    h = await startUiHarness();
    h.addRepo('acme/widget', { 'README.md': '# widget\n', '.drone.yml': PIPELINE }, { shared: true });
    await h.activate('acme/widget');
  }, 120_000);
  afterEach(async () => {
    h.fake.state.orgs = [];
    h.fake.state.orgAdmins = [];
    const errors = await h?.endTest();
    expect(errors ?? []).toEqual([]);
  });
  afterAll(async () => {
    await h?.close();
  });

  /** A browser session signed in as `login`, an account that is not a Harrier administrator. */
  async function signedInAs(login: string, id: number): Promise<UiSession> {
    const own = { id: h.fake.state.user.id, login: h.fake.state.user.login };
    Object.assign(h.fake.state.user, { id, login });
    try {
      return await h.session();
    } finally {
      Object.assign(h.fake.state.user, own);
    }
  }

  it("lets an organisation's admin add, update and delete its secrets from the repository settings' link", async () => {
    h.fake.state.orgs = ['acme'];
    h.fake.state.orgAdmins = ['acme'];
    const { page, api } = await signedInAs('acme-admin', 7201);
    expect((await api('/api/user')).body).toMatchObject({ login: 'acme-admin', admin: false });
    await page.goto('/acme/widget/settings');
    await page.getByRole('link', { name: 'Organisation secrets', exact: true }).click();
    await page.getByRole('heading', { name: 'Organisation secrets of acme' }).waitFor();
    expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe('/orgs/acme/secrets?provider=github');

    await page.getByRole('button', { name: 'Add a secret' }).click();
    await page.getByLabel('Name').fill('REGISTRY_PASSWORD');
    await page.getByLabel('Value').fill('org-hunter2-value');
    await page.getByRole('button', { name: 'Add secret' }).click();
    const secrets = page.getByRole('list', { name: 'Secrets' });
    await secrets.getByText('REGISTRY_PASSWORD').waitFor();
    await secrets.getByText('not for fork pull requests').waitFor();
    const stored = await api('/api/secrets/acme');
    expect(stored.body).toEqual([{ id: expect.any(Number), namespace: 'acme', name: 'REGISTRY_PASSWORD', pull_request: false }]);
    expect(await page.content()).not.toContain('org-hunter2-value');
    await h.screenshot(page, 'org-secrets');

    await page.getByRole('button', { name: 'Update REGISTRY_PASSWORD' }).click();
    await page.getByLabel('Available to pull requests from forks').check();
    await page.getByRole('button', { name: 'Save', exact: true }).last().click();
    await secrets.getByText('fork pull requests too').waitFor();
    expect((await api('/api/secrets/acme/REGISTRY_PASSWORD')).body.pull_request).toBe(true);

    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Delete REGISTRY_PASSWORD' }).click();
    await page.getByText('No secrets yet.').waitFor();
    expect((await api('/api/secrets/acme')).body).toEqual([]);
  }, 120_000);

  it('shows a member who is not an admin why they may not, with nothing to change', async () => {
    h.fake.state.orgs = ['acme'];
    const { page } = await signedInAs('acme-member', 7202);
    await page.goto('/orgs/acme/secrets?provider=github');
    await page.getByRole('note').filter({ hasText: 'you need to administer acme on GitHub' }).waitFor();
    expect(await page.getByRole('button', { name: 'Add a secret' }).count()).toBe(0);
  }, 120_000);
});
