import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogLine } from '../../core/domain.ts';
import type { Database } from '../db/client.ts';
import { migratedDatabase } from '../../test/support/databases.ts';
import { CHUNK_LINES } from './log-chunk.ts';
import { appendLogLines, logLinePages, readLogLines } from './log-store.ts';

describe.each(['sqlite', 'postgres'] as const)('log lines on %s', (flavour) => {
  let database: Database;
  let build = 0;
  const published: { lines: LogLine[] }[] = [];
  let listening = true;
  const events = {
    publish: async (_channel: string, message: unknown) => void published.push(message as { lines: LogLine[] }),
    listening: async () => listening,
  };
  const ctx = () => ({ db: database.db, events: events as never });

  beforeAll(async () => {
    database = await migratedDatabase(flavour);
    await database.db.repo.create({ data: { provider: 'github', uid: '1', namespace: 'o', name: 'r', slug: 'o/r', createdAt: 1, updatedAt: 1 } });
  });
  afterAll(async () => {
    await database?.close();
  });

  /** A step of its own, so each test starts from an empty log. */
  async function newStep(): Promise<number> {
    const created = await database.db.build.create({
      data: {
        repoId: 1, number: ++build, status: 'running', event: 'push', createdAt: 1, updatedAt: 1,
        stages: { create: [{ repoId: 1, number: 1, name: 'd', status: 'running', createdAt: 1, updatedAt: 1, steps: { create: [{ number: 1, name: 's', status: 'running' }] } }] },
      },
      include: { stages: { include: { steps: true } } },
    });
    return created.stages[0].steps[0].id;
  }

  const line = (pos: number): LogLine => ({ pos, out: `line ${pos} ✓ "quoted" \\ \t\u0001\n`, time: pos });
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => line(from + i));
  const positions = (lines: LogLine[]) => lines.map((l) => l.pos);

  it('stores a batch, and drops lines a retried batch sends again, announcing only new ones', async () => {
    const step = await newStep();
    expect(await appendLogLines(ctx(), step, [line(0), line(1), line(2)])).toBe(3);
    published.length = 0;
    expect(await appendLogLines(ctx(), step, [line(1), line(2), line(3)])).toBe(1);
    expect(published).toEqual([{ lines: [line(3)] }]);
    expect(await appendLogLines(ctx(), step, [line(0), line(1), line(2), line(3)])).toBe(0);
    expect(published).toHaveLength(1);
    expect(await readLogLines(ctx(), step)).toEqual(range(0, 4));
  });

  it('stores lines no one watches without announcing them', async () => {
    const step = await newStep();
    published.length = 0;
    listening = false;
    try {
      expect(await appendLogLines(ctx(), step, range(0, 3))).toBe(3);
    } finally {
      listening = true;
    }
    expect(published).toEqual([]);
    expect(await readLogLines(ctx(), step)).toEqual(range(0, 3));
  });

  it('keeps a batch in as few rows as its runs of consecutive positions, split only past a chunk\'s size', async () => {
    const step = await newStep();
    const many = [...range(0, 4), ...range(10, 10 + CHUNK_LINES + 5)].reverse();
    expect(await appendLogLines(ctx(), step, many)).toBe(4 + CHUNK_LINES + 5);
    const rows = await database.db.logChunk.findMany({ where: { stepId: step }, orderBy: { first: 'asc' }, select: { first: true, last: true, codec: true } });
    expect(rows).toEqual([
      { first: 0, last: 3, codec: 'deflate' },
      { first: 10, last: 10 + CHUNK_LINES - 1, codec: 'deflate' },
      { first: 10 + CHUNK_LINES, last: 10 + CHUNK_LINES + 4, codec: 'deflate' },
    ]);
    expect(await readLogLines(ctx(), step, 2_000, 3)).toEqual([line(2_001), line(2_002), line(2_003)]);
    expect(await readLogLines(ctx(), step, 1, 4)).toEqual([line(2), line(3), line(10), line(11)]);
    expect(await readLogLines(ctx(), step)).toEqual([...range(0, 4), ...range(10, 10 + CHUNK_LINES + 5)]);
  });

  it('stores lines that arrive after later ones, filling the gap they left', async () => {
    const step = await newStep();
    expect(await appendLogLines(ctx(), step, range(20, 30))).toBe(10);
    expect(await appendLogLines(ctx(), step, range(0, 10))).toBe(10);
    expect(await appendLogLines(ctx(), step, range(5, 25))).toBe(10);
    expect(await readLogLines(ctx(), step)).toEqual(range(0, 30));
  });

  it('stores every line exactly once when retried and overlapping batches race each other', async () => {
    const step = await newStep();
    published.length = 0;
    // A runner that lost answers sends from its oldest unconfirmed line again, with more lines each time; some batches overlap only in part.
    const batches = [range(0, 100), range(0, 150), range(0, 300), range(50, 200), range(100, 400), range(0, 400), range(350, 500), range(120, 130)];
    const counts = await Promise.all([...batches, ...batches].map((b) => appendLogLines(ctx(), step, b)));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(500);
    expect(await readLogLines(ctx(), step)).toEqual(range(0, 500));
    const announced = positions(published.flatMap((m) => m.lines)).sort((a, b) => a - b);
    expect(announced).toEqual(positions(range(0, 500)));
    const rows = await database.db.logChunk.findMany({ where: { stepId: step }, orderBy: { first: 'asc' }, select: { first: true, last: true } });
    expect(rows.reduce((n, r) => n + r.last - r.first + 1, 0)).toBe(500);
  });

  it('reads pages from any position, a limited count, and each position once even where stored chunks overlap', async () => {
    const step = await newStep();
    await appendLogLines(ctx(), step, range(0, 10));
    // Rows as an older or broken writer might have left them: plain JSON, and overlapping the chunk before.
    const json = (lines: LogLine[]) => Buffer.from(JSON.stringify(lines.map((l) => [l.out, l.time])));
    await database.db.logChunk.create({ data: { stepId: step, first: 8, last: 14, bytes: 0, codec: 'json', data: json(range(8, 15)) } });
    await database.db.logChunk.create({ data: { stepId: step, first: 15, last: 15, bytes: 0, codec: 'json', data: json(range(15, 16)) } });
    expect(await readLogLines(ctx(), step)).toEqual(range(0, 16));
    expect(await readLogLines(ctx(), step, 9, 3)).toEqual(range(10, 13));
    expect(await readLogLines(ctx(), step, 15)).toEqual([]);
    const pages: number[][] = [];
    for await (const page of logLinePages(ctx(), step, { from: 4, count: 9 })) pages.push(positions(page));
    expect(pages).toEqual([[4, 5, 6, 7, 8, 9], [10, 11, 12]]);
  });

  it('names the damaged chunk when one cannot be read', async () => {
    const step = await newStep();
    await database.db.logChunk.create({ data: { stepId: step, first: 0, last: 2, bytes: 0, codec: 'json', data: Buffer.from('[["a",0]]') } });
    await expect(readLogLines(ctx(), step)).rejects.toThrow(`log chunk (step ${step}, lines 0..2) holds 1 lines instead of 3; the row is damaged`);
    await database.db.logChunk.create({ data: { stepId: step, first: 3, last: 3, bytes: 0, codec: 'zstd', data: Buffer.from('') } });
    await expect(readLogLines(ctx(), step, 2)).rejects.toThrow(/codec "zstd", which this server cannot read/);
  });
});
