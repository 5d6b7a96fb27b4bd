// The Users page (administrators block, unblock, promote and demote) and the account
// page's personal tokens, in headless Chromium against real server and runner
// processes, under the server's Content-Security-Policy: every page must work with it
// and report no violation.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PATIENCE_MS, startUiHarness, type UiHarness, type UiSession } from './ui-harness.ts';

// Functions given to addInitScript and evaluate run in the browser; the tests' tsconfig has no DOM types.
declare const document: any;
declare const window: any;

describe('users and tokens in the web UI', () => {
  let h: UiHarness;
  let admin: { id: number; login: string };
  /** Sessions whose Content-Security-Policy violations afterEach checks. */
  let watched: UiSession[] = [];

  beforeAll(async () => {
    h = await startUiHarness();
    admin = { id: h.fake.state.user.id, login: h.fake.state.user.login };
  }, 120_000);
  afterEach(async () => {
    const violations: string[] = [];
    for (const s of watched) {
      for (const page of s.context.pages()) violations.push(...((await page.evaluate(() => window.__cspViolations ?? []).catch(() => [])) as string[]));
    }
    watched = [];
    h.fake.state.user.id = admin.id;
    h.fake.state.user.login = admin.login;
    const errors = await h?.endTest();
    expect(violations).toEqual([]);
    expect(errors ?? []).toEqual([]);
  });
  afterAll(async () => {
    await h?.close();
  });

  /** A browser session signed in as the stand-in's account `login` (the administrator unless given). */
  async function session(as?: { id: number; login: string }, opts: { signedIn?: boolean } = {}): Promise<UiSession> {
    h.fake.state.user.id = as?.id ?? admin.id;
    h.fake.state.user.login = as?.login ?? admin.login;
    const s = await h.session(opts);
    h.fake.state.user.id = admin.id;
    h.fake.state.user.login = admin.login;
    await s.context.addInitScript(() => {
      window.__cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e: any) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    s.page.on('dialog', (d) => void d.accept());
    watched.push(s);
    return s;
  }

  const row = (s: UiSession, login: string) => s.page.locator(`tr[data-login="${login}"]`);

  it('shows administrators a Users link; they block, unblock, promote and demote, and cannot demote the last administrator', async () => {
    const dev = await session({ id: 7001, login: 'dev' });
    const root = await session();
    const res = await root.page.goto('/');
    expect(res?.headers()['content-security-policy']).toMatch(/script-src 'self'/);
    await root.page.getByRole('link', { name: 'Users', exact: true }).click();
    await root.page.waitForURL('**/users');
    await expect.poll(() => row(root, 'dev').count(), { timeout: PATIENCE_MS }).toBe(1);
    expect(await row(root, admin.login).getByText('administrator').count()).toBe(1);
    await h.screenshot(root.page, 'users-page');

    // Blocking ends dev's session at once.
    await dev.page.goto('/');
    await dev.page.getByRole('link', { name: 'Runners', exact: true }).waitFor();
    await root.page.getByRole('button', { name: 'Block dev', exact: true }).click();
    await row(root, 'dev').getByText('blocked').waitFor();
    await dev.page.reload();
    await dev.page.getByRole('link', { name: 'Sign in with GitHub', exact: true }).waitFor();
    expect((await dev.api('/api/user')).status).toBe(401);

    await root.page.getByRole('button', { name: 'Unblock dev', exact: true }).click();
    await row(root, 'dev').getByRole('button', { name: 'Block dev', exact: true }).waitFor();
    await root.page.getByRole('button', { name: 'Promote dev', exact: true }).click();
    await row(root, 'dev').getByText('administrator').waitFor();

    // dev signs in again (blocking ended the old session) and now administers too.
    const devAgain = await session({ id: 7001, login: 'dev' });
    await devAgain.page.goto('/');
    await devAgain.page.getByRole('link', { name: 'Users', exact: true }).waitFor();

    await root.page.getByRole('button', { name: 'Demote dev', exact: true }).click();
    await row(root, 'dev').getByRole('button', { name: 'Promote dev', exact: true }).waitFor();
    // The last administrator cannot demote themselves: the server's 409 is shown.
    await root.page.getByRole("button", { name: `Demote ${admin.login}`, exact: true }).click();
    const alert = root.page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/cannot demote yourself: .* is the last active administrator/);
    expect(await row(root, admin.login).getByText('administrator').count()).toBe(1);
  });

  it('shows other users no Users link, and /users tells them it is for administrators', async () => {
    const plain = await session({ id: 7002, login: 'plain' });
    await plain.page.goto('/');
    await plain.page.getByRole('link', { name: 'Runners', exact: true }).waitFor();
    expect(await plain.page.getByRole('link', { name: 'Users', exact: true }).count()).toBe(0);
    await plain.page.goto('/users');
    await plain.page.getByText('Only administrators of this Harrier manage its users').waitFor();
  });

  it('makes a personal token on the account page, shows it once, lists it with its expiry, and revokes it', async () => {
    const s = await session();
    await s.page.goto('/');
    await s.page.getByRole('link', { name: admin.login, exact: true }).click();
    await s.page.waitForURL('**/account');
    await s.page.getByLabel('Token name').fill('laptop');
    await s.page.getByLabel('Expires after').selectOption({ label: 'expires after 30 days' });
    await s.page.getByRole('button', { name: 'Make a token', exact: true }).click();
    const shown = s.page.getByRole('status', { name: 'New personal token' });
    await shown.waitFor();
    const token = ((await shown.locator('pre').textContent()) ?? '').trim();
    expect(token).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    const me = await fetch(`${h.host}/api/user`, { headers: { Authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);

    const listed = await s.api<{ id: string; name: string; created: number; expires: number }[]>('/api/user/tokens');
    const entry = listed.body.find((t) => t.name === 'laptop')!;
    expect(entry.expires - entry.created).toBe(30 * 24 * 3600);
    const line = s.page.locator(`tr[data-token="${entry.id}"]`);
    await line.waitFor();
    expect(await line.textContent()).not.toContain(token);
    await h.screenshot(s.page, 'account-tokens');

    await s.page.getByRole('button', { name: 'Done', exact: true }).click();
    expect(await s.page.getByRole('status', { name: 'New personal token' }).count()).toBe(0);
    await s.page.getByRole('button', { name: 'Revoke laptop', exact: true }).click();
    await line.waitFor({ state: 'detached' });
    const after = await fetch(`${h.host}/api/user`, { headers: { Authorization: `Bearer ${token}` } });
    expect(after.status).toBe(401);
  });

  it('tells someone HARRIER_USER_FILTER leaves out that the account is not allowed here and whom to ask', async () => {
    const s = await session(undefined, { signedIn: false });
    await s.page.goto('/?error=not_allowed&login=mallory');
    const alert = s.page.getByRole('alert');
    await alert.waitFor();
    const text = await alert.textContent();
    expect(text).toContain('The account mallory is not allowed on this server');
    expect(text).toContain('Ask the person who runs this Harrier');
  });
});
