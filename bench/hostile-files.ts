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
import express from 'express';
import { type Fleet, oneStepPipeline, startFleet } from '../test/support/fleet.ts';
import { elapsedMs, printTable, type Row } from './stats.ts';

process.env.HARRIER_TEST_POSTGRES_URL ??= 'postgres://harrier:harrier@127.0.0.1:5432/postgres';
const ROUNDS = Number(process.argv[2] ?? 3);
const HEAD = 'kind: pipeline\ntype: docker\nname: default\n';
const STEP = 'steps:\n- name: a\n  image: alpine:3\n  commands: [echo]\n';

function mergeBomb(levels: number): string {
  const lines = ['x0: &a0 {k: v}'];
  for (let i = 1; i <= levels; i++) lines.push(`x${i}: &a${i} {<<: [${Array(10).fill(`*a${i - 1}`).join(', ')}]}`);
  return `${HEAD}${lines.join('\n')}\n${STEP}  environment: *a${levels}\n`;
}

const LARGE = `${HEAD}steps:\n${Array.from({ length: 900 }, (_, i) => `- name: s${i}\n  image: alpine:3\n  commands: [echo ${i}, echo two, echo three]\n  environment: {A: "1", B: "2", C: "3"}\n`).join('')}`;

const ALL_FILES: Record<string, { file: string; changed?: Record<string, string> }> = {
  'bench/merge-bomb': { file: mergeBomb(8) },
  'bench/deep': { file: `${HEAD}x: ${'['.repeat(200_000)}${']'.repeat(200_000)}\n${STEP}` },
  'bench/oversized': { file: `${HEAD}${STEP}# ${'x'.repeat(1_100_000)}\n` },
  'bench/costly-paths': {
    file: `${HEAD}${STEP}trigger:\n  paths:\n    include: ['${'{*a,*b}'.repeat(300)}c']\n`,
    changed: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`${'ab'.repeat(120)}${i}`, 'x\n'])),
  },
  'bench/900-steps': { file: LARGE },
};

// BENCH_FILES=deep,900-steps picks some of them, to see which one costs what.
const FILES = Object.fromEntries(
  Object.entries(ALL_FILES).filter(([slug]) => !process.env.BENCH_FILES || process.env.BENCH_FILES.split(',').some((f) => slug === `bench/${f}`)),
);

async function sampleHealth(url: string, until: () => boolean, min = 50): Promise<number[]> {
  const samples: number[] = [];
  while (!until() || samples.length < min) {
    const t = process.hrtime.bigint();
    await (await fetch(url)).text();
    samples.push(elapsedMs(t));
    await new Promise((r) => setTimeout(r, 10));
  }
  return samples;
}

async function bareExpress(): Promise<number[]> {
  const app = express();
  app.get('/healthz', (_req, res) => void res.json({ ok: true }));
  const server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`;
  const samples = await sampleHealth(url, () => true, 200);
  server.close();
  return samples;
}

async function main(): Promise<void> {
  const bare = await bareExpress();
  const fleet: Fleet = await startFleet({ name: 'bench-hostile', repos: Object.keys(FILES).map((slug) => ({ slug, pipeline: oneStepPipeline('a', ['echo']) })), runners: 0, serverEnv: process.env.BENCH_SERVER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_SERVER_NODE_OPTIONS } : {} });
  try {
    const health = `${fleet.servers[0].env.HARRIER_HOST}/healthz`;
    const idle = await sampleHealth(health, () => true, 200);
    const answered: Record<string, number[]> = Object.fromEntries(Object.keys(FILES).map((k) => [k, []]));
    let done = false;
    const busy = sampleHealth(health, () => done);
    for (let round = 0; round < ROUNDS; round++) {
      // Commits first (git is not what is measured), then every delivery at once.
      await Promise.all(
        Object.entries(FILES).map(async ([slug, { file, changed }]) => {
          const t = process.hrtime.bigint();
          const build = await fleet.push(slug, { files: { '.drone.yml': file, ...changed } });
          answered[slug].push(elapsedMs(t));
          if (slug !== 'bench/900-steps' && build.status !== 'error') throw new Error(`${slug}: expected an error build, got ${build.status}`);
        }),
      );
    }
    done = true;
    const rows: Row[] = [
      { name: 'bare Express /healthz', samples: bare },
      { name: 'Harrier /healthz, idle', samples: idle },
      { name: 'Harrier /healthz, reading hostile files', samples: await busy },
    ];
    printTable('/healthz round trip while hostile pipeline files are read (target: under 100 ms)', rows, 'bare Express /healthz');
    printTable(
      'push delivery answered (commit, signed delivery, file read from the provider, error build recorded; target: under a second)',
      Object.entries(answered).map(([name, samples]) => ({ name, samples })),
      Object.keys(FILES)[0],
    );
  } finally {
    await fleet.close();
  }
}

await main();
