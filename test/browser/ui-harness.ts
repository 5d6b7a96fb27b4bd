// The web UI against the real thing: `harrier server` and `harrier runner` as processes,
// the GitHub stand-in (its OAuth page sends the browser straight back), a real git
// repository, Docker, and headless Chromium from Debian driven by playwright-core.
// One harness per test file: starting Chromium and the processes costs a few seconds.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Build } from '../../core/domain.ts';
import { startGithubFake, type GithubFake } from '../fakes/github-api.ts';
import { LocalGitRepo } from '../fakes/local-git-repo.ts';
import { startHarrierPair, type HarrierProcess } from '../support/processes.ts';
import { providerEnv } from '../support/server.ts';

export const CHROMIUM = process.env.HARRIER_TEST_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.resolve(import.meta.dirname, '../../test-artifacts/screenshots');

// Flags for a machine without a network beyond loopback: no background requests to Google's hosts.
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

/** A round avatar as a data URL, so pages look as they would with a provider's avatar and need no network. */
export const AVATAR =
  'data:image/svg+xml,' +
  encodeURIComponent('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40"><rect width="40" height="40" fill="#8250df"/><circle cx="20" cy="16" r="7" fill="#fff"/><path d="M7 36c2-8 8-11 13-11s11 3 13 11z" fill="#fff"/></svg>');

export interface UiHarness {
  host: string;
  slug: string;
  git: LocalGitRepo;
  fake: GithubFake;
  server: HarrierProcess;
  runner: HarrierProcess;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Errors the page threw or logged (failed resource loads aside). */
  pageErrors: string[];
  /** Commits and delivers the push webhook; the build the server answered with. */
  push(files: Record<string, string | null>, message: string): Promise<Build>;
  /** A REST call with the browser's session (cookies), as the page makes it. */
  api<T = any>(path: string, method?: string): Promise<{ status: number; body: T }>;
  /** Saves test-artifacts/screenshots/{name}.png; fullPage takes the whole scrolled page. */
  screenshot(name: string, opts?: { page?: Page; fullPage?: boolean }): Promise<string>;
  close(): Promise<void>;
}

export interface UiHarnessOptions {
  /** The repository's first commit. */
  files: Record<string, string>;
  slug?: string;
}

export async function startUiHarness(opts: UiHarnessOptions): Promise<UiHarness> {
  const slug = opts.slug ?? 'octocat/hello-world';
  const git = new LocalGitRepo();
  git.commit(opts.files, 'Initial commit');
  const fake = await startGithubFake({ fixtureRepos: false, user: { avatarUrl: AVATAR } });
  fake.addRepo({ slug, gitDir: git.dir, private: true, permissions: { admin: true, push: true, pull: true } });
  const harrier = await startHarrierPair({
    name: 'ui',
    serverEnv: { HARRIER_DATABASE_SECRET: randomBytes(32).toString('hex'), ...providerEnv({ github: fake }) },
    // A test's last build may still run when the harness closes; nothing needs it to finish.
    runnerEnv: { HARRIER_RUNNER_CAPACITY: '2', HARRIER_RUNNER_GRACE_SECONDS: '2' },
  });
  const { host, server, runner } = harrier;
  const [browser] = await Promise.all([
    chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }),
    harrier.listening,
  ]);
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, baseURL: host, acceptDownloads: true });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  const watch = (p: Page) => {
    p.on('pageerror', (err) => pageErrors.push(`${p.url()}: ${err.message}`));
    p.on('console', (m) => {
      if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) pageErrors.push(`${p.url()}: ${m.text()}`);
    });
  };
  watch(page);
  context.on('page', watch);
  fs.mkdirSync(SCREENSHOTS, { recursive: true });

  return {
    host,
    slug,
    git,
    fake,
    server,
    runner,
    browser,
    context,
    page,
    pageErrors,
    async push(files, message) {
      const sha = git.commit(files, message);
      const [res] = await fake.push(slug, { after: sha });
      if (!res || res.status !== 200) throw new Error(`the push webhook was answered ${res?.status}: ${await res?.text()}`);
      return (await res.json()) as Build;
    },
    async api(p, method = 'GET') {
      const res = await context.request.fetch(`${host}${p}`, { method, headers: { Origin: host } });
      const text = await res.text();
      return { status: res.status(), body: text ? JSON.parse(text) : undefined };
    },
    async screenshot(name, opts = {}) {
      const file = path.join(SCREENSHOTS, `${name}.png`);
      await (opts.page ?? page).screenshot({ path: file, fullPage: opts.fullPage ?? false });
      return file;
    },
    async close() {
      await browser.close().catch(() => undefined);
      await harrier.stop();
      await fake.close();
      fs.rmSync(git.dir, { recursive: true, force: true });
    },
  };
}
