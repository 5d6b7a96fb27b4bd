// One preparation at a time per checkout: two `npm test` runs at once would otherwise
// both run npm ci, prisma generate or tsc into the same folders. Only the preparation is
// locked; the tests or server that follow run side by side.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PrepareError, say, waitFor } from './shell.mjs';

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return /** @type {any} */ (err).code === 'EPERM';
  }
}

/** The lock file for `root`: in the temp folder, so it needs no .gitignore entry and no node_modules. */
export function lockPath(root) {
  const id = crypto.createHash('sha256').update(path.resolve(root)).digest('hex').slice(0, 12);
  return path.join(os.tmpdir(), `harrier-prepare-${id}.lock`);
}

/** Takes the lock, waiting for a live holder; returns a function that releases it. */
export async function acquireLock(root, { timeoutMs = 15 * 60_000 } = {}) {
  const file = lockPath(root);
  let told = false;
  await waitFor(
    () => {
      try {
        fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
        return true;
      } catch (err) {
        if (/** @type {any} */ (err).code !== 'EEXIST') throw err;
      }
      const holder = Number(fs.readFileSync(file, 'utf8').trim() || 0);
      if (!holder || !alive(holder)) {
        // Left behind by a run that was killed: take it over.
        fs.rmSync(file, { force: true });
        return false;
      }
      if (!told) say(`waiting for another preparation of this checkout (pid ${holder}) to finish`);
      told = true;
      return false;
    },
    {
      timeoutMs,
      intervalMs: 200,
      onTimeout: () => new PrepareError(`another preparation has held ${file} for ${timeoutMs / 60_000} minutes`, 'If no npm start/test is running, delete that file.'),
    },
  );
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    try {
      if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.rmSync(file, { force: true });
    } catch {
      // already gone
    }
  };
  process.once('exit', release);
  return release;
}
