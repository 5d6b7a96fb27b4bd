// A person's way through the web UI, in headless Chromium against real server and
// runner processes: sign in by clicking, activate a repository, review and edit the
// pipeline its language settings propose, manage secrets, push, watch the log arrive live,
// cancel a running build and restart it, sign out. The processes and Chromium are shared;
// each test adds its own repository, opens its own browser session and makes its own builds,
// so any one of them runs alone (`npm test -- -t "cancels a running build"`).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Build } from '../../core/domain.ts';
import { PATIENCE_MS, startUiHarness, type UiHarness } from './ui-harness.ts';

// Functions given to page.waitForFunction run in the browser; the tests' tsconfig has no DOM types.
declare const document: any;

const README = '# hello\n';
const PACKAGE_JSON = JSON.stringify({ name: 'hello-world', version: '1.0.0', scripts: { test: 'node test.js' } }, null, 2) + '\n';
/** A Node.js project without a pipeline file: activating it proposes one. */
const NODE_PROJECT = { 'README.md': README, 'package.json': PACKAGE_JSON };

// The file the slow step waits for: the test writes it once it has seen the first line,
// so "the first line is there before the last" holds however long the test takes to look.
const GO_ON = 'go-on';

// What the tests save as the proposal: the stand-in images have no Node.js, only busybox.
const PROPOSAL = `kind: pipeline
type: docker
name: default

steps:
- name: test
  image: alpine:3
  commands:
  - sh ci/report.sh
- name: slow
  image: alpine:3
  commands:
  - echo first
  - for i in $(seq 12000); do [ -e ${GO_ON} ] && break; sleep 0.1; done
  - echo second
`;

// What a test runner prints, in colour: the page's screenshot in docs/ shows it.
const REPORT_SH = [
  "printf '\\033[1mRunning 4 test files\\033[0m\\n\\n'",
  "printf ' \\033[30;42m PASS \\033[0m pipeline/parse.test.ts \\033[90m(38 tests, 41 ms)\\033[0m\\n'",
  "printf ' \\033[30;42m PASS \\033[0m pipeline/compile.test.ts \\033[90m(22 tests, 65 ms)\\033[0m\\n'",
  "printf ' \\033[30;42m PASS \\033[0m server/trigger.test.ts \\033[90m(17 tests, 212 ms)\\033[0m\\n'",
  "printf ' \\033[30;43m SKIP \\033[0m runner/gpu.test.ts \\033[38;5;208mno runner with gpu=yes\\033[0m\\n\\n'",
  "printf '\\033[1mTests:\\033[0m \\033[1;32m77 passed\\033[0m, \\033[33m1 skipped\\033[0m, \\033[1;31m0 failed\\033[0m\\n'",
  "printf '\\033[1mTime:\\033[0m  0.318 s\\n'",
].join('\n') + '\n';

// Runs until cancelled (the test cancels it; endTest does when the test fails first), at most 20 minutes.
const LONG_RUNNING = `kind: pipeline
type: docker
name: default

steps:
- name: wait
  image: alpine:3
  commands:
  - echo waiting for a cancel
  - sleep 1200
  - echo never printed
`;

const TWO_STEPS = `kind: pipeline
type: docker
name: default

steps:
- name: build
  image: alpine:3
  commands:
  - echo built
- name: test
  image: alpine:3
  commands:
  - echo tested
`;

describe('the web UI', () => {
  let h: UiHarness;
  beforeAll(async () => {
    h = await startUiHarness();
  }, 120_000);
  afterEach(async () => {
    // Each test's pages must not throw; checked here so that a failing test does not hide the others' errors.
    const errors = await h?.endTest();
    expect(errors ?? []).toEqual([]);
  });
  afterAll(async () => {
    await h?.close();
  });

  /** Adds the repository and activates it, as a test that starts from an active repository needs. */
  async function activeRepo(slug: string, files: Record<string, string> = { 'README.md': README }): Promise<string> {
    h.addRepo(slug, files);
    await h.activate(slug);
    return slug;
  }

  it('serves the app for client routes and leaves the server paths alone', async () => {
    const page = await fetch(`${h.host}/octocat/hello-world/12`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain('<div id="root">');
    const api = await fetch(`${h.host}/api/nothing-here`);
    expect(api.status).toBe(404);
    expect(await api.json()).toHaveProperty('message');
    const login = await fetch(`${h.host}/login/nowhere`, { redirect: 'manual' });
    expect(login.headers.get('content-type') ?? '').not.toMatch(/text\/html/);
  });

  it('signs in by clicking the provider and lists the repositories', async () => {
    h.addRepo('octocat/spoon-knife', { 'README.md': README });
    const { page } = await h.session({ signedIn: false });
    await page.goto('/');
    const signIn = page.getByRole('link', { name: 'Sign in with GitHub' });
    await signIn.waitFor();
    // Only GitHub is configured, so only GitHub is offered.
    expect(await page.getByRole('link', { name: 'Sign in with Bitbucket' }).count()).toBe(0);
    await h.screenshot(page, 'sign-in');
    await signIn.click();
    await page.getByRole('heading', { name: 'Repositories' }).waitFor({ timeout: PATIENCE_MS });
    await page.getByText('spoon-knife').waitFor();
    await h.screenshot(page, 'repositories');
    await page.getByLabel('Filter repositories').fill('nothing-like-this');
    await page.getByText('No repository matches').waitFor();
    await page.getByLabel('Filter repositories').fill('spoon');
    await page.getByRole('button', { name: 'Activate octocat/spoon-knife' }).waitFor();
  });

  it('activates the repository and shows the pipeline its language proposes, with errors next to the editor', async () => {
    const slug = 'octocat/node-app';
    h.addRepo(slug, NODE_PROJECT);
    const { page, api } = await h.session();
    await page.goto('/');
    await page.getByRole('button', { name: `Activate ${slug}` }).click();
    await page.waitForURL(new RegExp(`/${slug}/settings$`));
    await expectText(page.getByTestId('detected-language'), 'Node.js');
    await page.getByText('The repository has no').waitFor();
    const editor = page.getByRole('textbox', { name: 'Proposed pipeline' });
    expect(await editor.inputValue()).toContain('npm');
    expect(h.fake.state.hooks.items.filter((hook) => hook.repo === slug && !hook.deleted)).toHaveLength(1);
    await h.screenshot(page, 'settings', { fullPage: true });

    // A broken proposal is refused with the file, line and column of each problem.
    await editor.fill('kind: pipeline\ntype: docker\nname: default\nsteps:\n- name: x\n  commands: [true]\n');
    await page.getByRole('button', { name: 'Save pipeline' }).click();
    const problems = page.getByRole('list', { name: 'Pipeline problems' });
    await problems.waitFor();
    expect(await problems.textContent()).toMatch(/\.drone\.yml:\d+:\d+/);
    await h.screenshot(page, 'settings-pipeline-errors');

    await editor.fill(PROPOSAL);
    await page.getByRole('button', { name: 'Save pipeline' }).click();
    await page.getByText('Saved', { exact: true }).waitFor();
    const saved = await api(`/api/repos/${slug}/language`);
    expect(saved.body.proposal).toBe(PROPOSAL);
  }, 120_000);

  it('adds, updates and deletes a secret without ever showing its value, and offers the status badge', async () => {
    const slug = await activeRepo('octocat/secret-keeper');
    const { page, api } = await h.session();
    await page.goto(`/${slug}/settings`);
    await page.getByRole('button', { name: 'Add a secret' }).click();
    await page.getByLabel('Name').fill('DEPLOY_TOKEN');
    await page.getByLabel('Value').fill('hunter2');
    await page.getByLabel('Available to pull requests from forks').check();
    await page.getByRole('button', { name: 'Add secret' }).click();
    const secrets = page.getByRole('list', { name: 'Secrets' });
    await secrets.getByText('DEPLOY_TOKEN').waitFor();
    await secrets.getByText('fork pull requests too').waitFor();
    const stored = await api(`/api/repos/${slug}/secrets`);
    expect(stored.body.map((x: any) => [x.name, x.pull_request])).toEqual([['DEPLOY_TOKEN', true]]);
    expect(JSON.stringify(stored.body)).not.toContain('hunter2');
    await h.screenshot(page, 'settings-secrets');

    await page.getByRole('button', { name: 'Update DEPLOY_TOKEN' }).click();
    await page.getByLabel('Available to pull requests from forks').uncheck();
    await page.getByRole('button', { name: 'Save', exact: true }).last().click();
    await secrets.getByText('not for fork pull requests').waitFor();

    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Delete DEPLOY_TOKEN' }).click();
    await page.getByText('No secrets yet.').waitFor();

    const badge = page.getByRole('img', { name: `Build status of ${slug}` });
    await page.waitForFunction(() => document.querySelector('.badge-row img')?.naturalWidth > 0);
    expect(await badge.count()).toBe(1);
    expect(await page.getByLabel('Markdown for a README').inputValue()).toBe(
      `[![Build status](${h.host}/api/badges/${slug}/status.svg?ref=main)](${h.host}/${slug})`,
    );
  }, 120_000);

  it('shows a pushed build appear in the list and its log arrive live, coloured, while the step runs', async () => {
    // docs/build-page.png shows this repository's build: the name and the proposal notice are part of the picture.
    const slug = await activeRepo('octocat/hello-world', NODE_PROJECT);
    await h.saveProposal(slug, PROPOSAL);
    const { page } = await h.session();
    await page.goto(`/${slug}`);
    await page.getByText(`No builds yet — push a commit to ${slug}`).waitFor();
    await h.screenshot(page, 'builds-empty');

    const build = await h.push(slug, { 'src/index.js': 'console.log(1)\n', 'ci/report.sh': REPORT_SH }, 'Add the entry point and a test report');
    expect(build.config_source).toBe('proposal');
    // The row arrives through the repository's event stream, without a reload.
    const row = page.getByRole('link', { name: new RegExp(`#${build.number} Add the entry point and a test report`) });
    await row.waitFor({ timeout: PATIENCE_MS });
    await row.click();
    await page.waitForURL(new RegExp(`/${slug}/${build.number}$`));

    // The running step is shown by itself; its first line is there before its last, which waits for the test.
    const log = page.getByRole('region', { name: /Log of step slow/ });
    await log.getByText('first', { exact: true }).waitFor({ timeout: PATIENCE_MS });
    expect(await log.getByText('second', { exact: true }).count()).toBe(0);
    await h.screenshot(page, 'build-running');
    const running = await h.waitForBuild(slug, build.number, (b) => b.stages?.[0]?.status === 'running');
    h.release(running.stages![0].id, GO_ON);
    await log.getByText('second', { exact: true }).waitFor({ timeout: PATIENCE_MS });
    await page.locator('.build-head .status-pill[data-status="success"]').waitFor({ timeout: PATIENCE_MS });
    // Lines came once each, though the page fetched the log and then streamed it.
    const lines = await log.locator('.log-line .lt').allTextContents();
    expect(lines).toEqual(['+ echo first', 'first', `+ for i in $(seq 12000); do [ -e ${GO_ON} ] && break; sleep 0.1; done`, '+ echo second', 'second']);

    await page.getByRole('link', { name: /^test/ }).click();
    const report = page.getByRole('region', { name: /Log of step test/ });
    await expectText(report.locator('.fg-0.bg-2').first(), 'PASS');
    await expectText(report.locator('.fg-1.ansi-bold').first(), '0 failed');
    expect(await report.locator('span[style*="color"]', { hasText: 'no runner with gpu=yes' }).count()).toBe(1);
    // docs/build-page.png, the README's picture of the build page, is a copy of this screenshot.
    await h.screenshot(page, 'build-finished');
  }, 180_000);

  it('cancels a running build and restarts it', async () => {
    const slug = await activeRepo('octocat/long-wait');
    const { page, api } = await h.session();
    const build = await h.push(slug, { '.drone.yml': LONG_RUNNING }, 'Wait for a long time');
    await page.goto(`/${slug}/${build.number}`);
    const log = page.getByRole('region', { name: /Log of step wait/ });
    await log.getByText('waiting for a cancel', { exact: true }).waitFor({ timeout: PATIENCE_MS });
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('.build-head .status-pill[data-status="killed"]').waitFor({ timeout: PATIENCE_MS });
    await h.screenshot(page, 'build-cancelled');

    await page.getByRole('button', { name: 'Restart' }).click();
    await page.waitForURL(new RegExp(`/${slug}/${build.number + 1}$`));
    await page.getByText(`restart of #${build.number}`).waitFor();
    await page.getByRole('region', { name: /Log of step wait/ }).getByText('waiting for a cancel', { exact: true }).waitFor({ timeout: PATIENCE_MS });
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('.build-head .status-pill[data-status="killed"]').waitFor({ timeout: PATIENCE_MS });
    const list = await api<Build[]>(`/api/repos/${slug}/builds`);
    expect(list.body.map((b) => [b.number, b.status])).toEqual([
      [build.number + 1, 'killed'],
      [build.number, 'killed'],
    ]);
    await page.getByRole('link', { name: 'Builds', exact: true }).click();
    await page.locator('.build-row').nth(1).waitFor();
    await h.screenshot(page, 'builds');
  }, 180_000);

  it('shows each repository\'s last build on the repositories page: status, number, branch and when, linked to the build', async () => {
    const slug = await activeRepo('octocat/last-build');
    const { page } = await h.session();
    const pushed = await h.push(slug, { '.drone.yml': TWO_STEPS }, 'Build and test');
    const build = await h.waitForBuild(slug, pushed.number, (b) => b.status === 'success');
    await page.goto('/');
    const last = page.locator('.repo-row', { hasText: 'last-build' }).getByRole('link', { name: new RegExp(`^Passed #${build.number} main `) });
    await last.waitFor({ timeout: PATIENCE_MS });
    expect(await last.getAttribute('title')).toBe(`Last build of ${slug}`);
    expect(await last.locator('time').getAttribute('datetime')).toBe(new Date((build.started || build.created) * 1000).toISOString());
    // A repository never built shows none.
    h.addRepo('octocat/never-built', { 'README.md': README });
    await page.getByRole('button', { name: 'Sync' }).click();
    await page.getByText('never-built').waitFor({ timeout: PATIENCE_MS });
    expect(await page.locator('.repo-row', { hasText: 'never-built' }).locator('.repo-last-build').count()).toBe(0);
    await h.screenshot(page, 'repositories-last-build');
    await last.click();
    await page.waitForURL(new RegExp(`/${slug}/${build.number}$`));
    await page.locator('.build-head .status-pill[data-status="success"]').waitFor({ timeout: PATIENCE_MS });
  }, 180_000);

  it('works from the keyboard: the skip link, then a step chosen with Tab and Enter', async () => {
    const slug = await activeRepo('octocat/keyboard');
    const build = await h.push(slug, { '.drone.yml': TWO_STEPS }, 'Build and test');
    await h.waitForBuild(slug, build.number, (b) => b.status === 'success', 120_000);
    const { page } = await h.session();
    await page.goto(`/${slug}/${build.number}`);
    await page.getByRole('region', { name: /Log of step/ }).waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(`document.activeElement.textContent`)).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(`document.activeElement.id`)).toBe('content');
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press('Tab');
      if ((await page.evaluate(`document.activeElement.dataset.step ?? ''`)) === 'test') break;
    }
    await h.screenshot(page, 'keyboard-focus');
    await page.keyboard.press('Enter');
    // Stage 1, step 3: the clone, then build, then test.
    await page.waitForURL(new RegExp(`/${slug}/${build.number}/1/3$`));
    await page.getByRole('region', { name: /Log of step test/ }).waitFor();
  }, 180_000);

  it('says why a pending stage waits', async () => {
    const slug = await activeRepo('octocat/needs-gpu');
    const gpu = LONG_RUNNING.replace('name: default\n', 'name: default\nnode:\n  gpu: "yes"\n');
    const build = await h.push(slug, { '.drone.yml': gpu }, 'Needs a GPU');
    const { page } = await h.session();
    await page.goto(`/${slug}/${build.number}`);
    const waiting = page.locator('.stage-waiting');
    await waiting.waitFor();
    expect(await waiting.textContent()).toMatch(/gpu=yes/);
    await h.screenshot(page, 'build-waiting');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('.build-head .status-pill[data-status="killed"]').waitFor();
  });

  it('shows the runners and what they run', async () => {
    const { page } = await h.session();
    await page.goto('/');
    await page.getByRole('link', { name: 'Runners' }).click();
    await page.getByRole('cell', { name: /online/ }).waitFor({ timeout: PATIENCE_MS });
    await h.screenshot(page, 'runners');
  });

  it('deactivates the repository, and shows the provider\'s refusal when activating it again is not allowed', async () => {
    const slug = 'octocat/short-lived';
    const { remote } = h.addRepo(slug, { 'README.md': README });
    await h.activate(slug);
    const { page } = await h.session();
    await page.goto(`/${slug}/settings`);
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: `Deactivate ${slug}` }).click();
    await page.waitForURL(`${h.host}/`);
    expect(h.fake.state.hooks.items.filter((hook) => hook.repo === slug && !hook.deleted)).toHaveLength(0);

    // GitHub no longer lets this user manage the repository's hooks.
    remote.permissions.admin = false;
    await page.getByRole('button', { name: `Activate ${slug}` }).click();
    const refusal = page.getByRole('alert').filter({ hasText: 'GitHub refused' });
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain(`check that you are an admin of ${slug}`);
    await h.screenshot(page, 'repositories-refused');
  });

  it('signs out', async () => {
    const { page, api } = await h.session();
    await page.goto('/');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in with GitHub' }).waitFor();
    expect((await api('/api/user')).status).toBe(401);
  });
});

async function expectText(locator: import('playwright-core').Locator, text: string): Promise<void> {
  await locator.waitFor();
  expect((await locator.textContent())?.trim()).toBe(text);
}
