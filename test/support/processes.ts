// Harrier as its users run it: `harrier server` and `harrier runner` as separate
// processes from the build in dist/ (npm test builds it first), their JSON logs
// kept for the test to read and printed when a test fails.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sqliteTestDatabase } from './databases.ts';
import { freePort } from './server.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/harrier.js');

export interface HarrierProcess {
  child: ChildProcess;
  /** Every JSON log event so far. */
  events: Record<string, unknown>[];
  output(): string;
  waitForEvent(pred: (e: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

const STOP_PATIENCE_MS = 30_000;

export function spawnHarrier(command: 'server' | 'runner' | 'up' | 'migrate', env: Record<string, string>, nodeArgs: string[] = []): HarrierProcess {
  const child = spawn(process.execPath, [...nodeArgs, BIN, command], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', HARRIER_LOG_LEVEL: 'debug', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: Record<string, unknown>[] = [];
  let text = '';
  const waiters = new Set<() => void>();
  let pending = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      try {
        events.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // Not a log event; kept in output() only.
      }
    }
    for (const wake of waiters) wake();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    events,
    output: () => text,
    waitForEvent(pred, timeoutMs = 45_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.find(pred);
          if (found) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`harrier ${command} logged no matching event in ${timeoutMs} ms; output:\n${text.slice(-4000)}`));
        }, timeoutMs);
        waiters.add(check);
        child.once('exit', () => {
          if (waiters.has(check)) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(new Error(`harrier ${command} exited; output:\n${text.slice(-4000)}`));
          }
        });
        check();
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      // Teardown must end. Graceful stops have tests of their own (test/fleet, runner-process);
      // one that hangs here is killed and reported with the process's last words.
      const late = setTimeout(() => {
        console.warn(`harrier ${command} did not exit within ${STOP_PATIENCE_MS / 1000} s of SIGTERM; killed. Its output:\n${text.slice(-4000)}`);
        child.kill('SIGKILL');
      }, STOP_PATIENCE_MS);
      try {
        return await exited;
      } finally {
        clearTimeout(late);
      }
    },
  };
}

export interface HarrierServer {
  /** HARRIER_HOST: where the server listens. */
  host: string;
  server: HarrierProcess;
  /** HARRIER_RPC_SECRET: what a runner, or a test speaking the runner protocol, authenticates with. */
  rpcSecret: string;
  /** HARRIER_REDIS_PREFIX: its own keys and channels in the shared Redis. */
  redisPrefix: string;
  /** Resolves when the server listens. */
  listening: Promise<unknown>;
  /** Stops the server and removes the database. */
  stop(): Promise<void>;
}

export interface HarrierPair extends HarrierServer {
  runner: HarrierProcess;
  runnerName: string;
  workspaceDir: string;
  /** Stops the runner, then the server, and removes the database and workspaces. */
  stop(): Promise<void>;
}

/** `harrier server` on a fresh SQLite database and its own Redis prefix, as an operator would start it. */
export async function startHarrierServer(opts: { name: string; serverEnv?: Record<string, string> }): Promise<HarrierServer> {
  const db = sqliteTestDatabase();
  const port = await freePort();
  const host = `http://127.0.0.1:${port}`;
  const rpcSecret = randomBytes(16).toString('hex');
  const redisPrefix = `harrier-${opts.name}-${randomBytes(4).toString('hex')}`;
  const server = spawnHarrier('server', {
    HARRIER_HOST: host,
    HARRIER_PORT: String(port),
    HARRIER_DATABASE_URL: db.url,
    HARRIER_RPC_SECRET: rpcSecret,
    HARRIER_REDIS_PREFIX: redisPrefix,
    // A real installation must set one; the server refuses to start without it.
    HARRIER_DATABASE_SECRET: randomBytes(32).toString('hex'),
    ...opts.serverEnv,
  });
  return {
    host,
    server,
    rpcSecret,
    redisPrefix,
    listening: server.waitForEvent((e) => e.event === 'listening'),
    async stop() {
      await server.stop();
      await db.drop();
    },
  };
}

/** `harrier server` (startHarrierServer) and one `harrier runner` talking to it. */
export async function startHarrierPair(opts: { name: string; serverEnv?: Record<string, string>; runnerEnv?: Record<string, string> }): Promise<HarrierPair> {
  const started = await startHarrierServer(opts);
  const workspaceDir = fs.mkdtempSync(path.join(os.tmpdir(), `harrier-${opts.name}-ws-`));
  // Test runner names share the e2e- prefix, so a later run sweeps what a killed run left.
  const runnerName = `e2e-${started.redisPrefix}`;
  const runner = spawnHarrier('runner', {
    HARRIER_SERVER_URL: started.host,
    HARRIER_RPC_SECRET: started.rpcSecret,
    HARRIER_RUNNER_NAME: runnerName,
    HARRIER_RUNNER_CAPACITY: '1',
    HARRIER_RUNNER_WORKSPACE: workspaceDir,
    ...opts.runnerEnv,
  });
  return {
    ...started,
    runner,
    runnerName,
    workspaceDir,
    async stop() {
      await runner.stop();
      await started.stop();
      fs.rmSync(workspaceDir, { recursive: true, force: true });
    },
  };
}
