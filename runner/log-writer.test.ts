import { describe, expect, it } from 'vitest';
import type { LogLine } from '../core/domain.ts';
import { LogWriter } from './log-writer.ts';

function recorder(delayMs = 0) {
  const batches: LogLine[][] = [];
  const send = async (lines: LogLine[]) => {
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    batches.push(lines);
  };
  return { batches, send, lines: () => batches.flat() };
}

describe('LogWriter', () => {
  it('splits chunks into numbered lines with a trailing newline, joining lines cut across chunks', async () => {
    const rec = recorder();
    const w = new LogWriter({ send: rec.send });
    w.write(Buffer.from('one\ntw'));
    w.write(Buffer.from('o\nthree\n'));
    await w.close();
    expect(rec.lines().map((l) => [l.pos, l.out])).toEqual([
      [0, 'one\n'],
      [1, 'two\n'],
      [2, 'three\n'],
    ]);
  });

  it('flushes a partial last line at close', async () => {
    const rec = recorder();
    const w = new LogWriter({ send: rec.send });
    w.write('done without newline');
    await w.close();
    expect(rec.lines()).toEqual([{ pos: 0, out: 'done without newline\n', time: 0 }]);
  });

  it('keeps a multi-byte character split across chunks intact', async () => {
    const rec = recorder();
    const w = new LogWriter({ send: rec.send });
    const bytes = Buffer.from('naïve ✓\n');
    w.write(bytes.subarray(0, 3));
    w.write(bytes.subarray(3, 9));
    w.write(bytes.subarray(9));
    await w.close();
    expect(rec.lines()[0].out).toBe('naïve ✓\n');
  });

  it('stamps each line with whole seconds since the step started', async () => {
    let now = 10_000;
    const rec = recorder();
    const w = new LogWriter({ send: rec.send, startedAt: 10_000, now: () => now });
    w.write('a\n');
    now = 12_600;
    w.write('b\n');
    await w.close();
    expect(rec.lines().map((l) => l.time)).toEqual([0, 2]);
  });

  it('sends buffered lines within the flush interval without waiting for close', async () => {
    let sent: (lines: LogLine[]) => void = () => {};
    const first = new Promise<LogLine[]>((resolve) => (sent = resolve));
    const w = new LogWriter({ send: async (lines) => sent(lines), flushIntervalMs: 250 });
    w.write('early\n');
    // Only the timer can send it: close() is called after.
    expect((await first).map((l) => l.out)).toEqual(['early\n']);
    await w.close();
  });

  it('batches lines written together into one request', async () => {
    const rec = recorder();
    const w = new LogWriter({ send: rec.send });
    for (let i = 0; i < 50; i++) w.write(`line ${i}\n`);
    await w.close();
    expect(rec.batches.length).toBe(1);
    expect(rec.batches[0].length).toBe(50);
  });

  it('sends a large batch at once instead of waiting for the timer', async () => {
    let sent: (lines: LogLine[]) => void = () => {};
    const first = new Promise<LogLine[]>((resolve) => (sent = resolve));
    // The timer would send it only after the test's time limit; close() is called after.
    const w = new LogWriter({ send: async (lines) => sent(lines), flushIntervalMs: 10 * 60_000, maxBatchLines: 10 });
    for (let i = 0; i < 10; i++) w.write(`line ${i}\n`);
    expect((await first).length).toBe(10);
    await w.close();
  });

  it('keeps order and loses nothing with a slow server and one request in flight', async () => {
    const rec = recorder(15);
    let inFlight = 0;
    let maxInFlight = 0;
    const w = new LogWriter({
      send: async (lines) => {
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        await rec.send(lines);
        inFlight--;
      },
      flushIntervalMs: 5,
      maxBatchLines: 7,
    });
    for (let i = 0; i < 200; i++) {
      w.write(`n${i}\n`);
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 3));
    }
    await w.close();
    expect(maxInFlight).toBe(1);
    expect(rec.lines().map((l) => l.pos)).toEqual([...Array(200).keys()]);
    expect(rec.lines().map((l) => l.out)).toEqual([...Array(200).keys()].map((i) => `n${i}\n`));
  });

  it('retries a batch the server refused, keeping order', async () => {
    const rec = recorder();
    let failures = 1;
    const w = new LogWriter({
      send: async (lines) => {
        if (failures-- > 0) throw new Error('server down');
        await rec.send(lines);
      },
    });
    w.write('a\nb\n');
    await w.close();
    expect(rec.lines().map((l) => l.out)).toEqual(['a\n', 'b\n']);
  });

  it('asks the writer to wait while too many bytes are unsent', async () => {
    // Each send is held until the test lets it go; `sending` resolves when the next one starts.
    const held: (() => void)[] = [];
    let started: () => void = () => {};
    let sending = new Promise<void>((r) => (started = r));
    const w = new LogWriter({
      send: () =>
        new Promise<void>((r) => {
          held.push(r);
          started();
        }),
      highWaterBytes: 100,
      maxBatchBytes: 1_000_000,
      flushIntervalMs: 1,
    });
    expect(w.write('x'.repeat(50) + '\n')).toBeUndefined();
    await sending;
    sending = new Promise<void>((r) => (started = r));
    const wait = w.write('y'.repeat(200) + '\n');
    expect(wait).toBeInstanceOf(Promise);
    let resolved = false;
    void wait!.then(() => (resolved = true));
    held.shift()!();
    await sending;
    expect(resolved).toBe(false);
    held.shift()!();
    await wait;
    expect(resolved).toBe(true);
    await w.close();
  });

  it('masks secret values, also inside longer lines and across chunk boundaries', async () => {
    const rec = recorder();
    const w = new LogWriter({ send: rec.send, secrets: ['hunter2', 'tok-abc'] });
    w.write('password=hunt');
    w.write('er2 and tok-abc\n');
    w.write('clean line\n');
    await w.close();
    expect(rec.lines().map((l) => l.out)).toEqual(['password=****** and ******\n', 'clean line\n']);
  });

  it('masks a multi-line secret line by line', async () => {
    const rec = recorder();
    const key = '-----BEGIN KEY-----\nMIIBOgIBAAJBAK\nZZZsecretline\n-----END KEY-----\n';
    const w = new LogWriter({ send: rec.send, secrets: [key] });
    w.write(`cat key:\n${key}tail ZZZsecretline here\n`);
    await w.close();
    expect(rec.lines().map((l) => l.out)).toEqual(['cat key:\n', '******\n', '******\n', '******\n', '******\n', 'tail ****** here\n']);
  });

  it('masks the longer of two overlapping secrets whole', async () => {
    const rec = recorder();
    const w = new LogWriter({ send: rec.send, secrets: ['abc', 'abcdef'] });
    w.write('xabcdefx abc\n');
    await w.close();
    expect(rec.lines()[0].out).toBe('x******x ******\n');
  });
});
