// A CommandIO that keeps what a command printed, for tests that run commands in-process.
import type { CommandIO } from '../command-io.ts';

export interface CapturedIO extends CommandIO {
  out(): string;
  err(): string;
}

export function captureIO(cwd: string, env: NodeJS.ProcessEnv = {}): CapturedIO {
  let out = '';
  let err = '';
  return {
    cwd,
    env,
    color: false,
    stdout: (text) => void (out += text),
    stderr: (text) => void (err += text),
    out: () => out,
    err: () => err,
  };
}
