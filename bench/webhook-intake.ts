// Webhook intake: 20 concurrent clients posting signed GitHub push deliveries (the real
// payload shape, each with its own delivery id and its own after-sha, so none is a replay)
// to a `harrier server` process (SQLite, real Redis, the GitHub stand-in), against a bare
// Express app verifying the same HMAC over the same bodies, in the same run. Afterwards
// every delivery the server answered must be stored. Needs `npm run build` (dist/).
//   npx tsx bench/webhook-intake.ts [seconds per side, default 5]
import { spawn } from 'node:child_process';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../server/db/client.ts';
import { nextDue } from '../server/deliveries/delivery-store.ts';
import { githubPushPayload, signGithubBody } from '../test/fakes/github-payloads.ts';
import { spawnHarrier } from '../test/support/processes.ts';
import { githubScenario, SLUG } from '../test/support/scenario.ts';
import { benchName, reportFigures, type BenchFigure } from './figures.ts';
import { percentile } from './stats.ts';

const CLIENTS = 20;
const SECONDS = Number(process.argv[2] ?? 5);

interface Load {
  sent: number;
  perSecond: number;
  p50: number;
  p99: number;
  statuses: Record<number, number>;
  ids: number[];
}

/** CLIENTS loops, each posting one delivery after the other for `seconds`. */
async function load(url: string, secret: string, bodyFor: (n: number) => Buffer, seconds: number): Promise<Load> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
  const latencies: number[] = [];
  const statuses: Record<number, number> = {};
  const ids: number[] = [];
  let n = 0;
  const target = new URL(url);
  const post = (body: Buffer) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const sig = signGithubBody(body, secret);
      const req = http.request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-length': body.length,
            'user-agent': 'GitHub-Hookshot/bench',
            'x-github-event': 'push',
            'x-github-delivery': randomUUID(),
            'x-github-hook-id': '1',
            'x-hub-signature-256': sig.sha256,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() < deadline) {
        const body = bodyFor(n++);
        const t = performance.now();
        const res = await post(body);
        latencies.push(performance.now() - t);
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (res.status === 202) ids.push((JSON.parse(res.text) as { id: number }).id);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  return { sent: latencies.length, perSecond: latencies.length / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99), statuses, ids };
}

/** bench/bare-express.ts in a process of its own. */
async function bareExpress(secret: string): Promise<{ url: string; close(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./bare-express.ts', import.meta.url))], {
    env: { ...process.env, BARE_SECRET: secret },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
    child.once('exit', (code) => reject(new Error(`bare Express exited ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}/hook`,
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Waits until the server has handled every stored delivery, so that its workers load neither side of what is measured next. */
async function settled(databaseUrl: string): Promise<void> {
  const database = openDatabase(databaseUrl);
  try {
    for (let i = 0; i < 600; i++) {
      if ((await nextDue(database)) === undefined) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('the server did not handle its stored deliveries within a minute');
  } finally {
    await database.close();
  }
}

export async function run(seconds = SECONDS): Promise<BenchFigure[]> {
  const s = await githubScenario({ pipeline: 'kind: pipeline\nname: default\nsteps:\n- name: test\n  image: alpine:3\n  commands: [true]\n' });
  const hook = s.fake.state.hooks.items.find((h) => h.active && !h.deleted)!;
  const repo = s.fake.repo(SLUG)!;
  const template = githubPushPayload({ repo, after: s.git.head() });
  // A different after-sha per delivery: distinct bodies, none a replay of another.
  const bodyFor = (n: number) => Buffer.from(JSON.stringify({ ...template, after: createHmac('sha1', 'bench').update(`${n}-${randomBytes(4).toString('hex')}`).digest('hex') }));

  // The in-process server activated the repository; a `harrier server` process takes its place.
  await s.server.stop();
  // HARRIER_BENCH_CPU_PROF=<dir>: the server writes a CPU profile there when it stops (node --cpu-prof).
  const server = spawnHarrier('server', { ...s.server.env, HARRIER_LOG_LEVEL: 'info' }, process.env.HARRIER_BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.HARRIER_BENCH_CPU_PROF}`] : []);
  const bare = await bareExpress(hook.secret);
  try {
    await server.waitForEvent((e) => e.event === 'listening');
    // Warm both up (JIT, connections, SQLite pages) before measuring, and let the server
    // build what the warm-up stored, so that its workers are idle for both measures.
    await load(hook.url, hook.secret, bodyFor, 1);
    await load(bare.url, hook.secret, bodyFor, 1);
    await settled(s.server.env.HARRIER_DATABASE_URL);
    const baseline = await load(bare.url, hook.secret, bodyFor, seconds);
    const harrier = await load(hook.url, hook.secret, bodyFor, seconds);

    const database = openDatabase(s.server.env.HARRIER_DATABASE_URL);
    let stored: number;
    try {
      stored = 0;
      // In slices: Prisma refuses a statement with more parameters than it allows SQLite.
      for (let i = 0; i < harrier.ids.length; i += 500) stored += await database.db.delivery.count({ where: { id: { in: harrier.ids.slice(i, i + 500) } } });
    } finally {
      await database.close();
    }
    console.log(`bare Express: ${baseline.sent} deliveries, ${baseline.perSecond.toFixed(0)} req/s, p50 ${baseline.p50.toFixed(1)} ms, p99 ${baseline.p99.toFixed(1)} ms, answers ${JSON.stringify(baseline.statuses)}`);
    console.log(`harrier server: ${harrier.sent} deliveries, ${harrier.perSecond.toFixed(0)} req/s, p50 ${harrier.p50.toFixed(1)} ms, p99 ${harrier.p99.toFixed(1)} ms, answers ${JSON.stringify(harrier.statuses)}`);
    console.log(`ratio ${(harrier.perSecond / baseline.perSecond).toFixed(2)}x; stored ${stored} of the ${harrier.ids.length} answered 202`);
    if (harrier.ids.length !== harrier.sent) throw new Error(`only ${harrier.ids.length} of ${harrier.sent} deliveries were answered 202: ${JSON.stringify(harrier.statuses)}`);
    if (stored !== harrier.ids.length) throw new Error(`only ${stored} of the ${harrier.ids.length} deliveries answered 202 are stored`);
    const bench = benchName();
    return [
      {
        bench,
        name: `signed push deliveries, ${CLIENTS} concurrent clients`,
        unit: 'req/s',
        value: harrier.perSecond,
        baseline: { name: 'bare Express verifying the same HMAC', value: baseline.perSecond },
        target: { kind: 'ratio-at-least', limit: 0.5 },
        note: `${harrier.sent} deliveries over ${seconds} s, all stored; p50 ${harrier.p50.toFixed(1)} ms (bare ${baseline.p50.toFixed(1)} ms)`,
      },
      {
        bench,
        name: 'delivery answer p99',
        unit: 'ms',
        value: harrier.p99,
        baseline: { name: 'bare Express', value: baseline.p99 },
        target: { kind: 'value-below', limit: 50 },
      },
    ];
  } finally {
    await bare.close();
    await server.stop();
    await s.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  reportFigures(await run());
  process.exit(0);
}
