// A runner fleet as an operator runs one: N `harrier server` processes on one PostgreSQL
// database and one Redis (same prefix, same RPC secret), M `harrier runner` processes
// with names of their own, the GitHub stand-in with repositories activated, and the
// faults an operator meets: `kill -9` of any process and its restart with the same
// environment, a Redis flushed or restarted without its data. At the end, what the
// operator looks at: every build in a final state, every log line there once, no
// Harrier container left on the engine.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Build, LogLine, Stage, Status } from '../../core/domain.ts';
import { startGithubFake, type GithubFake } from '../fakes/github-api.ts';
import { deliverGithubHook, githubPushPayload } from '../fakes/github-payloads.ts';
import { gitCommitInfo, LocalGitRepo } from '../fakes/local-git-repo.ts';
import { LABEL_BUILD } from '../../pipeline/compile.ts';
import { TEST_IMAGES } from './images.ts';
import { LABEL_MANAGED, LABEL_RUNNER } from '../../runner/labels.ts';
import { testDatabase, type TestDatabase } from './databases.ts';
import { awaitDeliveredBuild, storedDeliveryId } from './deliveries.ts';
import { Browser } from './http.ts';
import { OwnRedis } from './own-redis.ts';
import { spawnHarrier, type HarrierProcess } from './processes.ts';
import { freePort, providerEnv } from './server.ts';

export const FINAL: Status[] = ['success', 'failure', 'error', 'killed', 'skipped'];

/** Generous: a loaded 2-core machine running Docker is slow, and a fast one never waits this long. */
const DEFAULT_WAIT_MS = 90_000;

export interface FleetOptions {
  /** Part of every name the fleet makes (runner names, Redis prefix), for reading leftovers. */
  name: string;
  /** owner/name and the pipeline file of each repository to add and activate. */
  repos: { slug: string; pipeline: string }[];
  servers?: number;
  /** Runners started with the fleet; more with addRunner(). */
  runners?: number;
  runnerCapacity?: number;
  /** HARRIER_LEASE_SECONDS of every server. */
  leaseSeconds?: number;
  /** A redis-server of the fleet's own, for tests that flush or restart it: never the shared one. */
  ownRedis?: boolean;
  serverEnv?: Record<string, string>;
  runnerEnv?: Record<string, string>;
  /** The database every server shares: PostgreSQL unless a test asks for one SQLite file. */
  flavour?: 'sqlite' | 'postgres';
}

/** One server or runner of the fleet: its environment, and every process started under it. */
export class FleetMember {
  private readonly processes: HarrierProcess[] = [];

  constructor(
    readonly kind: 'server' | 'runner',
    /** The runner's name, or "server N". */
    readonly name: string,
    readonly env: Record<string, string>,
  ) {}

  /** The newest process. */
  get current(): HarrierProcess {
    const last = this.processes[this.processes.length - 1];
    if (!last) throw new Error(`${this.name} was never started`);
    return last;
  }

  get alive(): boolean {
    const p = this.processes[this.processes.length - 1];
    return Boolean(p && p.child.exitCode === null && p.child.signalCode === null);
  }

  /** How many processes have run under this name. */
  get starts(): number {
    return this.processes.length;
  }

  /** Starts a process with the same environment; resolves once it listens (server) or polls (runner). */
  async start(): Promise<HarrierProcess> {
    if (this.alive) throw new Error(`${this.name} is already running`);
    const p = spawnHarrier(this.kind, this.env);
    this.processes.push(p);
    await p.waitForEvent((e) => e.event === (this.kind === 'server' ? 'listening' : 'runner_started'), 60_000);
    return p;
  }

  /** `kill -9`: no cleanup, no goodbye to the server. */
  async kill9(): Promise<void> {
    if (!this.alive) return;
    const child = this.current.child;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** SIGTERM, then SIGKILL when it has not exited within `graceMs`. */
  async stop(graceMs = 20_000): Promise<void> {
    if (!this.alive) return;
    const p = this.current;
    const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
    await p.stop();
    clearTimeout(timer);
  }

  /** JSON log events of every process started under this name, oldest first. */
  events(): Record<string, unknown>[] {
    return this.processes.flatMap((p) => p.events);
  }

  output(chars = 4000): string {
    return this.processes.map((p, i) => `--- ${this.name}, process ${i + 1} ---\n${p.output().slice(-chars)}`).join('\n');
  }
}

export interface FleetRepo {
  slug: string;
  git: LocalGitRepo;
  /** The repository's id in Harrier's database. */
  id: number;
}

export interface Fleet {
  servers: FleetMember[];
  runners: FleetMember[];
  repos: Map<string, FleetRepo>;
  github: GithubFake;
  database: TestDatabase;
  redis: OwnRedis | undefined;
  /** The API token of the signed-in user; valid on every server (sessions live in the database). */
  token: string;
  /** Starts one more runner with a name of its own, talking to the given server (default: round robin). */
  addRunner(opts?: { env?: Record<string, string>; serverIndex?: number }): Promise<FleetMember>;
  /** REST call to a server (default: the first). */
  api<T = any>(p: string, init?: RequestInit, serverIndex?: number): Promise<{ status: number; body: T }>;
  /** Commits to the repository and delivers the push webhook to the chosen server (default: the first). */
  push(slug: string, opts?: { files?: Record<string, string | null>; via?: number }): Promise<Build>;
  build(slug: string, number: number): Promise<Build>;
  waitForBuild(slug: string, number: number, timeoutMs?: number): Promise<Build>;
  /** Polls until `check` returns something other than undefined. */
  waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs?: number): Promise<T>;
  logs(slug: string, build: number, stage: number, step: number): Promise<LogLine[]>;
  waitForLogLine(slug: string, build: number, stage: number, step: number, text: string, timeoutMs?: number): Promise<void>;
  /** Server log events of every server process so far. */
  serverEvents(): Record<string, unknown>[];
  /** Every runner name the fleet used. */
  runnerNames(): string[];
  /** Server and runner output, for a failure message. */
  output(): string;
  close(): Promise<void>;
}

export async function startFleet(opts: FleetOptions): Promise<Fleet> {
  const tag = `${opts.name}-${randomBytes(4).toString('hex')}`;
  const database = await testDatabase(opts.flavour ?? 'postgres');
  const redis = opts.ownRedis ? await OwnRedis.start() : undefined;
  const github = await startGithubFake({ fixtureRepos: false });
  const repos = new Map<string, FleetRepo>();
  for (const r of opts.repos) {
    const git = new LocalGitRepo();
    git.commit({ 'README.md': `# ${r.slug}\n`, '.drone.yml': r.pipeline }, 'Initial commit');
    github.addRepo({ slug: r.slug, gitDir: git.dir, private: true, permissions: { admin: true, push: true, pull: true } });
    repos.set(r.slug, { slug: r.slug, git, id: 0 });
  }

  const secret = randomBytes(16).toString('hex');
  const shared: Record<string, string> = {
    HARRIER_DATABASE_URL: database.url,
    HARRIER_RPC_SECRET: secret,
    HARRIER_DATABASE_SECRET: randomBytes(32).toString('hex'),
    HARRIER_REDIS_PREFIX: `harrier-fleet-${tag}`,
    HARRIER_LEASE_SECONDS: String(opts.leaseSeconds ?? 60),
    ...(redis ? { HARRIER_REDIS_URL: redis.url } : process.env.HARRIER_REDIS_URL ? { HARRIER_REDIS_URL: process.env.HARRIER_REDIS_URL } : {}),
    ...providerEnv({ github }),
    ...opts.serverEnv,
  };
  const servers: FleetMember[] = [];
  for (let i = 0; i < (opts.servers ?? 1); i++) {
    const port = await freePort();
    // Each server is its own HARRIER_HOST: sign-in comes back to the server it started on.
    servers.push(new FleetMember('server', `server ${i}`, { ...shared, HARRIER_HOST: `http://127.0.0.1:${port}`, HARRIER_PORT: String(port) }));
  }
  const runners: FleetMember[] = [];
  const workspaces: string[] = [];

  const fleet: Fleet = {
    servers,
    runners,
    repos,
    github,
    database,
    redis,
    token: '',
    async addRunner(o = {}) {
      const index = runners.length;
      const server = servers[o.serverIndex ?? index % servers.length];
      const workspace = fs.mkdtempSync(path.join(os.tmpdir(), `harrier-fleet-ws-`));
      workspaces.push(workspace);
      // Runner names share the e2e- prefix of the other process tests and are new per run.
      const name = `e2e-fleet-${tag}-${index}`;
      const runner = new FleetMember('runner', name, {
        HARRIER_RUNNER_NAME: name,
        HARRIER_SERVER_URL: server.env.HARRIER_HOST,
        HARRIER_RPC_SECRET: secret,
        HARRIER_RUNNER_CAPACITY: String(opts.runnerCapacity ?? 1),
        HARRIER_RUNNER_WORKSPACE: workspace,
        HARRIER_RUNNER_GRACE_SECONDS: '2',
        ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
        ...opts.runnerEnv,
        ...o.env,
      });
      runners.push(runner);
      await runner.start();
      return runner;
    },
    async api(p, init = {}, serverIndex = 0) {
      const res = await fetch(`${servers[serverIndex].env.HARRIER_HOST}${p}`, {
        ...init,
        headers: { Authorization: `Bearer ${fleet.token}`, ...(init.headers ?? {}) },
      });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        // Not JSON: the caller sees the text.
      }
      return { status: res.status, body: body as never };
    },
    async push(slug, o = {}) {
      const repo = repos.get(slug);
      const fake = github.repo(slug);
      if (!repo || !fake) throw new Error(`push: ${slug} is not a repository of this fleet`);
      const sha = repo.git.commit(o.files ?? { 'pushed.txt': `${randomBytes(8).toString('hex')}\n` }, 'Push from a fleet test');
      const hook = github.state.hooks.items.find((h) => h.repo === fake.fullName && h.active && !h.deleted);
      if (!hook) throw new Error(`push: ${slug} has no webhook; was it activated?`);
      // Deliver to the chosen server: its own address, the hook's path.
      const url = new URL(hook.url);
      const target = new URL(servers[o.via ?? 0].env.HARRIER_HOST);
      url.protocol = target.protocol;
      url.host = target.host;
      const commit = (await gitCommitInfo(repo.git.dir, sha)) ?? undefined;
      const payload = githubPushPayload({ repo: fake, after: sha, commit, sender: { login: github.state.user.login, id: github.state.user.id } });
      const res = await deliverGithubHook(url.toString(), 'push', payload, hook.secret);
      // Stored and answered; a worker of one of the servers makes the build.
      const id = storedDeliveryId(res.status, await res.text());
      const number = await awaitDeliveredBuild((path) => fleet.api(path), slug, id, DEFAULT_WAIT_MS);
      return fleet.build(slug, number);
    },
    async build(slug, number) {
      const res = await fleet.api<Build>(`/api/repos/${slug}/builds/${number}`);
      if (res.status !== 200) throw new Error(`GET build ${slug}#${number}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    },
    async waitForBuild(slug, number, timeoutMs = DEFAULT_WAIT_MS) {
      return fleet.waitFor(`build ${slug}#${number} to end`, async () => {
        const build = await fleet.build(slug, number);
        // A build is over when it and each of its stages are: a cancelled build is `killed` at once, its stages when their runners stop.
        return FINAL.includes(build.status) && (build.stages ?? []).every((s) => FINAL.includes(s.status)) ? build : undefined;
      }, timeoutMs);
    },
    async waitFor(what, check, timeoutMs = DEFAULT_WAIT_MS) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = await check().catch(() => undefined);
        if (value !== undefined) return value;
        if (Date.now() > deadline) throw new Error(`waited ${timeoutMs / 1000} s for ${what}\n${fleet.output()}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    async logs(slug, build, stage, step) {
      const res = await fleet.api<LogLine[]>(`/api/repos/${slug}/builds/${build}/logs/${stage}/${step}`);
      return res.status === 200 ? res.body : [];
    },
    async waitForLogLine(slug, build, stage, step, text, timeoutMs = DEFAULT_WAIT_MS) {
      await fleet.waitFor(`"${text}" in the log of ${slug}#${build} stage ${stage} step ${step}`, async () => {
        const lines = await fleet.logs(slug, build, stage, step);
        return lines.some((l) => l.out.replace(/\n$/, '') === text) ? true : undefined;
      }, timeoutMs);
    },
    serverEvents: () => servers.flatMap((s) => s.events()),
    runnerNames: () => runners.map((r) => r.name),
    output: () => [...servers, ...runners].map((m) => m.output(3000)).join('\n'),
    async close() {
      await Promise.allSettled(runners.map((r) => r.stop()));
      await Promise.allSettled(servers.map((s) => s.stop()));
      // Whatever a killed runner left, so a failed test leaves nothing on the shared engine.
      for (const name of fleet.runnerNames()) {
        try {
          removeHarrierObjects(name);
        } catch (err) {
          console.warn(`could not remove what runner ${name} left on the engine: ${(err as Error).message}`);
        }
      }
      await github.close();
      await redis?.stop();
      await database.drop();
      for (const r of repos.values()) r.git.remove();
      for (const dir of workspaces) fs.rmSync(dir, { recursive: true, force: true });
    },
  };

  try {
    for (const server of servers) await server.start();
    const browser = new Browser(servers[0].env.HARRIER_HOST);
    await browser.signIn('github');
    const minted = await browser.json<{ token: string }>('/api/user/token', { method: 'POST', headers: { Origin: servers[0].env.HARRIER_HOST } });
    if (minted.status !== 200) throw new Error(`POST /api/user/token: ${minted.status} ${JSON.stringify(minted.body)}`);
    fleet.token = minted.body.token;
    await fleet.api('/api/user/repos');
    for (const repo of repos.values()) {
      const activated = await fleet.api<{ id: number }>(`/api/repos/${repo.slug}`, { method: 'POST' });
      if (activated.status !== 200) throw new Error(`activating ${repo.slug}: ${activated.status} ${JSON.stringify(activated.body)}`);
      repo.id = activated.body.id;
    }
    for (let i = 0; i < (opts.runners ?? 1); i++) await fleet.addRunner();
  } catch (err) {
    const output = fleet.output();
    await fleet.close().catch(() => {});
    throw new Error(`the fleet did not start: ${(err as Error).message}\n${output}`);
  }
  return fleet;
}

/** Harrier's containers on the engine made by a runner of this name (running or not). */
export function harrierContainers(runnerName: string): string[] {
  return docker(['ps', '-aq', '--filter', `label=${LABEL_MANAGED}=true`, '--filter', `label=${LABEL_RUNNER}=${runnerName}`]);
}

/**
 * Harrier's containers of one build on one runner. The runner's name is what makes it this
 * test run's: build ids start at 1 in every run's database, runner names are drawn anew.
 */
export function buildContainers(buildId: number, runnerName: string): string[] {
  return docker(['ps', '-aq', '--filter', `label=${LABEL_MANAGED}=true`, '--filter', `label=${LABEL_RUNNER}=${runnerName}`, '--filter', `label=${LABEL_BUILD}=${buildId}`]);
}

function removeHarrierObjects(runnerName: string): void {
  const filters = ['--filter', `label=${LABEL_MANAGED}=true`, '--filter', `label=${LABEL_RUNNER}=${runnerName}`];
  const containers = docker(['ps', '-aq', ...filters]);
  if (containers.length) docker(['rm', '-f', '-v', ...containers]);
  const networks = docker(['network', 'ls', '-q', ...filters]);
  if (networks.length) docker(['network', 'rm', ...networks]);
  const volumes = docker(['volume', 'ls', '-q', ...filters]);
  if (volumes.length) docker(['volume', 'rm', '-f', ...volumes]);
}

function docker(args: string[]): string[] {
  return execFileSync('docker', args, { encoding: 'utf8' }).split('\n').filter(Boolean);
}

/**
 * Lines of a log that match `pattern` (e.g. /^line (\d+)$/), checked against 1..count:
 * the numbers missing and the numbers seen more than once. Both empty when no line was lost or doubled.
 */
export function numberedLines(lines: LogLine[], pattern: RegExp, count: number): { missing: number[]; doubled: number[] } {
  const seen = new Map<number, number>();
  for (const line of lines) {
    const m = pattern.exec(line.out.replace(/\n$/, ''));
    if (m) seen.set(Number(m[1]), (seen.get(Number(m[1])) ?? 0) + 1);
  }
  const missing: number[] = [];
  const doubled: number[] = [];
  for (let n = 1; n <= count; n++) {
    if (!seen.has(n)) missing.push(n);
    else if (seen.get(n)! > 1) doubled.push(n);
  }
  return { missing, doubled };
}

/** A stage's step by name. */
export function stepNamed(stage: Stage, name: string) {
  const step = stage.steps?.find((s) => s.name === name);
  if (!step) throw new Error(`stage ${stage.name} has no step ${name}: ${JSON.stringify(stage.steps?.map((s) => s.name))}`);
  return step;
}

/**
 * A pipeline file of one pipeline `name` whose one step `step` runs `commands` on the
 * suite's busybox image; `head` (concurrency, node, clone) goes before `steps:`.
 */
export function oneStepPipeline(step: string, commands: string[], head = '', name = 'default'): string {
  return `kind: pipeline\ntype: docker\nname: ${name}\n\n${head ? `${head.trimEnd()}\n\n` : ''}steps:\n- name: ${step}\n  image: ${TEST_IMAGES.busybox}\n  commands:\n${commands.map((c) => `  - ${c}\n`).join('')}`;
}

/** Build 1 prints its marker, then sleeps far longer than a test may wait; later builds end at once. One at a time. */
export const SLEEPING_FIRST_BUILD = oneStepPipeline('test', ['echo "marker $DRONE_BUILD_NUMBER"', 'if [ "$DRONE_BUILD_NUMBER" = 1 ]; then sleep 600; fi'], 'concurrency:\n  limit: 1');
