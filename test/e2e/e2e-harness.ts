// The real chain for end-to-end tests: a provider stand-in, a real git repository,
// `harrier server` and `harrier runner` as processes, and a person who signs in
// through the OAuth web flow and activates the repository through the REST API.
import fs from 'node:fs';
import type { Build, LogLine } from '../../core/domain.ts';
import { startBitbucketFake, type BitbucketFake } from '../fakes/bitbucket-api.ts';
import { startGithubFake, type GithubFake } from '../fakes/github-api.ts';
import { LocalGitRepo } from '../fakes/local-git-repo.ts';
import { Browser } from '../support/http.ts';
import { startHarrierPair, type HarrierProcess } from '../support/processes.ts';
import { providerEnv } from '../support/server.ts';
import { awaitDeliveredBuild, storedDeliveryId } from '../support/deliveries.ts';

export interface E2e {
  provider: 'github' | 'bitbucket';
  slug: string;
  git: LocalGitRepo;
  fake: GithubFake | BitbucketFake;
  host: string;
  token: string;
  server: HarrierProcess;
  runner: HarrierProcess;
  runnerName: string;
  workspaceDir: string;
  api<T = any>(path: string, init?: RequestInit): Promise<{ status: number; body: T }>;
  /** Commits, announces the commit through the provider's push webhook, and waits for the build a worker makes of it. */
  push(files: Record<string, string | null>, message: string): Promise<{ sha: string; build: Build }>;
  waitForBuild(number: number, timeoutMs?: number): Promise<Build>;
  logs(number: number, stage: number, step: number): Promise<LogLine[]>;
  close(): Promise<void>;
}

const TERMINAL = ['success', 'failure', 'error', 'killed', 'skipped'];

export interface E2eOptions {
  /** More environment for `harrier server` and `harrier runner` (benchmarks lower the log level). */
  serverEnv?: Record<string, string>;
  runnerEnv?: Record<string, string>;
}

export async function startE2e(provider: 'github' | 'bitbucket', pipeline: string, opts: E2eOptions = {}): Promise<E2e> {
  const slug = provider === 'github' ? 'octocat/hello-world' : 'atlassian/hello-world';
  const git = new LocalGitRepo();
  git.commit({ 'README.md': '# hello\n', '.drone.yml': pipeline }, 'Initial commit');
  const fake = provider === 'github' ? await startGithubFake({ fixtureRepos: false }) : await startBitbucketFake({ fixtureRepos: false });
  if (provider === 'github') {
    (fake as GithubFake).addRepo({ slug, gitDir: git.dir, private: true, permissions: { admin: true, push: true, pull: true } });
  } else {
    (fake as BitbucketFake).addRepo({ slug, gitDir: git.dir, private: true, permission: 'admin' });
  }
  const harrier = await startHarrierPair({ name: 'e2e', serverEnv: { ...providerEnv({ [provider]: fake }), ...opts.serverEnv }, runnerEnv: opts.runnerEnv });
  const { host, server, runner, runnerName, workspaceDir } = harrier;
  await harrier.listening;

  const browser = new Browser(host);
  await browser.signIn(provider);
  const minted = await browser.json<{ token: string }>('/api/user/token', { method: 'POST', headers: { Origin: host } });
  if (minted.status !== 200) throw new Error(`POST /api/user/token: ${minted.status} ${JSON.stringify(minted.body)}`);
  const token = minted.body.token;
  const api = async <T>(p: string, init: RequestInit = {}) => {
    const res = await fetch(`${host}${p}`, { ...init, headers: { Authorization: `Bearer ${token}`, ...(init.headers ?? {}) } });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  const repos = await api<{ slug: string }[]>('/api/user/repos');
  if (!repos.body.some((r) => r.slug === slug)) throw new Error(`${slug} is not among the user's repositories: ${JSON.stringify(repos.body)}`);
  const activated = await api(`/api/repos/${slug}`, { method: 'POST' });
  if (activated.status !== 200) throw new Error(`activating ${slug}: ${activated.status} ${JSON.stringify(activated.body)}`);

  const e2e: E2e = {
    provider,
    slug,
    git,
    fake,
    host,
    token,
    server,
    runner,
    runnerName,
    workspaceDir,
    api,
    async push(files, message) {
      const sha = git.commit(files, message);
      const [res] = await fake.push(slug, { after: sha });
      if (!res) throw new Error(`the push webhook of ${slug} was not delivered: the stand-in has no hook for it`);
      // Answered once stored; a worker of the server (another process) makes the build.
      const id = storedDeliveryId(res.status, await res.text());
      const number = await awaitDeliveredBuild(api, slug, id);
      const { status, body } = await api<Build>(`/api/repos/${slug}/builds/${number}`);
      if (status !== 200) throw new Error(`GET build ${number} of ${slug}: ${status} ${JSON.stringify(body)}`);
      return { sha, build: body };
    },
    async waitForBuild(number, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { body } = await api<Build>(`/api/repos/${slug}/builds/${number}`);
        if (TERMINAL.includes(body.status)) return body;
        if (Date.now() > deadline) {
          throw new Error(`build ${number} still ${body.status} after ${timeoutMs} ms\nrunner:\n${runner.output().slice(-4000)}\nserver:\n${server.output().slice(-3000)}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async logs(number, stage, step) {
      return (await api<LogLine[]>(`/api/repos/${slug}/builds/${number}/logs/${stage}/${step}`)).body;
    },
    async close() {
      await harrier.stop();
      await fake.close();
      fs.rmSync(git.dir, { recursive: true, force: true });
    },
  };
  return e2e;
}
