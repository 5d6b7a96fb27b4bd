import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RunnerConfigError } from './config.ts';
import { ensurePrivateDir } from './workspace-dir.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'harrier-private-dir-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const modeOf = (dir: string) => fs.statSync(dir).mode & 0o777;

describe('ensurePrivateDir', () => {
  it('makes a missing folder and its missing parents with mode 0700, whatever the umask', async () => {
    const dir = path.join(root, 'made', 'nested', 'ws');
    const old = process.umask(0);
    try {
      expect(await ensurePrivateDir(dir)).toEqual({ tightened: false });
    } finally {
      process.umask(old);
    }
    expect(modeOf(dir)).toBe(0o700);
    expect(modeOf(path.join(root, 'made', 'nested'))).toBe(0o700);
  });

  it('tightens an existing folder that others may read or write to 0700', async () => {
    const dir = path.join(root, 'loose');
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o1777);
    expect(await ensurePrivateDir(dir)).toEqual({ tightened: true });
    expect(modeOf(dir)).toBe(0o700);
    expect(await ensurePrivateDir(dir)).toEqual({ tightened: false });
  });

  it('refuses a path that is a file, saying what to do', async () => {
    const file = path.join(root, 'a-file');
    fs.writeFileSync(file, '');
    await expect(ensurePrivateDir(file)).rejects.toThrow(RunnerConfigError);
    await expect(ensurePrivateDir(file)).rejects.toThrow(/HARRIER_RUNNER_WORKSPACE/);
  });

  it.runIf(process.getuid?.() === 0)('refuses a folder that belongs to another user, who could change the builds', async () => {
    const dir = path.join(root, 'someone-else');
    fs.mkdirSync(dir, { mode: 0o700 });
    fs.chownSync(dir, 4321, 4321);
    await expect(ensurePrivateDir(dir)).rejects.toThrow(
      new RegExp(`workspace folder ${dir} belongs to user 4321, not to the runner's user 0, .*set HARRIER_RUNNER_WORKSPACE to a folder of the runner's own`),
    );
  });
});
