// Runs one git command for the clone step: echoes it as `+ git ...` the way Drone's
// clone step does, streams git's output to the step's log, and kills git on abort.
import { spawn } from 'node:child_process';

export type CloneOutput = (chunk: Buffer | string) => void;

export interface GitResult {
  code: number;
  /** git's stderr, kept to recognise specific failures (e.g. no shallow support). */
  stderr: string;
}

export interface GitRunOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  output: CloneOutput;
  signal: AbortSignal;
  /** Print this instead of the real arguments (e.g. a URL with its credentials removed). */
  display?: string[];
}

export function runGit(args: string[], options: GitRunOptions): Promise<GitResult> {
  const { cwd, env, output, signal } = options;
  signal.throwIfAborted();
  output(`+ git ${(options.display ?? args).join(' ')}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => output(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      output(chunk);
    });
    const onAbort = () => child.kill('SIGKILL');
    signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      reject(new Error(`could not run git: ${err.message}; is git installed on the runner's machine?`));
    });
    child.on('close', (code, sig) => {
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted) return reject(signal.reason);
      resolve({ code: code ?? (sig ? 128 : 1), stderr });
    });
  });
}

/** The URL as it may appear in a log: without user name or password. */
export function displayUrl(remote: string): string {
  try {
    const url = new URL(remote);
    url.username = '';
    url.password = '';
    return url.toString();
  } catch {
    return remote;
  }
}
