// Harrier as its users run it: `harrier server` and `harrier runner` as separate
// processes from the build in dist/ (npm test builds it first), their JSON logs
// kept for the test to read and printed when a test fails.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

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

export function spawnHarrier(command: 'server' | 'runner' | 'up' | 'migrate', env: Record<string, string>): HarrierProcess {
  const child = spawn(process.execPath, [BIN, command], {
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
    waitForEvent(pred, timeoutMs = 20_000) {
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
      return exited;
    },
  };
}
