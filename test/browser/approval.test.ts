// A protected repository's builds wait for approval on the build page: a user with write
// permission sees why and approves (the build is then queued: the test takes its stage as a
// runner and reports its run, which the page shows) or declines (it never runs); a
// user without write permission sees why it waits and no buttons.
import { describe, expect, it } from 'vitest';
import type { Build, Repo } from '../../core/domain.ts';
import { finishStage, takeStage } from '../support/protocol-runner.ts';
import { oneStepPipeline } from '../support/fleet.ts';
import { PATIENCE_MS, useUiHarness, type UiHarness } from './ui-harness.ts';

const PIPELINE = oneStepPipeline('greet', ['echo approved and running']);

describe('approving builds on the build page', () => {
  // No runner process: the one build that runs is run by the test over the runner protocol.
  const harness = useUiHarness({ runner: false });

  async function protectedRepo(h: UiHarness, slug: string): Promise<void> {
    h.addRepo(slug, { 'README.md': '# hello\n', '.drone.yml': PIPELINE });
    await h.activate(slug);
    const patched = await h.api<Repo>(`/api/repos/${slug}`, 'PATCH', { protected: true });
    expect(patched.status).toBe(200);
  }

  it('approves a blocked build with the Approve button, and it runs', async () => {
    const h = harness();
    const slug = 'octocat/approve-me';
    await protectedRepo(h, slug);
    const build = await h.push(slug, { 'a.txt': 'a' }, 'Needs approval');
    expect(build.status).toBe('blocked');
    const { page } = await h.session();
    await page.goto(`/${slug}/${build.number}`);
    await page.locator('.build-head .status-pill[data-status="blocked"]').waitFor();
    await page.getByRole('status').filter({ hasText: 'This build waits for approval' }).waitFor();
    expect(await page.getByRole('status').filter({ hasText: 'waits for approval' }).textContent()).toMatch(/The repository is protected/);
    await h.screenshot(page, 'build-blocked');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByText(`approved by ${h.fake.state.user.login}`).waitFor();
    // Approved is queued: a runner asking for work gets this build's stage.
    const taken = await takeStage(h.host, h.rpcSecret);
    expect(taken.details.build.number).toBe(build.number);
    await finishStage(taken, 'success', { greet: ['approved and running'] });
    await page.getByRole('region', { name: /Log of step greet/ }).getByText('approved and running', { exact: true }).waitFor({ timeout: PATIENCE_MS });
    await page.locator('.build-head .status-pill[data-status="success"]').waitFor({ timeout: PATIENCE_MS });
    expect(await page.getByRole('button', { name: 'Approve' }).count()).toBe(0);
  }, 180_000);

  it('declines a blocked build with the Decline button, and it never runs', async () => {
    const h = harness();
    const slug = 'octocat/decline-me';
    await protectedRepo(h, slug);
    const build = await h.push(slug, { 'b.txt': 'b' }, 'Will be declined');
    const { page, api } = await h.session();
    await page.goto(`/${slug}/${build.number}`);
    await page.getByRole('button', { name: 'Decline' }).click();
    await page.locator('.build-head .status-pill[data-status="declined"]').waitFor();
    await page.getByText(`Declined by ${h.fake.state.user.login}: this build never ran.`).waitFor();
    await h.screenshot(page, 'build-declined');
    const after = await api<Build>(`/api/repos/${slug}/builds/${build.number}`);
    expect(after.body).toMatchObject({ status: 'declined', approved_by: h.fake.state.user.login, started: 0 });
    expect(after.body.stages!.every((s) => s.status === 'declined' && s.machine === '')).toBe(true);
    // A declined build is over: nothing to approve, and no Restart that would run it after all.
    for (const name of ['Approve', 'Decline', 'Restart']) expect(await page.getByRole('button', { name }).count()).toBe(0);
  }, 120_000);

  it('shows a user without write permission why the build waits, without the buttons', async () => {
    const h = harness();
    const slug = 'octocat/approve-not-yours';
    await protectedRepo(h, slug);
    const build = await h.push(slug, { 'c.txt': 'c' }, 'Readers look');
    // GitHub now gives the user read permission only; signing in again brings that to Harrier.
    const remote = h.fake.repo(slug)!;
    remote.permissions = { admin: false, push: false, pull: true };
    const { page } = await h.session();
    await page.goto(`/${slug}/${build.number}`);
    // Waited for: the page knows the user's permission only once the repository's answer arrives.
    await page.getByRole('status').filter({ hasText: 'A user with write permission on the repository can approve or decline it' }).waitFor();
    expect(await page.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Decline' }).count()).toBe(0);
  }, 120_000);
});
