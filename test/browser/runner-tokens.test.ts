// The Runners page's runner tokens, in headless Chromium against real server and runner
// processes: an administrator issues a token (shown once, with the command line that uses
// it), a runner's call with it is taken, and once revoked on the page it is refused.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rpcPaths, type RunnerInfo } from '../../core/protocol.ts';
import { PATIENCE_MS, startUiHarness, type UiHarness } from './ui-harness.ts';

describe('runner tokens on the Runners page', () => {
  let h: UiHarness;

  beforeAll(async () => {
    h = await startUiHarness();
  }, 120_000);
  afterEach(async () => {
    expect(await h?.endTest()).toEqual([]);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('issues a token shown once with its command line, which a runner can use until it is revoked on the page', async () => {
    const s = await h.session();
    s.page.on('dialog', (d) => void d.accept());
    await s.page.goto('/runners');
    await s.page.getByLabel('Runner name').fill('ui-token-runner');
    await s.page.getByRole('button', { name: 'Issue a token', exact: true }).click();
    const shown = s.page.getByRole('status', { name: 'New runner token' });
    await shown.waitFor({ timeout: PATIENCE_MS });
    const command = (await shown.locator('pre').textContent()) ?? '';
    expect(command).toContain(`HARRIER_SERVER_URL=${h.host}`);
    expect(command).toContain('HARRIER_RUNNER_NAME=ui-token-runner');
    const token = /HARRIER_RPC_SECRET=(hrt_[A-Za-z0-9_-]+)/.exec(command)?.[1] ?? '';
    expect(token).not.toBe('');
    const table = s.page.getByRole('table', { name: 'Runner tokens' });
    await table.getByText('ui-token-runner').waitFor({ timeout: PATIENCE_MS });
    await h.screenshot(s.page, 'runner-tokens', { fullPage: true });

    const info: RunnerInfo = { name: 'ui-token-runner', labels: {}, capacity: 1, running: [], os: 'linux', arch: 'amd64', version: 'test' };
    const ping = () =>
      fetch(h.host + rpcPaths.ping, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(info) });
    expect((await ping()).status).toBe(200);

    // Shown once: after a reload the page lists the token but no longer holds it.
    await s.page.reload();
    await table.getByText('ui-token-runner').waitFor({ timeout: PATIENCE_MS });
    expect(await s.page.content()).not.toContain(token);

    await s.page.getByRole('button', { name: 'Revoke the token of ui-token-runner', exact: true }).click();
    await table.getByText(/revoked/).waitFor({ timeout: PATIENCE_MS });
    expect((await ping()).status).toBe(401);
  });
});
