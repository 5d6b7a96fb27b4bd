// Provider tokens, refresh tokens and webhook secrets at rest: sealed for their row,
// and rows from before encryption sealed when the server starts.
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { migratedDatabase, testDatabase } from '../../test/support/databases.ts';
import { loadServerConfig } from '../config.ts';
import type { Db } from '../db/client.ts';
import { startServer } from '../main.ts';
import { SecretBoxError } from './secret-box.ts';
import { encryptStoredCredentials, hookSecretOf, openCredential, sealCredential, sealedUserTokens, userTokens } from './stored-credentials.ts';

const config = { databaseSecret: randomBytes(32).toString('hex') };
const now = 1_700_000_000;

async function plainRows(db: Db) {
  const alice = await db.user.create({ data: { provider: 'github', providerId: '1', login: 'alice', token: 'gho_alice', refresh: 'ghr_alice', createdAt: now, updatedAt: now } });
  const bob = await db.user.create({ data: { provider: 'bitbucket', providerId: '{b}', login: 'bob', token: 'bb_bob', createdAt: now, updatedAt: now } });
  const none = await db.user.create({ data: { provider: 'github', providerId: '3', login: 'none', createdAt: now, updatedAt: now } });
  const repo = await db.repo.create({
    data: { provider: 'github', uid: 'r1', namespace: 'alice', name: 'app', slug: 'alice/app', active: true, hookSecret: 'hook-secret-of-app', createdAt: now, updatedAt: now },
  });
  const quiet = await db.repo.create({ data: { provider: 'github', uid: 'r2', namespace: 'alice', name: 'quiet', slug: 'alice/quiet', createdAt: now, updatedAt: now } });
  return { alice, bob, none, repo, quiet };
}

describe('sealing and opening', () => {
  it('seals a value for one row: it opens there, and not on another row nor under another kind', () => {
    const sealed = sealCredential(config, 'user-token', 7, 'gho_secret');
    expect(sealed).toMatch(/^v1:/);
    expect(sealed).not.toContain('gho_secret');
    expect(openCredential(config, 'user-token', 7, sealed)).toBe('gho_secret');
    expect(() => openCredential(config, 'user-token', 8, sealed)).toThrow(SecretBoxError);
    expect(() => openCredential(config, 'user-refresh', 7, sealed)).toThrow(SecretBoxError);
    expect(() => openCredential(config, 'hook-secret', 7, sealed)).toThrow(SecretBoxError);
  });

  it('keeps "none" as an empty string', () => {
    expect(sealedUserTokens(config, 1, { token: 'x', refresh: '' }).refresh).toBe('');
    expect(userTokens(config, { id: 1, token: '', refresh: '' })).toEqual({ token: '', refresh: '' });
  });

  it('refuses to seal without HARRIER_DATABASE_SECRET, saying how to set it', () => {
    expect(() => sealCredential({ databaseSecret: '' }, 'hook-secret', 1, 'x')).toThrow(/HARRIER_DATABASE_SECRET is not set.*openssl rand -hex 32/);
  });

  it('does not open a plain value: every stored credential must be sealed', () => {
    expect(() => hookSecretOf(config, { id: 1, hookSecret: 'plain' })).toThrow(SecretBoxError);
  });
});

describe.each(['sqlite', 'postgres'] as const)('encrypting existing rows on %s', (flavour) => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('seals plain tokens, refresh tokens and webhook secrets, leaves empty ones, and changes nothing the second time', async () => {
    const database = await migratedDatabase(flavour);
    close = () => database.close();
    const { db } = database;
    const rows = await plainRows(db);

    const first = await encryptStoredCredentials(db, config);
    expect(first).toEqual({ users: 2, repos: 1 });
    const alice = await db.user.findUniqueOrThrow({ where: { id: rows.alice.id } });
    expect(alice.token).toMatch(/^v1:/);
    expect(alice.refresh).toMatch(/^v1:/);
    expect(userTokens(config, alice)).toEqual({ token: 'gho_alice', refresh: 'ghr_alice' });
    const bob = await db.user.findUniqueOrThrow({ where: { id: rows.bob.id } });
    expect(userTokens(config, bob)).toEqual({ token: 'bb_bob', refresh: '' });
    expect(bob.refresh).toBe('');
    expect(await db.user.findUniqueOrThrow({ where: { id: rows.none.id } })).toMatchObject({ token: '', refresh: '' });
    const repo = await db.repo.findUniqueOrThrow({ where: { id: rows.repo.id } });
    expect(repo.hookSecret).toMatch(/^v1:/);
    expect(hookSecretOf(config, repo)).toBe('hook-secret-of-app');
    expect((await db.repo.findUniqueOrThrow({ where: { id: rows.quiet.id } })).hookSecret).toBe('');

    expect(await encryptStoredCredentials(db, config)).toEqual({ users: 0, repos: 0 });
    expect((await db.user.findUniqueOrThrow({ where: { id: rows.alice.id } })).token).toBe(alice.token);

    // A sealed value copied onto another row does not open there.
    await db.user.update({ where: { id: rows.bob.id }, data: { token: alice.token } });
    const moved = await db.user.findUniqueOrThrow({ where: { id: rows.bob.id } });
    expect(() => userTokens(config, moved)).toThrow(SecretBoxError);
  });
});

describe('a server starting on a database written before encryption', () => {
  it('seals the plain rows before it serves', async () => {
    const database = await testDatabase('sqlite');
    const env = {
      HARRIER_DATABASE_URL: database.url,
      HARRIER_RPC_SECRET: 'x',
      HARRIER_PORT: '0',
      HARRIER_DATABASE_SECRET: config.databaseSecret,
      HARRIER_REDIS_PREFIX: `harrier-test-${randomBytes(4).toString('hex')}`,
    };
    // The first start creates the tables; the rows then arrive as an older version wrote them.
    const first = await startServer(loadServerConfig(env), pino({ level: 'silent' }));
    const rows = await plainRows(first.ctx.db);
    await first.close();
    const server = await startServer(loadServerConfig(env), pino({ level: 'silent' }));
    try {
      const alice = await server.ctx.db.user.findUniqueOrThrow({ where: { id: rows.alice.id } });
      expect(alice.token).toMatch(/^v1:/);
      expect(userTokens(config, alice).token).toBe('gho_alice');
      const repo = await server.ctx.db.repo.findUniqueOrThrow({ where: { id: rows.repo.id } });
      expect(hookSecretOf(config, repo)).toBe('hook-secret-of-app');
    } finally {
      await server.close();
      await database.drop();
    }
  });
});
