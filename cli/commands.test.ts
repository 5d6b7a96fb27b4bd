import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { localSecret } from './commands.ts';

it('makes each of harrier up\'s secrets once, keeps it private in the data folder, and reuses it', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'harrier-up-'));
  try {
    const rpc = localSecret(dir, 'rpc-secret');
    const db = localSecret(dir, 'database-secret');
    expect(rpc).toMatch(/^[0-9a-f]{64}$/);
    expect(db).toMatch(/^[0-9a-f]{64}$/);
    expect(db).not.toBe(rpc);
    expect(localSecret(dir, 'database-secret')).toBe(db);
    expect(fs.statSync(path.join(dir, 'database-secret')).mode & 0o777).toBe(0o600);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
