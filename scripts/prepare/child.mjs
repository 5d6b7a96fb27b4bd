// The command prepare hands over to (harrier up, vitest): it gets the terminal, our
// signals are passed on, and its exit code becomes ours.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

/**
 * True when this process is in its terminal's foreground process group. Then a Ctrl-C
 * (SIGINT) or a hang-up (SIGHUP) went to the whole group, the child included, and passing
 * it on would deliver it twice: `harrier up` takes a second Ctrl-C as "stop now", skipping
 * its graceful shutdown. Linux only; elsewhere we say no and always pass signals on.
 */
export function inTerminalForeground() {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    // Fields after "(comm)": state ppid pgrp session tty_nr tpgid ...
    const [, , pgrp, , ttyNr, tpgid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ttyNr !== '0' && pgrp === tpgid;
  } catch {
    return false;
  }
}

/** Runs `command` to completion; resolves with the exit code to leave with. */
export function runChild(command, args, { cwd, env } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env, stdio: 'inherit' });
    const forward = (signal) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // SIGTERM is sent to one process (kill, CI timeouts, npm passing on its own): always pass it on.
      if (signal !== 'SIGTERM' && inTerminalForeground()) return;
      child.kill(signal);
    };
    // Listening also keeps us alive until the child has exited, so its exit code is ours.
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
