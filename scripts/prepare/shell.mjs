// What every preparation step shares: one-line progress messages, errors that say
// what to do, running commands, and waiting on a condition with a deadline.
// Plain Node only: this runs before node_modules exists.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** A failure the user can act on: `message` says what happened, `hint` what to do. */
export class PrepareError extends Error {
  /** @param {string} message @param {string} [hint] */
  constructor(message, hint = '') {
    super(message);
    this.hint = hint;
  }
}

/** One short human line on stderr per action taken; stdout stays the child's. */
export function say(message) {
  process.stderr.write(`prepare: ${message}\n`);
}

export function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** The path of an executable named `name`, or '' when there is none. Looks in the
 * sbin folders too, which a non-root PATH often lacks (dockerd lives in /usr/sbin). */
export function which(name) {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const dir of [...dirs, '/usr/local/sbin', '/usr/sbin', '/sbin']) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return '';
}

/**
 * Runs a command with its output shown, and throws a PrepareError naming the
 * command when it fails. Returns nothing: callers that need output use capture().
 */
export function run(command, args, { cwd, env, what } = {}) {
  const result = spawnSync(command, args, { cwd, env: env ?? process.env, stdio: 'inherit' });
  if (result.error) {
    throw new PrepareError(`${what ?? command}: could not run ${command}: ${result.error.message}`);
  }
  if (result.status !== 0) {
    const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.status}`;
    throw new PrepareError(`${what ?? command} failed: \`${[command, ...args].join(' ')}\` ${how} (its output is above)`);
  }
}

/** Runs a command quietly; returns { ok, stdout, stderr } and never throws. */
export function capture(command, args, { cwd, env, input, timeoutMs = 30_000 } = {}) {
  const result = spawnSync(command, args, {
    cwd,
    env: env ?? process.env,
    input,
    encoding: 'utf8',
    timeout: timeoutMs,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return {
    ok: !result.error && result.status === 0,
    stdout: result.stdout ?? '',
    stderr: (result.stderr ?? '') + (result.error ? String(result.error.message) : ''),
  };
}

/**
 * Polls `check` every `intervalMs` until it returns a truthy value, which is returned.
 * Throws `onTimeout()`'s error (or a plain one) once `timeoutMs` has passed.
 * `check` may be async and may throw a PrepareError to stop waiting early.
 */
export async function waitFor(check, { timeoutMs, intervalMs = 100, onTimeout }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() >= deadline) {
      throw onTimeout ? onTimeout() : new PrepareError(`timed out after ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** The last `lines` lines of a log file, for error messages; '' when unreadable. */
export function tail(file, lines = 20) {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Indents a block of text for an error message. */
export function indent(text, prefix = '    ') {
  return text
    .split('\n')
    .map((line) => prefix + line)
    .join('\n');
}
