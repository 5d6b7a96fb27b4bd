// The command prepare hands over to (harrier up, vitest): it gets the terminal, our
// SIGINT/SIGTERM are passed on, and its exit code becomes ours.
import { spawn } from 'node:child_process';
import os from 'node:os';

/** Runs `command` to completion; resolves with the exit code to leave with. */
export function runChild(command, args, { cwd, env } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env, stdio: 'inherit' });
    const forward = (signal) => {
      // A terminal's Ctrl-C reaches the child directly too (same process group); passing it
      // on as well covers signals sent to this process alone (kill, CI timeouts).
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    };
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    for (const s of signals) process.on(s, forward);
    child.on('error', (err) => {
      process.stderr.write(`prepare: could not run ${command}: ${err.message}\n`);
      resolve(127);
    });
    child.on('exit', (code, signal) => {
      for (const s of signals) process.off(s, forward);
      // Killed by a signal: exit as shells report it, 128 + the signal's number.
      resolve(code ?? 128 + (os.constants.signals[signal] ?? 0));
    });
  });
}
