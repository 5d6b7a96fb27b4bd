// The runner's workspace folders are private to the runner's user: a build's files (its
// source, its secrets written to disk, its artefacts) are no one else's to read or change.
import fs from 'node:fs/promises';
import { RunnerConfigError } from './config.ts';

export const PRIVATE_DIR_MODE = 0o700;

/**
 * Makes `dir` (and any missing parent) with mode 0700, or checks an existing one: it must
 * be a folder of the runner's own user; one that others may read or write is tightened to
 * 0700. Resolves to whether it was tightened. Rejects with a RunnerConfigError that says
 * what to do when the folder cannot be made private.
 */
export async function ensurePrivateDir(dir: string): Promise<{ tightened: boolean }> {
  const fix = 'remove it, or set HARRIER_RUNNER_WORKSPACE to a folder of the runner\'s own';
  try {
    await fs.mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  } catch (err) {
    throw new RunnerConfigError(`could not make the workspace folder ${dir}: ${(err as Error).message}; set HARRIER_RUNNER_WORKSPACE to a folder the runner may write`);
  }
  const stat = await fs.stat(dir);
  if (!stat.isDirectory()) throw new RunnerConfigError(`the workspace folder ${dir} is not a folder; ${fix}`);
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) {
    throw new RunnerConfigError(
      `the workspace folder ${dir} belongs to user ${stat.uid}, not to the runner's user ${uid}, who could then read and change every build's files; ${fix}`,
    );
  }
  if ((stat.mode & 0o777) === PRIVATE_DIR_MODE) return { tightened: false };
  await fs.chmod(dir, PRIVATE_DIR_MODE);
  return { tightened: true };
}
