import { describe, expect, it } from 'vitest';
import { toLogBatch } from '../../core/protocol.ts';
import { logBatchSchema, parseLogBatch } from './rpc-schemas.ts';

describe('parseLogBatch', () => {
  it('takes what logBatchSchema takes, and keeps only pos, out and time', () => {
    const body = [
      { pos: 0, out: 'a\n', time: 0 },
      { pos: 1, out: '', time: 1.5, extra: 'dropped' },
    ];
    expect(parseLogBatch(body)).toEqual(logBatchSchema.parse(body));
    expect(parseLogBatch(body)[1]).toEqual({ pos: 1, out: '', time: 1.5 });
  });

  it('takes lines in columns, at consecutive positions from first', () => {
    const batch = toLogBatch([
      { pos: 7, out: 'a\n', time: 0 },
      { pos: 8, out: 'b\n', time: 2 },
    ]);
    expect(batch).toEqual({ first: 7, out: ['a\n', 'b\n'], time: [0, 2] });
    expect(logBatchSchema.safeParse(batch).success).toBe(true);
    expect(parseLogBatch(batch)).toEqual([
      { pos: 7, out: 'a\n', time: 0 },
      { pos: 8, out: 'b\n', time: 2 },
    ]);
    // Positions with a gap cannot go in columns: they go as lines.
    expect(toLogBatch([{ pos: 1, out: '', time: 0 }, { pos: 3, out: '', time: 0 }])).toEqual([{ pos: 1, out: '', time: 0 }, { pos: 3, out: '', time: 0 }]);
  });

  it.each([
    ['columns of different lengths', { first: 0, out: ['a'], time: [0, 1] }],
    ['columns with a negative first', { first: -1, out: ['a'], time: [0] }],
    ['columns with text that is not a string', { first: 0, out: [1], time: [0] }],
    ['columns with a negative time', { first: 0, out: ['a'], time: [-2] }],
    ['columns without times', { first: 0, out: ['a'] }],
    ['not an array', 'lines'],
    ['a negative position', [{ pos: -1, out: 'x', time: 0 }]],
    ['a fractional position', [{ pos: 1.5, out: 'x', time: 0 }]],
    ['text that is not a string', [{ pos: 0, out: 5, time: 0 }]],
    ['a missing time', [{ pos: 0, out: 'x' }]],
    ['a negative time', [{ pos: 0, out: 'x', time: -1 }]],
    ['a null line', [null]],
    ['more than 50,000 lines', Array.from({ length: 50_001 }, (_, pos) => ({ pos, out: '', time: 0 }))],
  ])('refuses %s with 400 and zod’s account of it', (_what, body) => {
    expect(logBatchSchema.safeParse(body).success).toBe(false);
    expect(() => parseLogBatch(body)).toThrow(/invalid log batch: /);
    try {
      parseLogBatch(body);
    } catch (err) {
      expect((err as { status?: number }).status).toBe(400);
    }
  });
});
