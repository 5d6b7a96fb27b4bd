import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { loadServerConfig } from '../server/config.ts';
import { firstUserAdminByDefault, localSecret } from './commands.ts';

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

it('lets harrier up make the first account administrator only on localhost and only while HARRIER_ADMINS names nobody', () => {
  const config = (env: Record<string, string>) => loadServerConfig({ HARRIER_DATA_DIR: os.tmpdir(), ...env });
  expect(firstUserAdminByDefault(config({}))).toBe(true);
  expect(firstUserAdminByDefault(config({ HARRIER_HOST: 'http://127.0.0.1:9000' }))).toBe(true);
  expect(firstUserAdminByDefault(config({ HARRIER_HOST: 'https://ci.example.com' }))).toBe(false);
  expect(firstUserAdminByDefault(config({ HARRIER_HOST: 'http://192.168.1.20:8080' }))).toBe(false);
  expect(firstUserAdminByDefault(config({ HARRIER_ADMINS: 'alice' }))).toBe(false);
});
