// Which database a URL names, and where its files live.
import fs from 'node:fs';
import path from 'node:path';

export type Flavour = 'sqlite' | 'postgres';

export function flavourOf(url: string): Flavour {
  if (/^postgres(ql)?:\/\//.test(url)) return 'postgres';
  if (url.startsWith('file:')) return 'sqlite';
  throw new Error(
    `HARRIER_DATABASE_URL="${url}" is neither a SQLite file (file:/path/harrier.sqlite) nor PostgreSQL (postgres://user:pass@host:5432/db)`,
  );
}

export function sqlitePath(url: string): string {
  return path.resolve(url.replace(/^file:/, '').replace(/\?.*$/, ''));
}

/** The folder holding package.json, found from this file whether it runs from source or from dist/. */
export function packageRoot(): string {
  let dir = import.meta.dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find Harrier's package.json above ${import.meta.dirname}`);
    dir = parent;
  }
  return dir;
}

export function migrationsDir(flavour: Flavour): string {
  return path.join(packageRoot(), 'prisma', flavour, 'migrations');
}
