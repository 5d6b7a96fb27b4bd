// The Cron jobs section of a repository's settings, in a real browser against a server and
// runner processes: add a job (and see a bad schedule refused with why), disable and enable
// it, run it now and follow the link to its build, whose step prints DRONE_CRON, and delete it.
import { describe, expect, it } from 'vitest';
import type { Cron } from '../../core/domain.ts';
import { PATIENCE_MS, useUiHarness } from './ui-harness.ts';

const PIPELINE = `kind: pipeline
type: docker
name: default

steps:
- name: show
  image: alpine:3
  commands:
  - echo "cron job $DRONE_CRON"
`;

describe('cron jobs in the repository settings', () => {
  const harness = useUiHarness();

  it('adds, disables, enables, runs now and deletes a cron job', async () => {
    const h = harness();
    const slug = 'octocat/cron-ui';
    h.addRepo(slug, { 'README.md': '# hello\n', '.drone.yml': PIPELINE });
    await h.activate(slug);
    const { page, api } = await h.session();
    await page.goto(`/${slug}/settings`);
    const section = page.getByRole('region', { name: 'Cron jobs' });
    await section.getByText('No cron jobs yet.').waitFor();

    // A schedule the server refuses: the form says why and stays open.
    await section.getByRole('button', { name: 'Add a cron job' }).click();
    const form = section.getByRole('form', { name: 'New cron job' });
    await form.getByLabel('Name').fill('nightly');
    await form.getByLabel('Schedule (UTC)').fill('0 25 * * *');
    await form.getByRole('button', { name: 'Add cron job' }).click();
    await form.getByText(/the hour field \(field 2\) "25", at column 3: 25 is out of range/).waitFor();

    await form.getByLabel('Schedule (UTC)').fill('0 3 * * *');
    await form.getByRole('button', { name: 'Add cron job' }).click();
    const row = section.getByRole('listitem', { name: 'Cron job nightly' });
    await row.waitFor();
    await row.getByText(/next: \d{4}-\d\d-\d\d 03:00 UTC/).waitFor();
    await row.getByText('last: never').waitFor();
    expect(await row.locator('.tag').first().textContent()).toBe('main');
    const stored = (await api<Cron>(`/api/repos/${slug}/cron/nightly`)).body;
    expect(stored).toMatchObject({ name: 'nightly', expr: '0 3 * * *', branch: 'main', disabled: false });
    await h.screenshot(page, 'cron-jobs');

    await row.getByRole('button', { name: 'Disable nightly' }).click();
    await row.getByText('next: never (disabled)').waitFor();
    expect((await api<Cron>(`/api/repos/${slug}/cron/nightly`)).body).toMatchObject({ disabled: true, next: 0 });
    await row.getByRole('button', { name: 'Enable nightly' }).click();
    await row.getByText(/next: \d{4}-\d\d-\d\d 03:00 UTC/).waitFor();
    expect((await api<Cron>(`/api/repos/${slug}/cron/nightly`)).body.disabled).toBe(false);

    await row.getByRole('button', { name: 'Run nightly now' }).click();
    const link = section.getByRole('status').getByRole('link', { name: /build #\d+/ });
    await link.waitFor();
    await link.click();
    await page.getByRole('region', { name: /Log of step show/ }).getByText('cron job nightly', { exact: true }).waitFor({ timeout: PATIENCE_MS });
    await page.locator('.build-head .status-pill[data-status="success"]').waitFor({ timeout: PATIENCE_MS });

    await page.goto(`/${slug}/settings`);
    page.once('dialog', (dialog) => void dialog.accept());
    await section.getByRole('button', { name: 'Delete nightly' }).click();
    await section.getByText('No cron jobs yet.').waitFor();
    expect((await api(`/api/repos/${slug}/cron/nightly`)).status).toBe(404);
  }, 240_000);
});
