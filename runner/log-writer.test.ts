import { describe, expect, it, vi } from 'vitest';
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

  it('sends a line at once when no request is in flight, with no timer and no further write', async () => {
    // Every timer is faked and none is ever advanced: only a send made right away can deliver the line.
    vi.useFakeTimers();
    try {
      let sent: (lines: LogLine[]) => void = () => {};
      const first = new Promise<LogLine[]>((resolve) => (sent = resolve));
      const w = new LogWriter({ send: async (lines) => sent(lines) });
      w.write('early\n');
      expect((await first).map((l) => l.out)).toEqual(['early\n']);
      expect(vi.getTimerCount()).toBe(0);
      await w.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('batches lines written together into one request', async () => {
    const rec = recorder();
    const w = new LogWriter({ send: rec.send });
    for (let i = 0; i < 50; i++) w.write(`line ${i}\n`);
    await w.close();
    expect(rec.batches.length).toBe(1);
    expect(rec.batches[0].length).toBe(50);
  });

  it('gathers the lines that come while a request is in flight into the next one', async () => {
    // Each send is held until the test lets it go.
    const held: (() => void)[] = [];
    const batches: string[][] = [];
    let started: () => void = () => {};
    let sending = new Promise<void>((r) => (started = r));
    const w = new LogWriter({
      send: (lines) =>
        new Promise<void>((resolve) => {
          batches.push(lines.map((l) => l.out));
          held.push(resolve);
          started();
        }),
    });
    w.write('one\n');
    await sending;
    sending = new Promise<void>((r) => (started = r));
    for (let i = 0; i < 1000; i++) {
      w.write(`more ${i}\n`);
      await Promise.resolve();
    }
    expect(batches).toHaveLength(1);
    held.shift()!();
    await sending;
    expect(batches).toHaveLength(2);
    expect(batches[1]).toEqual([...Array(1000).keys()].map((i) => `more ${i}\n`));
    held.shift()!();
    await w.close();
  });

  it('sends far fewer requests than lines under load, each within the batch limits', async () => {
    const rec = recorder(1);
    const w = new LogWriter({ send: rec.send, maxBatchLines: 300, maxBatchBytes: 2_000 });
    for (let i = 0; i < 20_000; i++) {
      const wait = w.write(`load ${i}\n`);
      if (wait) await wait;
      // Lines come one by one, with a turn of the event loop between some of them, as a step's output does.
      if (i % 100 === 0) await new Promise((r) => setImmediate(r));
    }
    await w.close();
    expect(rec.lines().map((l) => l.out)).toEqual([...Array(20_000).keys()].map((i) => `load ${i}\n`));
    expect(rec.lines().map((l) => l.pos)).toEqual([...Array(20_000).keys()]);
    expect(rec.batches.length).toBeLessThan(20_000 / 50);
    for (const batch of rec.batches) {
      expect(batch.length).toBeLessThanOrEqual(300);
      // A batch is closed once it reaches the byte limit, so it passes it by at most one line.
      expect(batch.slice(0, -1).reduce((n, l) => n + l.out.length, 0)).toBeLessThan(2_000);
    }
  });

  it('keeps the unsent bytes under the high-water mark and one batch with a slow server', async () => {
    const highWaterBytes = 20_000;
    const maxBatchBytes = 5_000;
    let written = 0;
    let delivered = 0;
    let most = 0;
    let waits = 0;
    const w = new LogWriter({
      send: async (lines) => {
        await new Promise((r) => setTimeout(r, 2));
        delivered += lines.reduce((n, l) => n + l.out.length, 0);
      },
      highWaterBytes,
      maxBatchBytes,
    });
    for (let i = 0; i < 5_000; i++) {
      const line = `slow ${i} ${'x'.repeat(i % 40)}\n`;
      written += line.length;
      most = Math.max(most, written - delivered);
      const wait = w.write(line);
      if (wait) {
        waits++;
        await wait;
      }
    }
    await w.close();
    expect(delivered).toBe(written);
    // The writer did have to wait, often: far more was written than the mark.
    expect(written).toBeGreaterThan(5 * highWaterBytes);
    expect(waits).toBeGreaterThan(5);
    // More than a batch was held back while the server was slow, never more than the bound.
    expect(most).toBeGreaterThan(maxBatchBytes);
    expect(most).toBeLessThanOrEqual(highWaterBytes + maxBatchBytes);
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
    const w = new LogWriter({ send: rec.send, secrets: ['abcd', 'abcdefgh'] });
    w.write('xabcdefghx abcd\n');
    await w.close();
    expect(rec.lines()[0].out).toBe('x******x ******\n');
  });

  it('masks a secret that straddles the point where a long line is split', async () => {
    const secret = 'straddling-s3cret';
    for (const offset of [0, 1, 5, secret.length - 1]) {
      const rec = recorder();
      const w = new LogWriter({ send: rec.send, secrets: [secret], maxLineBytes: 100 });
      // The secret begins `offset` characters before the 100th, in chunks of 7 characters.
      const text = `${'a'.repeat(100 - offset)}${secret}${'b'.repeat(250)}`;
      for (let i = 0; i < text.length; i += 7) w.write(text.slice(i, i + 7));
      await w.close();
      const lines = rec.lines().map((l) => l.out);
      expect(lines.length, `offset ${offset}`).toBeGreaterThan(1);
      expect(lines.join(''), `offset ${offset}`).not.toContain(secret.slice(0, 4));
      expect(lines.join('').replace(/\n/g, ''), `offset ${offset}`).toBe(`${'a'.repeat(100 - offset)}******${'b'.repeat(250)}`);
      for (const line of lines) expect(line.length).toBeLessThanOrEqual(100 + secret.length + 1);
    }
  });

  it('does not mask values shorter than 4 characters, which would hide ordinary text', async () => {
    const rec = recorder();
    const w = new LogWriter({ send: rec.send, secrets: ['abc', 'a'] });
    w.write('abc a banana\n');
    await w.close();
    expect(rec.lines()[0].out).toBe('abc a banana\n');
  });

  it('cuts the log at its limit with one last line that says so, and keeps nothing after it', async () => {
    const rec = recorder();
    const w = new LogWriter({ send: rec.send, maxLogBytes: 1024 });
    for (let i = 0; i < 500; i++) w.write(`line ${i}\n`);
    w.line('a line of the runner after the cut');
    await w.close();
    const lines = rec.lines().map((l) => l.out);
    const kept = lines.slice(0, -1);
    expect(kept.join('').length).toBeLessThanOrEqual(1024);
    expect(kept.join('').length).toBeGreaterThan(1024 - 'line 499\n'.length);
    expect(kept[0]).toBe('line 0\n');
    expect(lines.at(-1)).toBe(
      `[harrier] the log was cut here: the step wrote more than the limit of 1 KiB (HARRIER_RUNNER_LOG_LIMIT=1024 bytes). ${kept.join('').length} bytes were kept ` +
        "and the rest of its output is dropped; the step runs on to its end. The runner's operator can raise HARRIER_RUNNER_LOG_LIMIT.\n",
    );
    expect(rec.lines().map((l) => l.pos)).toEqual(lines.map((_, i) => i));
    expect(w.cut).toBe(true);
  });

  it('counts the limit in bytes of the masked lines, so a multi-byte line counts as what it stores', async () => {
    const rec = recorder();
    const w = new LogWriter({ send: rec.send, maxLogBytes: 1024 });
    w.write(`${'✓'.repeat(300)}\n`); // 900 bytes and a newline
    w.write(`${'✓'.repeat(50)}\n`); // 150 more would pass 1024
    await w.close();
    expect(rec.lines().map((l) => l.out.slice(0, 12))).toEqual(['✓'.repeat(12), '[harrier] th']);
  });

  it('ends the log with the reason when the rest of the output cannot be read, and is cut', async () => {
    const rec = recorder();
    const w = new LogWriter({ send: rec.send });
    w.write('first\npartial');
    w.cutHere('the output stopped');
    w.write('later\n');
    await w.close();
    expect(rec.lines().map((l) => l.out)).toEqual(['first\n', 'partial\n', '[harrier] the log ends here: the output stopped.\n']);
    expect(w.cut).toBe(true);
  });

  it('is not cut when the output stays under the limit', async () => {
    const rec = recorder();
    const w = new LogWriter({ send: rec.send, maxLogBytes: 1024 });
    w.write('x'.repeat(1022) + '\n');
    await w.close();
    expect(rec.lines()).toHaveLength(1);
    expect(w.cut).toBe(false);
  });
});
