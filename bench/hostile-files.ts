// Whether hostile pipeline files can stall the server: /healthz round trips while a real
// server (a child process, as `harrier server` runs) reads merge bombs, deep nesting,
// oversized files, costly condition patterns and a legitimately large file, pushed over
// and over; against the same server idle, and a bare Express handler, in the same run.
// Also how long each hostile push takes to be answered with its error build.
// Target (issue 9): /healthz within 100 ms while hostile files are processed; each
// hostile file refused within a second.
// Needs PostgreSQL and Redis as `npm test` prepares them, and dist/ built by it.
//   npx tsx bench/hostile-files.ts [rounds]
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import express from 'express';
import { checkPipelines, matchConditions, type MatchFacts } from '../pipeline/index.ts';
import { type Fleet, oneStepPipeline, startFleet } from '../test/support/fleet.ts';
import { HEAD, costlyPaths, deepBrackets, mergeBomb, oversized } from '../test/support/hostile-pipelines.ts';
import { elapsedMs, printTable, type Row } from './stats.ts';

process.env.HARRIER_TEST_POSTGRES_URL ??= 'postgres://harrier:harrier@127.0.0.1:5432/postgres';
const ROUNDS = Number(process.argv[2] ?? 3);
const FACTS: MatchFacts = { branch: 'main', event: 'push', ref: 'refs/heads/main', target: '', cron: '', action: '', repo: 'bench/x', instance: 'ci', status: 'success' };

const LARGE = `${HEAD}steps:\n${Array.from({ length: 900 }, (_, i) => `- name: s${i}\n  image: alpine:3\n  commands: [echo ${i}, echo two, echo three]\n  environment: {A: "1", B: "2", C: "3"}\n`).join('')}`;

const ALL_FILES: Record<string, { file: string; changed?: (round: number) => Record<string, string> }> = {
  'bench/merge-bomb': { file: mergeBomb(8) },
  'bench/deep': { file: deepBrackets(200_000) },
  'bench/oversized': { file: oversized(1_100_000) },
  // New names every round: the pattern is matched against the files the push changed.
  'bench/costly-paths': { file: costlyPaths().file, changed: (round) => costlyPaths(round).changed },
  'bench/900-steps': { file: LARGE },
};

// BENCH_FILES=deep,900-steps picks some of them, to see which one costs what.
const FILES = Object.fromEntries(
  Object.entries(ALL_FILES).filter(([slug]) => !process.env.BENCH_FILES || process.env.BENCH_FILES.split(',').some((f) => slug === `bench/${f}`)),
);

// Sampled on a thread of its own: the pushes run git synchronously on this one, which
// would otherwise show up as the server's latency.
const SAMPLER = `
const { parentPort, workerData } = require('node:worker_threads');
let stop = false;
parentPort.on('message', () => (stop = true));
(async () => {
  const samples = [];
  while (!stop || samples.length < workerData.min) {
    const t = process.hrtime.bigint();
    await (await fetch(workerData.url)).text();
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
    await new Promise((r) => setTimeout(r, 10));
  }
  parentPort.postMessage(samples);
})().catch((err) => parentPort.postMessage({ error: String(err) }));
`;

function sampleHealth(url: string, min = 50): { stop(): Promise<number[]> } {
  const worker = new Worker(SAMPLER, { eval: true, workerData: { url, min } });
  const result = new Promise<number[]>((resolve, reject) =>
    worker.once('message', (m: number[] | { error: string }) => (Array.isArray(m) ? resolve(m) : reject(new Error(m.error)))),
  );
  return {
    async stop() {
      worker.postMessage('stop');
      const samples = await result;
      await worker.terminate();
      return samples;
    },
  };
}

/** The server's own longest event-loop stall since the last scrape (prom-client resets it on each). */
async function loopStallMs(server: string): Promise<number> {
  const text = await (await fetch(`${server}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('nodejs_eventloop_lag_max_seconds '));
  return line ? Number(line.split(' ')[1]) * 1000 : NaN;
}

async function bareExpress(): Promise<number[]> {
  const app = express();
  app.get('/healthz', (_req, res) => void res.json({ ok: true }));
  const server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`;
  const samples = await sampleHealth(url, 200).stop();
  server.close();
  return samples;
}

/** The pipeline engine alone: how long each file takes to be refused (or, for the large one, read). */
function engineRows(): Row[] {
  return Object.entries(FILES).map(([name, { file, changed }]) => {
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = process.hrtime.bigint();
      const checked = checkPipelines(file, { trusted: false });
      if (checked.ok && changed) {
        const files = Object.keys(changed(i));
        try {
          checked.pipelines.forEach((p) => matchConditions(p.trigger, { ...FACTS, changedFiles: files }));
        } catch {
          // Refused: too costly to match, as expected.
        }
      }
      samples.push(elapsedMs(t));
    }
    return { name, samples };
  });
}

async function main(): Promise<void> {
  printTable('pipeline engine alone: check (and match) each file, in this process', engineRows(), Object.keys(FILES)[0]);
  const bare = await bareExpress();
  const fleet: Fleet = await startFleet({ name: 'bench-hostile', repos: Object.keys(FILES).map((slug) => ({ slug, pipeline: oneStepPipeline('a', ['echo']) })), runners: 0, serverEnv: process.env.BENCH_SERVER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_SERVER_NODE_OPTIONS } : {} });
  try {
    const health = `${fleet.servers[0].env.HARRIER_HOST}/healthz`;
    const idle = await sampleHealth(health, 200).stop();
    const answered: Record<string, number[]> = Object.fromEntries(Object.keys(FILES).map((k) => [k, []]));
    await loopStallMs(fleet.servers[0].env.HARRIER_HOST);
    const busy = sampleHealth(health);
    for (let round = 0; round < ROUNDS; round++) {
      // Commits first (git is not what is measured), then every delivery at once.
      await Promise.all(
        Object.entries(FILES).map(async ([slug, { file, changed }]) => {
          const t = process.hrtime.bigint();
          const build = await fleet.push(slug, { files: { '.drone.yml': file, ...changed?.(round) } });
          answered[slug].push(elapsedMs(t));
          if (slug !== 'bench/900-steps' && build.status !== 'error') throw new Error(`${slug}: expected an error build, got ${build.status}`);
        }),
      );
    }
    const busySamples = await busy.stop();
    const stall = await loopStallMs(fleet.servers[0].env.HARRIER_HOST);
    const rows: Row[] = [
      { name: 'bare Express /healthz', samples: bare },
      { name: 'Harrier /healthz, idle', samples: idle },
      { name: 'Harrier /healthz, reading hostile files', samples: busySamples },
    ];
    printTable('/healthz round trip while hostile pipeline files are read (target: under 100 ms)', rows, 'bare Express /healthz');
    console.log(`longest event-loop stall in the server while it read them (nodejs_eventloop_lag_max_seconds): ${stall.toFixed(1)} ms`);
    printTable(
      'push answered: git commit in this process, signed delivery, file read from the provider, error build recorded (target: under a second)',
      Object.entries(answered).map(([name, samples]) => ({ name, samples })),
      Object.keys(FILES)[0],
    );
  } catch (err) {
    console.error(fleet.output());
    throw err;
  } finally {
    await fleet.close();
  }
}

await main();
