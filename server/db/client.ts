// Opens Prisma on the database the URL names: SQLite through better-sqlite3 (the
// embedded default) or PostgreSQL through pg. The two generated clients come from
// one model (prisma/sqlite/schema.prisma, with the PostgreSQL schema derived from
// it), so the rest of the server uses one type for both.
import fs from 'node:fs';
import path from 'node:path';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient as SqliteClient } from './generated/sqlite/client.ts';
import { PrismaClient as PostgresClient } from './generated/postgres/client.ts';
import { type Flavour, flavourOf, sqlitePath } from './flavour.ts';

export type Db = InstanceType<typeof SqliteClient>;
export type { Prisma } from './generated/sqlite/client.ts';

export interface Database {
  db: Db;
  flavour: Flavour;
  close(): Promise<void>;
}

export function openDatabase(url: string): Database {
  const flavour = flavourOf(url);
  if (flavour === 'sqlite') {
    const file = sqlitePath(url);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const db = new SqliteClient({ adapter: new PrismaBetterSqlite3({ url: file, timeout: 10_000 }) });
    return { db, flavour, close: () => db.$disconnect() };
  }
  // Same models, same methods: the PostgreSQL client is used through the SQLite client's type.
  const db = new PostgresClient({ adapter: new PrismaPg({ connectionString: url }) }) as unknown as Db;
  return { db, flavour, close: () => db.$disconnect() };
}
