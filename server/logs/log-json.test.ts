import { createHash } from 'node:crypto';
import http from 'node:http';
import { Writable } from 'node:stream';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogLine } from '../../core/domain.ts';
import { startApiHarness, type ApiHarness } from '../../test/support/http.ts';
import { appendLogLines, readLogLines } from './log-store.ts';
import { MAX_LOG_LIMIT } from './log-json.ts';

const LINES = 200_000;
/** Each line about 200 bytes, so the whole log's JSON is about 45 MB. */
const line = (pos: number): LogLine => ({ pos, out: `${String(pos).padStart(8, '0')} ${'x'.repeat(180)}\n`, time: 1_700_000_000 + Math.floor(pos / 1000) });
const json = (lines: LogLine[]) => JSON.stringify(lines);

/** Stores the lines of `line(pos)` for pos 0..count-1 as a runner would send them, in batches. */
async function insertLines(h: ApiHarness, stepId: number, count: number) {
  const batch = 10_000;
  let stored = 0;
  for (let from = 0; from < count; from += batch) {
    const lines = Array.from({ length: Math.min(batch, count - from) }, (_, i) => line(from + i));
    stored += await appendLogLines({ db: h.db, events: { publish: async () => undefined, listening: async () => true } as never }, stepId, lines);
  }
  expect(stored).toBe(count);
}

async function seedLog(h: ApiHarness, lines: number) {
  const db = h.db;
  const now = h.ctx.now();
  const repo = await db.repo.create({
    data: { provider: 'github', uid: '1', namespace: 'octo', name: 'logs', slug: 'octo/logs', private: false, visibility: 'public', active: true, createdAt: now, updatedAt: now },
  });
  const build = await db.build.create({
    data: {
      repoId: repo.id, number: 1, status: 'success', event: 'push', createdAt: now, updatedAt: now,
      stages: { create: [{ repoId: repo.id, number: 1, name: 'test', status: 'success', createdAt: now, updatedAt: now, steps: { create: [{ number: 1, name: 'chatty', status: 'success' }, { number: 2, name: 'quiet', status: 'success' }] } }] },
    },
    include: { stages: { include: { steps: true } } },
  });
  const stepId = build.stages[0].steps.find((s) => s.number === 1)!.id;
  await insertLines(h, stepId, lines);
  return { stepId };
}

/** What the log's JSON hashes to, computed from the lines the test wrote. */
function expectedHash(from: number, to: number): { hash: string; bytes: number } {
  const hash = createHash('sha256');
  let bytes = 0;
  const add = (s: string) => {
    hash.update(s);
    bytes += s.length;
  };
  add('[');
  for (let pos = from; pos < to; pos++) add((pos > from ? ',' : '') + JSON.stringify(line(pos)));
  add(']');
  return { hash: hash.digest('hex'), bytes };
}

async function bodyHash(url: string): Promise<{ status: number; hash: string; headers: Headers }> {
  const res = await fetch(url);
  const hash = createHash('sha256');
  for await (const chunk of res.body!) hash.update(chunk);
  return { status: res.status, hash: hash.digest('hex'), headers: res.headers };
}

const LOG = '/api/repos/octo/logs/builds/1/logs/1/1';

describe.each(['sqlite', 'postgres'] as const)('a step log read as JSON on %s', (flavour) => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness({ flavour });
    await seedLog(h, LINES);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('answers the same bytes as the whole array serialized at once', async () => {
    const stepId = (await h.db.step.findFirstOrThrow({ where: { name: 'chatty' } })).id;
    const res = await fetch(`${h.url}${LOG}?offset=199990`);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await res.text()).toBe(json(await readLogLines(h.ctx, stepId, 199_989)));
    const empty = await fetch(`${h.url}/api/repos/octo/logs/builds/1/logs/1/2`);
    expect(await empty.text()).toBe('[]');
  });

  it('gives each of several concurrent readers every line of a 200,000-line log, in order', async () => {
    const expected = expectedHash(0, LINES);
    const answers = await Promise.all(Array.from({ length: 4 }, () => bodyHash(`${h.url}${LOG}`)));
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.hash).toBe(expected.hash);
    }
  });

  it('answers pages with ?offset= (first position) and ?limit= (number of lines)', async () => {
    const page = await h.browser().json<LogLine[]>(`${LOG}?offset=1000&limit=3`);
    expect(page.body).toEqual([line(1000), line(1001), line(1002)]);
    expect((await h.browser().json<LogLine[]>(`${LOG}?limit=2`)).body).toEqual([line(0), line(1)]);
    expect((await h.browser().json<LogLine[]>(`${LOG}?offset=${LINES - 2}&limit=10`)).body).toEqual([line(LINES - 2), line(LINES - 1)]);
    expect((await h.browser().json<LogLine[]>(`${LOG}?offset=${LINES}`)).body).toEqual([]);
    expect((await h.browser().json<LogLine[]>(`${LOG}?limit=0`)).body).toEqual([]);
    const big = await bodyHash(`${h.url}${LOG}?offset=150000&limit=${MAX_LOG_LIMIT}`);
    expect(big.hash).toBe(expectedHash(150_000, 150_000 + MAX_LOG_LIMIT).hash);
  });

  it.each([
    ['offset=-1', /offset: must be a whole number, 0 or more/],
    ['offset=1.5', /offset: must be a whole number/],
    ['limit=ten', /limit: must be a whole number/],
    [`limit=${MAX_LOG_LIMIT + 1}`, new RegExp(`limit: must be at most ${MAX_LOG_LIMIT}; read the rest with offset`)],
    ['offset=99999999999999999999', /offset: is too large/],
  ])('refuses ?%s with 400 saying what a valid value is', async (query, message) => {
    const res = await h.browser().json(`${LOG}?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/^invalid query: /);
    expect(res.body.message).toMatch(message);
  });
});

/** Runs the garbage collector, so what the heap holds is what is still referenced. */
function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  // Twice: objects with finalizers need a second pass.
  gc();
  gc();
}

/** The server's debug log events, by the client port they concern. */
function listenToLog(h: ApiHarness) {
  const events: { event: string; port: number; lines?: number }[] = [];
  const waiters: (() => void)[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const text of String(chunk).split('\n').filter(Boolean)) {
        const entry = JSON.parse(text);
        if (entry.event) events.push(entry);
      }
      for (const wake of waiters.splice(0)) wake();
      done();
    },
  });
  h.ctx.logger = pino({ level: 'debug' }, sink);
  const until = async (check: () => boolean) => {
    while (!check()) await new Promise<void>((resolve) => waiters.push(resolve));
  };
  return { events, until };
}

/** Starts a GET whose client reads nothing after the headers: the server can only send as much as the sockets buffer. */
function pausedReader(url: string): Promise<{ port: number; req: http.ClientRequest }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.pause();
      resolve({ port: req.socket!.localPort!, req });
    });
    req.on('error', reject);
  });
}

describe('a step log read by slow clients', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness({ flavour: 'sqlite' });
    await seedLog(h, LINES);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('holds about a page per reader, not the log, while five paused clients read a 45 MB log', async () => {
    const log = listenToLog(h);
    const logBytes = expectedHash(0, LINES).bytes;
    // Warm up (database connections, compiled queries), so what grows below is what the readers hold.
    await bodyHash(`${h.url}${LOG}?offset=${LINES - 5_000}`);
    collectGarbage();
    const before = process.memoryUsage();
    const readers = await Promise.all(Array.from({ length: 5 }, () => pausedReader(`${h.url}${LOG}`)));
    // Each reader has filled its socket and now waits for the client: what it holds now is all it will hold.
    await log.until(() => readers.every((r) => log.events.some((e) => e.event === 'log_read_waiting' && e.port === r.port)));
    collectGarbage();
    const after = process.memoryUsage();
    const growth = after.heapUsed + after.external - (before.heapUsed + before.external);
    // Reading the whole log into memory would hold it at least once per reader (5 × 45 MB, as rows and as JSON).
    expect(growth).toBeLessThan(logBytes / 3);

    // A client that goes away stops its reader, short of the end of the log.
    for (const r of readers) r.req.destroy();
    await log.until(() => readers.every((r) => log.events.some((e) => e.event === 'log_read_stopped' && e.port === r.port)));
    for (const r of readers) {
      const stopped = log.events.find((e) => e.event === 'log_read_stopped' && e.port === r.port)!;
      expect(stopped.lines).toBeLessThan(LINES);
    }
  });
});

describe('a 1,000,000-line step log written and read on one server', () => {
  const MILLION = 1_000_000;
  const seq = (pos: number): LogLine => ({ pos, out: `${pos + 1}\n`, time: Math.floor(pos / 100_000) });
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness({ flavour: 'sqlite' });
    await seedLog(h, 0);
  });
  afterAll(async () => {
    await h?.close();
  });

  const heap = () => {
    collectGarbage();
    const m = process.memoryUsage();
    return m.heapUsed + m.external;
  };

  it('grows the heap by a bound that does not depend on the log\'s length, writing it in runner batches and reading it whole', async () => {
    const log = listenToLog(h);
    const stepId = (await h.db.step.findFirstOrThrow({ where: { name: 'chatty' } })).id;
    const ctx = { db: h.db, events: { publish: async () => undefined, listening: async () => true } as never };
    const batch = (from: number) => Array.from({ length: Math.min(10_000, MILLION - from) }, (_, i) => seq(from + i));
    // Warm up (compiled queries, zlib) on the other step, so what grows below is what the log holds.
    const quiet = (await h.db.step.findFirstOrThrow({ where: { name: 'quiet' } })).id;
    await appendLogLines(ctx, quiet, batch(0));
    await bodyHash(`${h.url}/api/repos/octo/logs/builds/1/logs/1/2`);

    const before = heap();
    for (let from = 0; from < MILLION; from += 10_000) await appendLogLines(ctx, stepId, batch(from));
    const written = heap() - before;
    // The log as JSON: what the server would hold if it kept the log, or read it whole into memory.
    const logBytes = expectedSeqHash(MILLION).bytes;
    expect(logBytes).toBeGreaterThan(30e6);
    expect(written).toBeLessThan(8e6);

    // Five clients that stop reading: each reader waits with what it holds, at most.
    const readers = await Promise.all(Array.from({ length: 5 }, () => pausedReader(`${h.url}${LOG}`)));
    await log.until(() => readers.every((r) => log.events.some((e) => e.event === 'log_read_waiting' && e.port === r.port)));
    const reading = heap() - before;
    expect(reading).toBeLessThan(24e6);
    for (const r of readers) r.req.destroy();
    await log.until(() => readers.every((r) => log.events.some((e) => e.event === 'log_read_stopped' && e.port === r.port)));

    // And one client that takes it all gets every line, byte for byte.
    const whole = await bodyHash(`${h.url}${LOG}`);
    expect(whole.hash).toBe(expectedSeqHash(MILLION).hash);
    expect(heap() - before).toBeLessThan(8e6);
  });

  function expectedSeqHash(count: number): { hash: string; bytes: number } {
    const hash = createHash('sha256');
    let bytes = 0;
    const add = (s: string) => {
      hash.update(s);
      bytes += s.length;
    };
    add('[');
    for (let pos = 0; pos < count; pos++) add((pos ? ',' : '') + JSON.stringify(seq(pos)));
    add(']');
    return { hash: hash.digest('hex'), bytes };
  }
});
