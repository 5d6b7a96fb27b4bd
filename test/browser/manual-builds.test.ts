// Starting builds by hand in the web UI, run by the real runner: "New build" on the builds
// page with a branch and parameters opens the new custom build, whose step prints its
// parameter; "Promote" on a build page opens a promotion whose step prints its target,
// parent and parameter; a target no pipeline deploys to shows the server's refusal.
import { describe, expect, it } from 'vitest';
import type { Build } from '../../core/domain.ts';
import { PROMOTABLE_PIPELINE as PIPELINE } from '../support/promotable-pipeline.ts';
import { PATIENCE_MS, useUiHarness } from './ui-harness.ts';

describe('starting builds by hand in the web UI', () => {
  const harness = useUiHarness();

  it('starts a build of a branch with parameters, promotes it to production, and shows a refused target', async () => {
    const h = harness();
    const slug = 'octocat/by-hand';
    const { git } = h.addRepo(slug, { 'README.md': '# hello\n', '.drone.yml': PIPELINE });
    await h.activate(slug);
    const head = git.commit({ 'f.txt': 'f' }, 'On a branch, never pushed', 'feature');
    const { page, api } = await h.session();

    await page.goto(`/${slug}`);
    await page.getByRole('button', { name: 'New build' }).click();
    const form = page.getByRole('form', { name: 'New build' });
    expect(await form.getByLabel('Branch').inputValue()).toBe('main');
    await form.getByLabel('Branch').fill('feature');
    await form.getByLabel('Parameter 1 name').fill('GREETING');
    await form.getByLabel('Parameter 1 value').fill('hello from the form');
    await h.screenshot(page, 'new-build-form');
    await form.getByRole('button', { name: 'Start build' }).click();
    await page.waitForURL(new RegExp(`/${slug}/\\d+$`));
    const number = Number(new URL(page.url()).pathname.split('/').pop());
    const log = page.getByRole('region', { name: /Log of step show/ });
    await log.getByText('event=custom branch=feature', { exact: true }).waitFor({ timeout: PATIENCE_MS });
    await log.getByText('greeting=hello from the form', { exact: true }).waitFor();
    await page.locator('.build-head .status-pill[data-status="success"]').waitFor({ timeout: PATIENCE_MS });
    const manual = await api<Build>(`/api/repos/${slug}/builds/${number}`);
    expect(manual.body).toMatchObject({ event: 'custom', after: head, target: 'feature', params: { GREETING: 'hello from the form' } });

    await page.getByRole('button', { name: 'Promote' }).click();
    const promote = page.getByRole('form', { name: `Promote build ${number}` });
    await promote.getByLabel('Target').fill('staging');
    await promote.getByRole('button', { name: 'Roll back' }).click();
    await promote.getByRole('alert').filter({ hasText: 'no pipeline in .drone.yml runs for a rollback build of feature to target staging' }).waitFor();
    await promote.getByLabel('Target').fill('production');
    await promote.getByLabel('Parameter 1 name').fill('REGION');
    await promote.getByLabel('Parameter 1 value').fill('eu-west');
    await h.screenshot(page, 'promote-form');
    await promote.getByRole('button', { name: 'Promote' }).click();
    await page.waitForURL((url) => url.pathname !== `/${slug}/${number}`);
    await page.getByText(`promotion of #${number} to production`).waitFor();
    await page.getByRole('region', { name: /Log of step ship/ }).getByText(`event=promote deploy_to=production parent=${number} region=eu-west`, { exact: true }).waitFor({ timeout: PATIENCE_MS });
    await page.locator('.build-head .status-pill[data-status="success"]').waitFor({ timeout: PATIENCE_MS });
    await h.screenshot(page, 'promoted-build');
  }, 240_000);
});
