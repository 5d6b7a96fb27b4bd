// The Deliveries tab of a repository's settings, against a `harrier server` process and the
// GitHub stand-in, without a runner (what a delivery becomes is a build, not a run): an admin
// sees each webhook delivery and what became of it (built as #N linked to the build, ignored
// and why, failed with GitHub's error), redelivers one and watches it become a new build
// without reloading, pages with Older and Newer; the list stops polling once the tab is left;
// others are told why they see nothing.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { MAX_ATTEMPTS } from '../../server/deliveries/delivery-workers.ts';
import { githubPushPayload } from '../fakes/github-payloads.ts';
import { awaitListedDelivery, storedDeliveryId } from '../support/deliveries.ts';
import { oneStepPipeline } from '../support/fleet.ts';
import { PATIENCE_MS, useUiHarness, type UiHarness, type UiRepo } from './ui-harness.ts';

const PIPELINE = oneStepPipeline('greet', ['echo delivered']);

describe('the Deliveries tab of the settings page', () => {
  const harness = useUiHarness({ runner: false });

  async function activeRepo(h: UiHarness, slug: string): Promise<UiRepo> {
    const repo = h.addRepo(slug, { 'README.md': '# deliveries\n', '.drone.yml': PIPELINE });
    await h.activate(slug);
    return repo;
  }

  /** Commits and delivers the push without waiting for what becomes of it: the stored delivery's id. */
  async function pushOnly(h: UiHarness, repo: UiRepo, files: Record<string, string>, message: string): Promise<number> {
    const sha = repo.git.commit(files, message);
    const [res] = await h.fake.push(repo.slug, { after: sha });
    return storedDeliveryId(res.status, await res.text());
  }

  const row = (page: Page, id: number) => page.locator(`.delivery-row[data-delivery="${id}"]`);

  it('shows built, ignored and failed deliveries, stops polling once left, and redelivers a failed one into a new build', async () => {
    const h = harness();
    const slug = 'octocat/deliveries-tab';
    const repo = await activeRepo(h, slug);
    const built = await h.push(slug, { 'a.txt': 'a' }, 'Builds');

    const { page } = await h.session();
    const polls: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes(`/api/repos/${slug}/deliveries`)) polls.push(r.url());
    });
    await page.goto(`/${slug}/settings`);
    await page.getByRole('navigation', { name: `Settings of ${slug}` }).getByRole('link', { name: 'Deliveries', exact: true }).click();
    await page.waitForURL(`**/${slug}/settings/deliveries`);
    const list = page.getByRole('list', { name: `Deliveries of ${slug}` });
    await list.waitFor();
    expect(await list.getByRole('listitem').count()).toBe(1);
    // Built: linked to its build.
    const builtRow = list.locator('.delivery-row[data-status="built"]');
    await builtRow.getByText(`built as #${built.number}`).waitFor();
    expect(await builtRow.getByRole('link', { name: `#${built.number}` }).getAttribute('href')).toBe(`/${slug}/${built.number}`);
    expect(await builtRow.locator('.tag').textContent()).toBe('push');

    // GitHub answers 502 to every read of the pipeline file until the test says otherwise; the
    // delivery is tried again after 1, 2, 4 and 8 s, so it is still in hand when the page is read again.
    h.fake.state.failContents = 1_000;
    const failing = await pushOnly(h, repo, { 'c.txt': 'c' }, 'GitHub is down');
    await page.reload();
    await row(page, failing).waitFor();
    expect(['pending', 'running']).toContain(await row(page, failing).getAttribute('data-status'));
    expect(await row(page, failing).getByRole('button', { name: `Redeliver delivery ${failing}` }).isDisabled()).toBe(true);
    await h.screenshot(page, 'deliveries-in-hand');

    // Leaving the tab while a delivery is in hand stops the polling.
    await page.getByRole('navigation', { name: `Settings of ${slug}` }).getByRole('link', { name: 'General', exact: true }).click();
    await page.getByRole('heading', { name: 'General', exact: true }).waitFor();
    const pollsWhenLeft = polls.length;
    // While GitHub fails, deliveries that read no file from it are handled: the ignored ones the tab shows next.
    const skipped = await pushOnly(h, repo, { 'b.txt': 'b' }, 'Docs only [skip ci]');
    expect(await awaitListedDelivery(h.api, slug, skipped, PATIENCE_MS)).toMatchObject({ status: 'ignored', build: null });
    // A branch deletion is stored as ignored when it arrives.
    const [deletion] = await h.fake.deliver(slug, 'push', githubPushPayload({ repo: repo.remote, after: built.after, ref: 'refs/heads/old-feature', deleted: true }));
    expect(deletion.status).toBe(200);
    const deletionId = ((await deletion.json()) as { id: number }).id;
    const failed = await awaitListedDelivery(h.api, slug, failing, 120_000);
    expect(failed.status).toBe('failed');
    expect(polls.slice(pollsWhenLeft)).toEqual([]);

    // Back on the tab: the failure with GitHub's error, and the ignored ones and why.
    await page.getByRole('navigation', { name: `Settings of ${slug}` }).getByRole('link', { name: 'Deliveries', exact: true }).click();
    const failedOutcome = row(page, failing).locator('.delivery-outcome');
    await failedOutcome.waitFor();
    expect(await list.getByRole('listitem').count()).toBe(4);
    expect(await row(page, skipped).locator('.delivery-outcome').textContent()).toBe('ignored: the commit message asks to skip CI ([skip ci])');
    expect(await row(page, deletionId).locator('.delivery-outcome').textContent()).toMatch(/^ignored: .*deletes refs\/heads\/old-feature/);
    expect(await failedOutcome.textContent()).toMatch(new RegExp(`^failed: gave up after ${MAX_ATTEMPTS} attempts: GitHub answered GET .*contents.* with 502: Server Error`));
    await h.screenshot(page, 'deliveries-failed');

    // GitHub is back: Redeliver puts a new delivery at the top, which the tab follows until it is built.
    h.fake.state.failContents = 0;
    await row(page, failing).getByRole('button', { name: `Redeliver delivery ${failing}` }).click();
    const newest = list.getByRole('listitem').first();
    await newest.getByText(`redelivery of delivery ${failing}`).waitFor();
    const copy = Number(await newest.getAttribute('data-delivery'));
    expect(copy).toBeGreaterThan(failing);
    await page.locator(`.delivery-row[data-delivery="${copy}"][data-status="built"]`).waitFor({ timeout: PATIENCE_MS });
    const outcome = (await row(page, copy).locator('.delivery-outcome').textContent()) ?? '';
    const number = Number(/^built as #(\d+)$/.exec(outcome)?.[1]);
    expect(number).toBeGreaterThan(built.number);
    expect(await list.getByRole('listitem').count()).toBe(5);
    await h.screenshot(page, 'deliveries-redelivered');

    // The link opens the build the redelivery made, of the commit GitHub failed to serve.
    await row(page, copy).getByRole('link', { name: `#${number}` }).click();
    await page.waitForURL(`**/${slug}/${number}`);
    await page.locator('.build-head').getByText('GitHub is down').waitFor();
  }, 300_000);

  it('pages through the deliveries with Older and Newer', async () => {
    const h = harness();
    const slug = 'octocat/deliveries-pages';
    const repo = await activeRepo(h, slug);
    const head = repo.git.commit({ 'd.txt': 'd' }, 'A commit to delete branches at');
    // 26 branch deletions, ignored as they arrive: one more than a page.
    for (let i = 0; i < 26; i++) {
      const [res] = await h.fake.deliver(slug, 'push', githubPushPayload({ repo: repo.remote, after: head, ref: `refs/heads/gone-${i}`, deleted: true }));
      expect(res.status).toBe(200);
    }
    const { page } = await h.session();
    await page.goto(`/${slug}/settings/deliveries`);
    const list = page.getByRole('list', { name: `Deliveries of ${slug}` });
    const pager = page.getByRole('navigation', { name: 'Pages of deliveries' });
    await list.waitFor();
    expect(await list.getByRole('listitem').count()).toBe(25);
    expect(await list.getByRole('listitem').first().locator('.delivery-outcome').textContent()).toMatch(/refs\/heads\/gone-25\b/);
    expect(await pager.getByRole('button', { name: 'Newer' }).isDisabled()).toBe(true);

    await pager.getByRole('button', { name: 'Older' }).click();
    await pager.getByText('Page 2').waitFor();
    await list.getByRole('listitem').filter({ hasText: 'refs/heads/gone-0' }).waitFor();
    expect(await list.getByRole('listitem').count()).toBe(1);
    expect(await pager.getByRole('button', { name: 'Older' }).isDisabled()).toBe(true);

    await pager.getByRole('button', { name: 'Newer' }).click();
    await pager.getByText('Page 1').waitFor();
    await list.getByRole('listitem').filter({ hasText: /refs\/heads\/gone-25\b/ }).waitFor();
    expect(await list.getByRole('listitem').count()).toBe(25);
  }, 120_000);

  it('tells a user without admin permission that the deliveries are for admins', async () => {
    const h = harness();
    const slug = 'octocat/deliveries-not-admin';
    await activeRepo(h, slug);
    // GitHub now gives the user write permission only; signing in again brings that to Harrier.
    h.fake.repo(slug)!.permissions = { admin: false, push: true, pull: true };
    const { page } = await h.session();
    await page.goto(`/${slug}/settings`);
    await page.getByText('changing them needs admin permission').waitFor();
    expect(await page.getByRole('link', { name: 'Deliveries', exact: true }).count()).toBe(0);

    await page.goto(`/${slug}/settings/deliveries`);
    const alert = page.getByRole('alert').filter({ hasText: `Only admins of ${slug} see its deliveries` });
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/you need admin permission on/);
    expect(await page.getByRole('list', { name: `Deliveries of ${slug}` }).count()).toBe(0);
  }, 120_000);
});
