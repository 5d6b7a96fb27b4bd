// Applies the committed migrations (prisma/<flavour>/migrations/*/migration.sql),
// as `prisma migrate deploy` would: same folders, same _prisma_migrations rows
// (checksum = sha256 of the file), each migration in one transaction. Prisma's own
// command needs an engine binary this machine cannot download; a user who has it
// can run it on the same folders.
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { type Flavour, flavourOf, migrationsDir, sqlitePath } from './flavour.ts';

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: number;
}

export class MigrationError extends Error {}

export function readMigrations(flavour: Flavour): Migration[] {
  const dir = migrationsDir(flavour);
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const sql = fs.readFileSync(path.join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: unknown;
  rolled_back_at: unknown;
}

/** Which migrations still need to run; refuses a history that was edited or left half-applied. */
export function pendingMigrations(all: Migration[], rows: AppliedRow[]): Migration[] {
  const failed = rows.filter((r) => !r.finished_at && !r.rolled_back_at);
  if (failed.length) {
    throw new MigrationError(
      `migration ${failed[0].migration_name} failed earlier and was not rolled back; fix the database by hand, then delete its row from _prisma_migrations`,
    );
  }
  const done = new Map(rows.filter((r) => r.finished_at).map((r) => [r.migration_name, r.checksum]));
  for (const m of all) {
    const checksum = done.get(m.name);
    if (checksum && checksum !== m.checksum) {
      throw new MigrationError(`migration ${m.name} was changed after it was applied; migrations are append-only, add a new one instead`);
    }
  }
  return all.filter((m) => !done.has(m.name));
}

const SQLITE_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
)`;

const POSTGRES_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

function migrateSqlite(url: string, all: Migration[]): MigrateResult {
  const file = sqlitePath(url);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  try {
    // WAL lets readers (API requests) go on while a build writes logs.
    db.pragma('journal_mode = WAL');
    db.exec(SQLITE_TABLE);
    // Prisma rebuilds a changed SQLite table (create new, copy, drop old, rename). With
    // foreign keys on, dropping the old table would cascade-delete every row that
    // refers to it; and inside a transaction the script's own PRAGMA foreign_keys=OFF
    // does nothing. So keys go off before the transaction and are checked before commit.
    db.pragma('foreign_keys = OFF');
    // IMMEDIATE takes the write lock first, so two servers starting together apply each migration once.
    const run = db.transaction(() => {
      const rows = db.prepare('SELECT migration_name, checksum, finished_at, rolled_back_at FROM _prisma_migrations').all() as AppliedRow[];
      const pending = pendingMigrations(all, rows);
      for (const m of pending) {
        db.exec(m.sql);
        const broken = db.pragma('foreign_key_check') as { table: string; parent: string }[];
        if (broken.length) {
          throw new MigrationError(`migration ${m.name} leaves rows of ${broken[0].table} pointing at missing ${broken[0].parent} rows; nothing was applied`);
        }
        db.prepare(
          `INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
           VALUES (?, ?, current_timestamp, ?, current_timestamp, 1)`,
        ).run(randomUUID(), m.checksum, m.name);
      }
      return { applied: pending.map((m) => m.name), alreadyApplied: all.length - pending.length };
    });
    return run.immediate();
  } finally {
    db.pragma('foreign_keys = ON');
    db.close();
  }
}

// Prisma Migrate's own advisory lock key, so Harrier and `prisma migrate deploy` exclude each other.
const PRISMA_ADVISORY_LOCK = 72707369;

async function migratePostgres(url: string, all: Migration[]): Promise<MigrateResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK]);
    await client.query(POSTGRES_TABLE);
    const { rows } = await client.query<AppliedRow>('SELECT migration_name, checksum, finished_at, rolled_back_at FROM _prisma_migrations');
    const pending = pendingMigrations(all, rows);
    for (const m of pending) {
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query(
          `INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
           VALUES ($1, $2, now(), $3, now(), 1)`,
          [randomUUID(), m.checksum, m.name],
        );
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new MigrationError(`migration ${m.name} failed and was rolled back: ${(error as Error).message}`);
      }
    }
    return { applied: pending.map((m) => m.name), alreadyApplied: all.length - pending.length };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_ADVISORY_LOCK]).catch(() => {});
    await client.end();
  }
}

/** Applies the pending migrations; `migrations` (default: all committed ones) lets tests stop part-way. */
export async function migrate(url: string, migrations?: Migration[]): Promise<MigrateResult> {
  const flavour = flavourOf(url);
  const all = migrations ?? readMigrations(flavour);
  return flavour === 'sqlite' ? migrateSqlite(url, all) : migratePostgres(url, all);
}
