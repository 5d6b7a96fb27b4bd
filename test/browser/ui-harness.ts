// The web UI against the real thing: `harrier server` and `harrier runner` as processes
// (a file whose builds need not run on Docker leaves the runner out), the GitHub stand-in (its OAuth page sends the browser straight back), real git
// repositories, Docker, and headless Chromium from Debian driven by playwright-core.
// One harness per test file: starting Chromium and the processes costs a few seconds.
// What a test changes is its own: it adds the repositories it needs, opens browser
// sessions that start signed out or freshly signed in, and endTest() closes them and
// cancels what the test left running, so any test runs alone and a failure stays in its test.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { isDone, type Build, type Repo } from '../../core/domain.ts';
import { startGithubFake, type FakeGithubRepo, type GithubFake } from '../fakes/github-api.ts';
import { LocalGitRepo } from '../fakes/local-git-repo.ts';
import { runnerWorkspaceDir } from '../../runner/runner.ts';
import { startHarrierPair, startHarrierServer, type HarrierProcess } from '../support/processes.ts';
import { providerEnv } from '../support/server.ts';
import { awaitDeliveredBuild, storedDeliveryId } from '../support/deliveries.ts';

export const CHROMIUM = process.env.HARRIER_TEST_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.resolve(import.meta.dirname, '../../test-artifacts/screenshots');

// Flags for a machine without a network beyond loopback: no background requests to Google's hosts.
// Without smooth scrolling a wheel turn has moved the view when its scroll event arrives, not some frames later.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-smooth-scrolling',
];

/** A round avatar as a data URL, so pages look as they would with a provider's avatar and need no network. */
export const AVATAR =
  'data:image/svg+xml,' +
  encodeURIComponent('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40"><rect width="40" height="40" fill="#8250df"/><circle cx="20" cy="16" r="7" fill="#fff"/><path d="M7 36c2-8 8-11 13-11s11 3 13 11z" fill="#fff"/></svg>');

export interface ApiAnswer<T> {
  status: number;
  body: T;
}

/** A browser context of its own (cookies, storage) and one page in it. */
export interface UiSession {
  context: BrowserContext;
  page: Page;
  /** Errors this session's pages threw or logged (failed resource loads aside). */
  errors: string[];
  /** A REST call with this session's cookies, as its page makes it. */
  api<T = any>(path: string, method?: string, data?: unknown): Promise<ApiAnswer<T>>;
}

export interface UiRepo {
  slug: string;
  git: LocalGitRepo;
  /** The stand-in's record of it: change `permissions` to change what GitHub allows. */
  remote: FakeGithubRepo;
}

export interface UiHarness {
  host: string;
  fake: GithubFake;
  server: HarrierProcess;
  /** The runner process; none when started with `runner: false`, where the test plays the runner (test/support/protocol-runner.ts). */
  runner: HarrierProcess | undefined;
  /** The server's HARRIER_RPC_SECRET, for a test that speaks the runner protocol itself. */
  rpcSecret: string;
  browser: Browser;
  /**
   * A private repository on the GitHub stand-in, the signed-in user its admin, whose first commit holds `files`.
   * endTest() cancels builds left unfinished in it, unless it is `shared`: set up once for the file's tests, in beforeAll.
   */
  addRepo(slug: string, files: Record<string, string>, opts?: { shared?: boolean }): UiRepo;
  /** Activates the repository through the REST API, as its Activate button does. */
  activate(slug: string): Promise<Repo>;
  /** Saves the pipeline the repository's language settings propose (built when a commit has no .drone.yml). */
  saveProposal(slug: string, pipeline: string): Promise<void>;
  /** Commits to the repository and delivers the push webhook; the build a worker made of the delivery. */
  push(slug: string, files: Record<string, string | null>, message: string): Promise<Build>;
  /** Polls the build until `until` holds for it; throws with the build when it ends or time runs out first. */
  waitForBuild(slug: string, number: number, until: (b: Build) => boolean, timeoutMs?: number): Promise<Build>;
  /**
   * Writes an empty `file` into the running stage's workspace, the working directory of its steps:
   * a step that waits for the file goes on when the test says so, however busy the machine.
   */
  release(stageId: number, file: string): void;
  /** A REST call with the harness's own session, for setting up and cleaning up rather than for what a test checks. */
  api<T = any>(path: string, method?: string, data?: unknown): Promise<ApiAnswer<T>>;
  /** A new browser session; signed in through the OAuth flow unless `signedIn` is false. Closed by endTest(). */
  session(opts?: { signedIn?: boolean }): Promise<UiSession>;
  /** Closes the sessions opened since the last call and cancels unfinished builds; the errors those sessions' pages had. */
  endTest(): Promise<string[]>;
  /** Saves test-artifacts/screenshots/{name}.png; fullPage takes the whole scrolled page. */
  screenshot(page: Page, name: string, opts?: { fullPage?: boolean }): Promise<string>;
  close(): Promise<void>;
}

/** Waits for things that will happen, on a machine that may be busy: generous, and free when things are fast. */
export const PATIENCE_MS = 60_000;

/**
 * One harness for the enclosing describe: started before its tests, closed after them, and
 * after each test its sessions closed with no page error expected. The getter reads it in a test.
 */
export function useUiHarness(opts: UiHarnessOptions = {}): () => UiHarness {
  let h: UiHarness | undefined;
  beforeAll(async () => {
    h = await startUiHarness(opts);
  }, 120_000);
  afterEach(async () => {
    expect((await h?.endTest()) ?? []).toEqual([]);
  });
  afterAll(async () => {
    await h?.close();
  });
  return () => h!;
}

export interface UiHarnessOptions {
  /**
   * false: no `harrier runner`, for a file whose builds need not run, or whose test reports
   * its stages itself over the runner protocol; a process and Docker runs fewer. Default true.
   */
  runner?: boolean;
}

export async function startUiHarness(opts: UiHarnessOptions = {}): Promise<UiHarness> {
  const fake = await startGithubFake({ fixtureRepos: false, user: { avatarUrl: AVATAR } });
  const processes = {
    name: 'ui',
    // The stand-in's first user administers, as the one person trying Harrier out would.
    serverEnv: { HARRIER_DATABASE_SECRET: randomBytes(32).toString('hex'), HARRIER_ADMINS: fake.state.user.login, ...providerEnv({ github: fake }) },
    // A test's last build may still run when the harness closes; nothing needs it to finish.
    runnerEnv: { HARRIER_RUNNER_CAPACITY: '2', HARRIER_RUNNER_GRACE_SECONDS: '2' },
  };
  const pair = (opts.runner ?? true) ? await startHarrierPair(processes) : undefined;
  const harrier = pair ?? (await startHarrierServer(processes));
  const { host, server, rpcSecret } = harrier;
  const runner = pair?.runner;
  const [browser] = await Promise.all([chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }), harrier.listening]);
  fs.mkdirSync(SCREENSHOTS, { recursive: true });

  const repos = new Map<string, UiRepo & { shared: boolean }>();
  let sessions: UiSession[] = [];

  const apiOf =
    (context: BrowserContext) =>
    async <T>(p: string, method = 'GET', data?: unknown): Promise<ApiAnswer<T>> => {
      const res = await context.request.fetch(`${host}${p}`, { method, headers: { Origin: host }, data });
      const text = await res.text();
      return { status: res.status(), body: (text ? JSON.parse(text) : undefined) as T };
    };

  async function signIn(context: BrowserContext): Promise<void> {
    // The stand-in's authorize page redirects straight back, so following redirects is signing in.
    await context.request.get(`${host}/login/github`);
    const user = await context.request.get(`${host}/api/user`);
    if (user.status() !== 200) throw new Error(`signing in through ${host}/login/github left no session: GET /api/user answered ${user.status()} ${await user.text()}`);
  }

  async function openSession(signedIn: boolean): Promise<UiSession> {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, baseURL: host, acceptDownloads: true });
    const errors: string[] = [];
    const watch = (p: Page) => {
      p.on('pageerror', (err) => errors.push(`${p.url()}: ${err.message}`));
      p.on('console', (m) => {
        if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(`${p.url()}: ${m.text()}`);
      });
    };
    context.on('page', watch);
    if (signedIn) await signIn(context);
    const page = await context.newPage();
    return { context, page, errors, api: apiOf(context) };
  }

  // The harness's own session: activating, cancelling and polling stay out of the sessions tests check.
  const own = await browser.newContext({ baseURL: host });
  await signIn(own);
  const api = apiOf(own);

  const must = async <T>(what: string, answer: Promise<ApiAnswer<T>>): Promise<T> => {
    const { status, body } = await answer;
    if (status !== 200) throw new Error(`${what} was answered ${status}: ${JSON.stringify(body)}`);
    return body;
  };

  return {
    host,
    fake,
    server,
    runner,
    rpcSecret,
    browser,
    addRepo(slug, files, opts = {}) {
      if (repos.has(slug)) throw new Error(`addRepo: ${slug} was added before; each test adds repositories of its own names`);
      const git = new LocalGitRepo();
      git.commit(files, 'Initial commit');
      const remote = fake.addRepo({ slug, gitDir: git.dir, private: true, permissions: { admin: true, push: true, pull: true } });
      repos.set(slug, { slug, git, remote, shared: opts.shared ?? false });
      return { slug, git, remote };
    },
    activate: (slug) => must(`activating ${slug}`, api<Repo>(`/api/repos/${slug}`, 'POST')),
    async saveProposal(slug, pipeline) {
      await must(`saving the proposal of ${slug}`, api(`/api/repos/${slug}/language`, 'PATCH', { proposal: pipeline }));
    },
    async push(slug, files, message) {
      const repo = repos.get(slug);
      if (!repo) throw new Error(`push: ${slug} was not added with addRepo`);
      const sha = repo.git.commit(files, message);
      const [res] = await fake.push(slug, { after: sha });
      if (!res) throw new Error(`the push webhook of ${slug} was not delivered: the stand-in has no hook for it`);
      // Answered once stored; a worker of the server (another process) makes the build.
      const id = storedDeliveryId(res.status, await res.text());
      const number = await awaitDeliveredBuild(api, slug, id, PATIENCE_MS);
      return must(`reading build ${number} of ${slug}`, api<Build>(`/api/repos/${slug}/builds/${number}`));
    },
    async waitForBuild(slug, number, until, timeoutMs = PATIENCE_MS) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const build = await must(`reading build ${number} of ${slug}`, api<Build>(`/api/repos/${slug}/builds/${number}`));
        if (until(build)) return build;
        if (isDone(build.status)) throw new Error(`build ${number} of ${slug} ended ${build.status} before what the test waits for: ${JSON.stringify(build)}`);
        if (Date.now() > deadline) throw new Error(`build ${number} of ${slug} did not get there in ${timeoutMs} ms: ${JSON.stringify(build)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    release(stageId, file) {
      if (!pair) throw new Error('release: this harness was started without a runner (runner: false)');
      const prefix = `stage-${stageId}-`;
      // The runner keeps its stages' workspaces in a folder of its own under HARRIER_RUNNER_WORKSPACE.
      const workspaces = runnerWorkspaceDir(pair.workspaceDir, pair.runnerName);
      const dir = fs.existsSync(workspaces) ? fs.readdirSync(workspaces).find((d) => d.startsWith(prefix)) : undefined;
      if (!dir) throw new Error(`stage ${stageId} has no workspace in ${workspaces}: it is not running on the harness's runner`);
      fs.writeFileSync(path.join(workspaces, dir, file), '');
    },
    api,
    async session(opts = {}) {
      const s = await openSession(opts.signedIn ?? true);
      sessions.push(s);
      return s;
    },
    async endTest() {
      const ended = sessions;
      sessions = [];
      await Promise.all(ended.map((s) => s.context.close().catch(() => undefined)));
      // A test that failed half-way may leave a build running: it would hold a runner slot the next test needs.
      for (const { slug, shared } of repos.values()) {
        if (shared) continue;
        const list = await api<Build[]>(`/api/repos/${slug}/builds?per_page=100`);
        if (list.status !== 200) continue; // never activated: no builds
        for (const b of list.body.filter((x) => !isDone(x.status))) await api(`/api/repos/${slug}/builds/${b.number}`, 'DELETE');
      }
      return ended.flatMap((s) => s.errors);
    },
    async screenshot(page, name, opts = {}) {
      const file = path.join(SCREENSHOTS, `${name}.png`);
      await page.screenshot({ path: file, fullPage: opts.fullPage ?? false });
      return file;
    },
    async close() {
      // Chromium under a loaded machine has been seen to take its time; teardown must still end.
      let late: NodeJS.Timeout | undefined;
      await Promise.race([
        browser.close().catch(() => undefined),
        new Promise<void>((resolve) => {
          late = setTimeout(() => {
            console.warn('Chromium did not close within 30 s; going on without it');
            resolve();
          }, 30_000);
        }),
      ]);
      clearTimeout(late);
      await harrier.stop();
      await fake.close();
      for (const r of repos.values()) fs.rmSync(r.git.dir, { recursive: true, force: true });
    },
  };
}
