import { describe, expect, it } from 'vitest';
import { checkDrift } from './migrations.ts';
import { derivePostgresSchema, readSchema } from './providers.ts';

describe('database schemas and migrations', () => {
  it('agree: both schemas are covered by their committed migrations and the PostgreSQL schema is derived from the SQLite one', async () => {
    expect(await checkDrift()).toEqual([]);
  });

  it('derive the PostgreSQL schema by swapping only the provider and the client output', () => {
    const derived = derivePostgresSchema(readSchema('sqlite'));
    expect(derived).toContain('provider = "postgresql"');
    expect(derived).toContain('generated/postgres');
    expect(derived).not.toContain('provider = "sqlite"');
  });
});
