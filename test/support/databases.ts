// Throwaway databases for tests: a SQLite file in a temp folder, or a fresh
// PostgreSQL database on the server that `npm test` starts (HARRIER_TEST_POSTGRES_URL).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openDatabase, type Database } from '../../server/db/client.ts';
import { migrate } from '../../server/db/migrate.ts';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

export function postgresAdminUrl(): string {
  const url = process.env.HARRIER_TEST_POSTGRES_URL;
  if (!url) {
    throw new Error('HARRIER_TEST_POSTGRES_URL is not set: run the suite with `npm test`, which starts PostgreSQL and sets it');
  }
  return url;
}

export function sqliteTestDatabase(): TestDatabase {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'harrier-db-'));
  return { url: `file:${path.join(dir, 'harrier.sqlite')}`, drop: async () => fs.rmSync(dir, { recursive: true, force: true }) };
}

const INSUFFICIENT_PRIVILEGE = '42501';

export async function postgresTestDatabase(): Promise<TestDatabase> {
  const admin = postgresAdminUrl();
  const name = `harrier_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } catch (err) {
        // FORCE may end only our role's sessions: an autovacuum worker busy on the fresh
        // database (likelier on a loaded machine) makes it fail. A plain DROP asks autovacuum
        // to stop and waits for it, once our own sessions there are ended.
        if ((err as { code?: string }).code !== INSUFFICIENT_PRIVILEGE) throw err;
        await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND usename = current_user AND pid <> pg_backend_pid()', [name]);
        await c.query(`DROP DATABASE IF EXISTS ${name}`);
      } finally {
        await c.end();
      }
    },
  };
}

export async function testDatabase(flavour: 'sqlite' | 'postgres' = 'sqlite'): Promise<TestDatabase> {
  return flavour === 'sqlite' ? sqliteTestDatabase() : postgresTestDatabase();
}

/** A migrated database and a Prisma client on it; `close` drops everything. */
export async function migratedDatabase(flavour: 'sqlite' | 'postgres' = 'sqlite'): Promise<Database & { url: string }> {
  const t = await testDatabase(flavour);
  await migrate(t.url);
  const database = openDatabase(t.url);
  return {
    ...database,
    url: t.url,
    async close() {
      await database.close();
      await t.drop();
    },
  };
}
