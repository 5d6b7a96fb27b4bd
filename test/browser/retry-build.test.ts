// Retrying a failed build in place from its page: "Retry failed" runs the failed stage again
// on the real runner in the same build, and the stage's switch shows each attempt's steps and log.
import { describe, expect, it } from 'vitest';
import type { Build } from '../../core/domain.ts';
import { flakyPipeline, MARKER_RELEASED, MARKER_SECRET, MARKER_WITHHELD } from '../support/flaky-pipeline.ts';
import { PATIENCE_MS, useUiHarness } from './ui-harness.ts';

const PIPELINE = `${flakyPipeline('flaky')}---
kind: pipeline
type: docker
name: steady
steps:
- name: alone
  image: alpine:3
  commands: [echo steady-runs]
`;

describe('retrying a build on its page', () => {
  const harness = useUiHarness();

  it('retries the failed stage with "Retry failed" and switches between its attempts', async () => {
    const h = harness();
    const slug = 'octocat/retry-me';
    h.addRepo(slug, { 'README.md': '# hello\n', '.drone.yml': PIPELINE });
    await h.activate(slug);
    expect((await h.api(`/api/repos/${slug}/secrets`, 'POST', { name: MARKER_SECRET, data: MARKER_WITHHELD })).status).toBe(200);
    const pushed = await h.push(slug, { 'a.txt': 'a' }, 'Flaky at first');
    // Throws with the build should it end otherwise.
    await h.waitForBuild(slug, pushed.number, (b) => b.status === 'failure', PATIENCE_MS * 3);
    expect((await h.api(`/api/repos/${slug}/secrets/${MARKER_SECRET}`, 'PATCH', { data: MARKER_RELEASED })).status).toBe(200);

    const { page } = await h.session();
    await page.goto(`/${slug}/${pushed.number}/1/2`);
    const log = page.getByRole('region', { name: /Log of step check/ });
    await log.getByText('flaky-fails', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Retry failed' }).click();
    await page.locator('.build-head .status-pill[data-status="success"]').waitFor({ timeout: PATIENCE_MS * 3 });
    await log.getByText('flaky-passes', { exact: true }).waitFor({ timeout: PATIENCE_MS });
    expect(page.url()).toContain(`/${slug}/${pushed.number}/`);

    const attempts = page.getByRole('group', { name: 'Attempts of flaky' });
    await attempts.getByRole('button', { name: 'Attempt 1', exact: true }).click();
    await log.getByText('flaky-fails', { exact: true }).waitFor();
    expect(await log.getByText('flaky-passes', { exact: true }).count()).toBe(0);
    expect(await attempts.getByRole('button', { name: 'Attempt 1', exact: true }).getAttribute('aria-pressed')).toBe('true');
    await h.screenshot(page, 'build-retried-attempt-1');
    await attempts.getByRole('button', { name: 'Attempt 2 (latest)' }).click();
    await log.getByText('flaky-passes', { exact: true }).waitFor();
    // The stage that passed was not retried: no switch, one attempt.
    expect(await page.getByRole('group', { name: 'Attempts of steady' }).count()).toBe(0);
    const after = await h.api<Build>(`/api/repos/${slug}/builds/${pushed.number}`);
    expect(after.body.stages!.map((s) => [s.name, s.attempt])).toEqual([
      ['flaky', 2],
      ['steady', 1],
    ]);
  }, 400_000);
});
