import { createHash } from 'node:crypto';
import fs from 'node:fs';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { testDatabase, type TestDatabase } from '../../test/support/databases.ts';
import type { LogLine } from '../../core/domain.ts';
import { readLogLines } from '../logs/log-store.ts';
import { openDatabase } from './client.ts';
import { migrate, pendingMigrations, readMigrations } from './migrate.ts';
import { sqlitePath } from './flavour.ts';

const cleanups: TestDatabase[] = [];
afterEach(async () => {
  for (const t of cleanups.splice(0)) await t.drop();
});

async function appliedRows(url: string): Promise<{ migration_name: string; checksum: string; finished: boolean }[]> {
  if (url.startsWith('file:')) {
    const db = new Database(sqlitePath(url));
    const rows = db.prepare('SELECT migration_name, checksum, finished_at FROM _prisma_migrations ORDER BY migration_name').all() as any[];
    db.close();
    return rows.map((r) => ({ migration_name: r.migration_name, checksum: r.checksum, finished: r.finished_at != null }));
  }
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const { rows } = await c.query('SELECT migration_name, checksum, finished_at FROM _prisma_migrations ORDER BY migration_name');
  await c.end();
  return rows.map((r) => ({ migration_name: r.migration_name, checksum: r.checksum, finished: r.finished_at != null }));
}

describe.each(['sqlite', 'postgres'] as const)('migrate on %s', (flavour) => {
  it('applies every migration once and records it as prisma migrate deploy does', async () => {
    const t = await testDatabase(flavour);
    cleanups.push(t);
    const first = await migrate(t.url);
    const all = readMigrations(flavour);
    expect(first.applied).toEqual(all.map((m) => m.name));
    const second = await migrate(t.url);
    expect(second).toEqual({ applied: [], alreadyApplied: all.length });
    const rows = await appliedRows(t.url);
    expect(rows).toEqual(
      all.map((m) => ({ migration_name: m.name, checksum: createHash('sha256').update(m.sql).digest('hex'), finished: true })),
    );
  });

  it('lets two servers starting together apply the migrations exactly once', async () => {
    const t = await testDatabase(flavour);
    cleanups.push(t);
    const results = await Promise.all([migrate(t.url), migrate(t.url)]);
    expect(results.flatMap((r) => r.applied)).toEqual(readMigrations(flavour).map((m) => m.name));
    expect(await appliedRows(t.url)).toHaveLength(readMigrations(flavour).length);
  });
});

describe('pendingMigrations', () => {
  const all = [
    { name: '1_init', sql: 'a', checksum: 'x' },
    { name: '2_more', sql: 'b', checksum: 'y' },
  ];

  it('returns the migrations not yet finished', () => {
    expect(pendingMigrations(all, [{ migration_name: '1_init', checksum: 'x', finished_at: 'now', rolled_back_at: null }])).toEqual([all[1]]);
  });

  it('refuses a migration edited after it was applied', () => {
    expect(() => pendingMigrations(all, [{ migration_name: '1_init', checksum: 'changed', finished_at: 'now', rolled_back_at: null }])).toThrow(
      /1_init was changed after it was applied/,
    );
  });

  it('refuses to go on after a migration that failed half-way', () => {
    expect(() => pendingMigrations(all, [{ migration_name: '1_init', checksum: 'x', finished_at: null, rolled_back_at: null }])).toThrow(
      /1_init failed earlier/,
    );
  });
});

describe('committed migrations', () => {
  it('keep the folder layout prisma migrate deploy reads', () => {
    for (const flavour of ['sqlite', 'postgres'] as const) {
      const base = new URL(`../../prisma/${flavour}/migrations/`, import.meta.url);
      expect(fs.readFileSync(new URL('migration_lock.toml', base), 'utf8')).toMatch(/provider = "(sqlite|postgresql)"/);
      expect(readMigrations(flavour).length).toBeGreaterThan(0);
    }
  });
});

describe.each(['sqlite', 'postgres'] as const)('upgrading a database that holds data on %s', (flavour) => {
  it('keeps every row when a later migration rebuilds tables that others refer to', async () => {
    const t = await testDatabase(flavour);
    cleanups.push(t);
    const all = readMigrations(flavour);
    expect(all.length).toBeGreaterThan(1);
    await migrate(t.url, all.slice(0, 1));
    const rows = [
      `INSERT INTO "Repo" ("provider", "uid", "namespace", "name", "slug", "createdAt", "updatedAt") VALUES ('github', '1', 'o', 'r', 'o/r', 1, 1)`,
      `INSERT INTO "Build" ("repoId", "number", "status", "event", "createdAt", "updatedAt") VALUES (1, 1, 'success', 'push', 1, 1)`,
      `INSERT INTO "Stage" ("repoId", "buildId", "number", "name", "status", "createdAt", "updatedAt") VALUES (1, 1, 1, 'default', 'success', 1, 1)`,
      `INSERT INTO "Step" ("stageId", "number", "name", "status") VALUES (1, 1, 'clone', 'success')`,
      `INSERT INTO "LogLine" ("stepId", "pos", "out", "time") VALUES (1, 0, 'hello', 0)`,
    ];
    const counts = await sql(t.url, rows, ['Repo', 'Build', 'Stage', 'Step', 'LogLine']);
    expect(counts).toEqual([1, 1, 1, 1, 1]);
    await migrate(t.url);
    // Log lines became chunks (20261130134539_log_chunks_stored_deliveries; tested below).
    expect(await sql(t.url, [], ['Repo', 'Build', 'Stage', 'Step', 'LogChunk'])).toEqual([1, 1, 1, 1, 1]);
  });

  it('moves the log lines of one row each into plain-JSON chunks that read back byte for byte, and marks older deliveries built', async () => {
    const t = await testDatabase(flavour);
    cleanups.push(t);
    const all = readMigrations(flavour);
    const chunks = all.findIndex((m) => m.name.endsWith('_log_chunks_stored_deliveries'));
    expect(chunks).toBeGreaterThan(0);
    await migrate(t.url, all.slice(0, chunks));
    const lines: LogLine[] = [
      { pos: 0, out: 'plain\n', time: 0 },
      { pos: 1, out: 'quotes " and \\ backslashes, a tab\t, a bell \u0007, CR LF\r\n', time: 1 },
      { pos: 2, out: 'accents é, CJK 鳥, astral 🐦, line separator \u2028\n', time: 2 },
      { pos: 3, out: '', time: 3 },
      { pos: 4, out: `${'long '.repeat(40_000)}\n`, time: 1_700_000_000 },
      { pos: 7, out: 'after a gap\n', time: 9 },
    ];
    await sql(t.url, [
      `INSERT INTO "Repo" ("provider", "uid", "namespace", "name", "slug", "createdAt", "updatedAt") VALUES ('github', '1', 'o', 'r', 'o/r', 1, 1)`,
      `INSERT INTO "Build" ("repoId", "number", "status", "event", "createdAt", "updatedAt") VALUES (1, 1, 'success', 'push', 1, 1)`,
      `INSERT INTO "Stage" ("repoId", "buildId", "number", "name", "status", "createdAt", "updatedAt") VALUES (1, 1, 1, 'default', 'success', 1, 1)`,
      `INSERT INTO "Step" ("stageId", "number", "name", "status") VALUES (1, 1, 'a', 'success'), (1, 2, 'b', 'success')`,
      `INSERT INTO "Delivery" ("provider", "guid", "bodyHash", "createdAt") VALUES ('github', 'd-1', 'h1', 100), ('bitbucket', '{d-2}', 'h2', 200)`,
    ], [], [
      // Out of order, as runners' retries could leave them, and a second step's line in between.
      ...[...lines].reverse().map((l) => ({ text: `INSERT INTO "LogLine" ("stepId", "pos", "out", "time") VALUES (1, ${l.pos}, $1, ${l.time})`, value: l.out })),
      { text: `INSERT INTO "LogLine" ("stepId", "pos", "out", "time") VALUES (2, 0, $1, 5)`, value: 'other step\n' },
    ]);
    await migrate(t.url);

    const database = openDatabase(t.url);
    try {
      const { db } = database;
      expect(await readLogLines({ db }, 1)).toEqual(lines);
      expect(await readLogLines({ db }, 2)).toEqual([{ pos: 0, out: 'other step\n', time: 5 }]);
      expect(await readLogLines({ db }, 1, 3, 2)).toEqual([lines[4], lines[5]]);
      const rows = await db.logChunk.findMany({ orderBy: [{ stepId: 'asc' }, { first: 'asc' }], select: { stepId: true, first: true, last: true, bytes: true, codec: true } });
      expect(rows).toEqual([
        ...lines.map((l) => ({ stepId: 1, first: l.pos, last: l.pos, bytes: [...l.out].length, codec: 'json' })),
        { stepId: 2, first: 0, last: 0, bytes: 11, codec: 'json' },
      ]);
      const deliveries = await db.delivery.findMany({ orderBy: { id: 'asc' }, select: { provider: true, guid: true, bodyHash: true, status: true, createdAt: true, finishedAt: true } });
      expect(deliveries).toEqual([
        { provider: 'github', guid: 'd-1', bodyHash: 'h1', status: 'built', createdAt: 100, finishedAt: 100 },
        { provider: 'bitbucket', guid: '{d-2}', bodyHash: 'h2', status: 'built', createdAt: 200, finishedAt: 200 },
      ]);
    } finally {
      await database.close();
    }
  });
});

/** Runs statements (and statements with one text parameter, $1), then counts the rows of each table. */
async function sql(url: string, statements: string[], tables: string[], withText: { text: string; value: string }[] = []): Promise<number[]> {
  if (url.startsWith('file:')) {
    const db = new Database(sqlitePath(url));
    for (const s of statements) db.exec(s);
    for (const s of withText) db.prepare(s.text.replace('$1', '?')).run(s.value);
    const counts = tables.map((t) => (db.prepare(`SELECT COUNT(*) AS n FROM "${t}"`).get() as { n: number }).n);
    db.close();
    return counts;
  }
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  for (const s of statements) await c.query(s);
  for (const s of withText) await c.query(s.text, [s.value]);
  const counts: number[] = [];
  for (const t of tables) counts.push(Number((await c.query(`SELECT COUNT(*) AS n FROM "${t}"`)).rows[0].n));
  await c.end();
  return counts;
}
