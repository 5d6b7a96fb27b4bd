// The server's log storage alone, without a runner or Docker: 1,000,000 `seq`-like lines
// ("1\n" … "1000000\n") appended in runner-sized batches, then read back through the
// streaming JSON route, on SQLite and on PostgreSQL. Each figure has a baseline from the
// same run on the same database:
// - append: the batch as the RPC route takes it (JSON text parsed, validated, stored).
//   Baseline: the same lines as one row each, in multi-row INSERTs of 1,000 rows into a
//   scratch table keyed (stepId, pos): what storing a line as a row costs.
// - stored bytes per line: the chunks' data. Baseline: the lines' text itself.
// - read: GET …/logs/{stage}/{step} (sendLogJson) over HTTP, every byte taken by the client.
//   Baseline: JSON.stringify of the same 1,000,000 lines, in memory.
// PostgreSQL needs HARRIER_TEST_POSTGRES_URL (a server where the role may create databases, as
// `npm test` sets up); without it only SQLite is measured.
//   npx tsx bench/log-store.ts [lines] [batch]
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import pino from 'pino';
import type { LogLine } from '../core/domain.ts';
import type { ServerContext } from '../server/context.ts';
import type { Db } from '../server/db/client.ts';
import { sendLogJson } from '../server/logs/log-json.ts';
import { appendLogLines } from '../server/logs/log-store.ts';
import { parseLogBatch } from '../server/rpc/rpc-schemas.ts';
import { migratedDatabase } from '../test/support/databases.ts';
import { reportFigures, type BenchFigure } from './figures.ts';

const LINES = Number(process.argv[2] ?? 1_000_000);
const BATCH = Number(process.argv[3] ?? 10_000);

const seqLine = (pos: number): LogLine => ({ pos, out: `${pos + 1}\n`, time: Math.floor(pos / 100_000) });

/** The request bodies a runner would send, as text: parsing them is part of the server's cost. */
function bodies(): string[] {
  const out: string[] = [];
  for (let from = 0; from < LINES; from += BATCH) {
    out.push(JSON.stringify(Array.from({ length: Math.min(BATCH, LINES - from) }, (_, i) => seqLine(from + i))));
  }
  return out;
}

async function newStep(db: Db, number: number): Promise<number> {
  const repo = await db.repo.upsert({
    where: { provider_uid: { provider: 'github', uid: 'bench' } },
    create: { provider: 'github', uid: 'bench', namespace: 'bench', name: 'logs', slug: 'bench/logs', createdAt: 1, updatedAt: 1 },
    update: {},
  });
  const build = await db.build.create({
    data: {
      repoId: repo.id, number, status: 'success', event: 'push', createdAt: 1, updatedAt: 1,
      stages: { create: [{ repoId: repo.id, number: 1, name: 'bench', status: 'success', createdAt: 1, updatedAt: 1, steps: { create: [{ number: 1, name: 'seq', status: 'success' }] } }] },
    },
    include: { stages: { include: { steps: true } } },
  });
  return build.stages[0].steps[0].id;
}

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

async function appendHarrier(db: Db, stepId: number, texts: string[]): Promise<number> {
  const ctx = { db, events: { publish: async () => undefined, listening: async () => true } as never };
  const start = process.hrtime.bigint();
  for (const text of texts) await appendLogLines(ctx, stepId, parseLogBatch(JSON.parse(text)));
  return LINES / seconds(start);
}

/** The baseline: every line a row of its own, 1,000 rows to an INSERT, as Harrier stored logs before chunks. */
async function appendRows(db: Db, texts: string[]): Promise<number> {
  await db.$executeRawUnsafe('DROP TABLE IF EXISTS "BenchLine"');
  await db.$executeRawUnsafe('CREATE TABLE "BenchLine" ("stepId" INTEGER NOT NULL, "pos" INTEGER NOT NULL, "out" TEXT NOT NULL, "time" INTEGER NOT NULL, PRIMARY KEY ("stepId", "pos"))');
  const postgres = (db as unknown as { _activeProvider: string })._activeProvider === 'postgresql';
  const start = process.hrtime.bigint();
  for (const text of texts) {
    const lines = JSON.parse(text) as LogLine[];
    for (let i = 0; i < lines.length; i += 1_000) {
      const rows = lines.slice(i, i + 1_000);
      const params: unknown[] = [];
      const values = rows.map((l) => {
        params.push(1, l.pos, l.out, l.time);
        const n = params.length;
        return postgres ? `($${n - 3}, $${n - 2}, $${n - 1}, $${n})` : '(?, ?, ?, ?)';
      });
      await db.$executeRawUnsafe(`INSERT INTO "BenchLine" ("stepId", "pos", "out", "time") VALUES ${values.join(', ')}`, ...params);
    }
  }
  const rate = LINES / seconds(start);
  await db.$executeRawUnsafe('DROP TABLE "BenchLine"');
  return rate;
}

/** Reads the log through sendLogJson over HTTP; returns lines a second and the bytes answered. */
async function readHarrier(db: Db, stepId: number): Promise<{ rate: number; bytes: number }> {
  const ctx = { db, logger: pino({ level: 'warn' }) } as unknown as ServerContext;
  const app = express();
  app.get('/log', (req, res, next) => void sendLogJson(ctx, req, res, stepId, 1, 0).catch(next));
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const start = process.hrtime.bigint();
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/log`);
    let bytes = 0;
    for await (const part of res.body!) bytes += part.byteLength;
    return { rate: LINES / seconds(start), bytes };
  } finally {
    server.close();
  }
}

function stringifyRate(): { rate: number; bytes: number } {
  const lines = Array.from({ length: LINES }, (_, i) => seqLine(i));
  const start = process.hrtime.bigint();
  const text = JSON.stringify(lines);
  return { rate: LINES / seconds(start), bytes: Buffer.byteLength(text) };
}

async function measure(flavour: 'sqlite' | 'postgres', texts: string[]): Promise<BenchFigure[]> {
  const database = await migratedDatabase(flavour);
  const { db } = database;
  try {
    const bench = 'log-store';
    const note = `${LINES.toLocaleString('en-US')} lines, batches of ${BATCH.toLocaleString('en-US')}`;
    // Warm up (connections, compiled queries) on a step of its own.
    await appendHarrier(db, await newStep(db, 1), texts.slice(0, 2));
    const rowRate = await appendRows(db, texts);
    const stepId = await newStep(db, 2);
    const appendRate = await appendHarrier(db, stepId, texts);
    const chunks = await db.logChunk.findMany({ where: { stepId }, select: { data: true } });
    const stored = chunks.reduce((n, c) => n + c.data.byteLength, 0);
    const text = texts.reduce((n, t) => n + (JSON.parse(t) as LogLine[]).reduce((m, l) => m + Buffer.byteLength(l.out), 0), 0);
    const read = await readHarrier(db, stepId);
    const baseline = stringifyRate();
    if (read.bytes !== baseline.bytes) throw new Error(`the route answered ${read.bytes} bytes; JSON.stringify of the same lines is ${baseline.bytes}`);
    return [
      { bench, name: `append, ${flavour}`, unit: 'lines/s', value: Math.round(appendRate), baseline: { name: 'one row a line', value: Math.round(rowRate) }, target: { kind: 'ratio-at-least', limit: 1 }, note },
      { bench, name: `stored bytes a line, ${flavour}`, unit: 'B', value: stored / LINES, baseline: { name: 'the text', value: text / LINES }, note: `${chunks.length} chunks` },
      { bench, name: `read as JSON, ${flavour}`, unit: 'lines/s', value: Math.round(read.rate), baseline: { name: 'JSON.stringify', value: Math.round(baseline.rate) }, note: 'GET …/logs/{stage}/{step}' },
    ];
  } finally {
    await database.close();
  }
}

export async function run(): Promise<BenchFigure[]> {
  const texts = bodies();
  const figures = await measure('sqlite', texts);
  if (!process.env.HARRIER_TEST_POSTGRES_URL) console.warn('PostgreSQL skipped: set HARRIER_TEST_POSTGRES_URL (npm test sets up postgres://harrier:harrier@127.0.0.1:5432/postgres)');
  if (process.env.HARRIER_TEST_POSTGRES_URL) figures.push(...(await measure('postgres', texts)));
  return figures;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  reportFigures(await run());
}
