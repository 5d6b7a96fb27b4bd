import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../db/client.ts';
import { migratedDatabase } from '../../test/support/databases.ts';
import { appendLogLines, readLogLines } from './log-store.ts';

describe.each(['sqlite', 'postgres'] as const)('log lines on %s', (flavour) => {
  let database: Database;
  let stepId: number;
  const published: unknown[] = [];
  const events = { publish: async (_channel: string, message: unknown) => void published.push(message) };
  const ctx = () => ({ db: database.db, events: events as never });

  beforeAll(async () => {
    database = await migratedDatabase(flavour);
    const build = await database.db.build.create({
      data: {
        repo: { create: { provider: 'github', uid: '1', namespace: 'o', name: 'r', slug: 'o/r', createdAt: 1, updatedAt: 1 } },
        number: 1, status: 'running', event: 'push', createdAt: 1, updatedAt: 1,
        stages: { create: [{ repoId: 1, number: 1, name: 'd', status: 'running', createdAt: 1, updatedAt: 1, steps: { create: [{ number: 1, name: 's', status: 'running' }] } }] },
      },
      include: { stages: { include: { steps: true } } },
    });
    stepId = build.stages[0].steps[0].id;
  });
  afterAll(async () => {
    await database?.close();
  });

  const line = (pos: number) => ({ pos, out: `line ${pos}\n`, time: pos });

  it('stores a batch, and drops lines a retried batch sends again, announcing only new ones', async () => {
    expect(await appendLogLines(ctx(), stepId, [line(0), line(1), line(2)])).toBe(3);
    published.length = 0;
    expect(await appendLogLines(ctx(), stepId, [line(1), line(2), line(3)])).toBe(1);
    expect(published).toEqual([{ lines: [line(3)] }]);
    expect((await readLogLines(ctx(), stepId)).map((l) => l.pos)).toEqual([0, 1, 2, 3]);
  });

  it('stores a batch larger than one INSERT and reads it back in order from any position', async () => {
    const many = Array.from({ length: 2_500 }, (_, i) => line(10 + i)).reverse();
    expect(await appendLogLines(ctx(), stepId, many)).toBe(2_500);
    const after = await readLogLines(ctx(), stepId, 2_000, 3);
    expect(after).toEqual([line(2_001), line(2_002), line(2_003)]);
  });
});
