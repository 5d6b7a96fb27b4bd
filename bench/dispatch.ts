// Whether dispatch stays fast when the queue is long: the time from a stage being queued
// (its row committed, its lane announced) to one of 20 polling runners holding it (its
// accept answered), with 5,000 stages already waiting, against the same with an empty
// queue, in the same run on the same server. The 5,000 wait for a label no runner has
// (gpu=yes, over 10 repositories), as a backlog for an absent runner pool does; a
// dispatch whose cost grows with the queue pays for them on every poll.
// Needs PostgreSQL and Redis as `npm test` prepares them.
//   npx tsx bench/dispatch.ts [iterations] [backlog]
import type { RunnerInfo } from '../core/protocol.ts';
import { RpcClient } from '../runner/rpc-client.ts';
import type { Db } from '../server/db/client.ts';
import { laneOf } from '../server/queue/lanes.ts';
import { startTestServer, TEST_RPC_SECRET, type TestServer } from '../test/support/server.ts';
import { percentile, printTable } from './stats.ts';

const ITERATIONS = Number(process.argv[2] ?? 200);
const BACKLOG = Number(process.argv[3] ?? 5_000);
const RUNNERS = 20;
const BACKLOG_REPOS = 10;
const WARMUP = 10;

// npm test sets it; `npm run bench` runs after it, on the PostgreSQL it prepared.
process.env.HARRIER_TEST_POSTGRES_URL ??= 'postgres://harrier:harrier@127.0.0.1:5432/postgres';

interface Fleet {
  /** Resolves with the hrtime at which a runner's accept of the stage was answered. */
  held(stageId: number): Promise<bigint>;
  stop(): Promise<void>;
}

/** 20 runners, each a long-poll loop: request, accept, and back to polling. */
function startRunners(host: string): Fleet {
  const stop = new AbortController();
  const holders = new Map<number, (at: bigint) => void>();
  const early = new Map<number, bigint>();
  const loops = Array.from({ length: RUNNERS }, async (_, i) => {
    const name = `bench-dispatch-${i}`;
    const rpc = new RpcClient({ serverUrl: host, secret: TEST_RPC_SECRET, runner: name, attempts: 1 });
    const info: RunnerInfo = { name, labels: {}, capacity: 1, running: [], os: 'linux', arch: 'amd64', version: 'bench' };
    while (!stop.signal.aborted) {
      const stage = await rpc.request(info, stop.signal).catch(() => null);
      if (!stage) continue;
      const accepted = await rpc.accept(stage.id, name).catch(() => undefined);
      if (!accepted?.accepted) continue;
      const at = process.hrtime.bigint();
      const resolve = holders.get(stage.id);
      if (resolve) resolve(at);
      else early.set(stage.id, at);
    }
  });
  return {
    held: (stageId) =>
      new Promise((resolve) => {
        const at = early.get(stageId);
        if (at !== undefined) resolve(at);
        else holders.set(stageId, resolve);
      }),
    async stop() {
      stop.abort();
      await Promise.allSettled(loops);
    },
  };
}

/** Waits until every runner's long poll is held by the server, so a new stage can reach them only by a wake-up. */
async function allPolling(server: TestServer): Promise<void> {
  const queue = server.ctx.queue as unknown as { waiters: Set<unknown> };
  while (queue.waiters.size < RUNNERS) await new Promise((resolve) => setImmediate(resolve));
}

async function createRepo(db: Db, slug: string, now: number) {
  const [namespace, name] = slug.split('/');
  return db.repo.create({ data: { provider: 'github', uid: slug, namespace, name, slug, active: true, createdAt: now, updatedAt: now } });
}

/** BACKLOG stages over BACKLOG_REPOS repositories, each waiting for gpu=yes, written as the trigger writes them. */
async function fillBacklog(db: Db, now: number): Promise<void> {
  const labels = JSON.stringify({ gpu: 'yes' });
  const perRepo = Math.ceil(BACKLOG / BACKLOG_REPOS);
  for (let r = 0; r < BACKLOG_REPOS; r++) {
    const repo = await createRepo(db, `backlog/repo-${r}`, now);
    const count = Math.min(perRepo, BACKLOG - r * perRepo);
    const numbers = Array.from({ length: count }, (_, i) => i + 1);
    const builds = await db.build.createManyAndReturn({
      data: numbers.map((number) => ({ repoId: repo.id, number, status: 'pending', event: 'push', createdAt: now, updatedAt: now })),
      select: { id: true },
    });
    const lane = laneOf({ repoId: repo.id, os: 'linux', arch: 'amd64', labels });
    for (let i = 0; i < builds.length; i += 1_000) {
      await db.stage.createMany({
        data: builds.slice(i, i + 1_000).map((b) => ({
          repoId: repo.id,
          buildId: b.id,
          number: 1,
          name: 'gpu',
          status: 'pending',
          machine: '',
          os: 'linux',
          arch: 'amd64',
          labels,
          lane,
          queuedAt: now,
          createdAt: now,
          updatedAt: now,
        })),
      });
    }
  }
}

/** Queues ITERATIONS stages one at a time and times each from queued to held. */
async function measure(server: TestServer, runners: Fleet, repoId: number, firstNumber: number): Promise<number[]> {
  const { db, queue } = server.ctx;
  const samples: number[] = [];
  for (let i = 0; i < ITERATIONS + WARMUP; i++) {
    await allPolling(server);
    const now = server.ctx.now();
    const lane = laneOf({ repoId, os: 'linux', arch: 'amd64', labels: '{}' });
    const build = await db.build.create({ data: { repoId, number: firstNumber + i, status: 'pending', event: 'push', createdAt: now, updatedAt: now } });
    const stage = await db.stage.create({
      data: { repoId, buildId: build.id, number: 1, name: 'default', status: 'pending', machine: '', labels: '{}', lane, queuedAt: now, createdAt: now, updatedAt: now },
    });
    const queuedAt = process.hrtime.bigint();
    queue.announce([lane]);
    const heldAt = await runners.held(stage.id);
    if (i >= WARMUP) samples.push(Number(heldAt - queuedAt) / 1e6);
  }
  return samples;
}

// Held stages are left with their runners; a long lease keeps the server from taking them back mid-run.
const server = await startTestServer({ flavour: 'postgres', env: { HARRIER_LEASE_SECONDS: '3600' } });
const runners = startRunners(server.host);
try {
  const now = server.ctx.now();
  const repo = await createRepo(server.ctx.db, 'bench/dispatch', now);
  const empty = await measure(server, runners, repo.id, 1);
  await fillBacklog(server.ctx.db, now);
  // Settle what a bulk insert leaves PostgreSQL to do (statistics, visibility map) now,
  // as autovacuum would within a minute, so it does not land inside the measurement.
  await server.ctx.db.$executeRawUnsafe('VACUUM ANALYZE');
  const waiting = await server.ctx.db.stage.count({ where: { status: 'pending', machine: '' } });
  if (waiting < BACKLOG) throw new Error(`expected ${BACKLOG} waiting stages, found ${waiting}`);
  const backlog = await measure(server, runners, repo.id, ITERATIONS + WARMUP + 1);

  const emptyName = 'stage queued -> runner holds it, empty queue';
  const backlogName = `same, ${BACKLOG.toLocaleString('en')} stages waiting`;
  printTable(`Dispatch with a long queue (${RUNNERS} polling runners, ${ITERATIONS} stages each)`, [
    { name: emptyName, samples: empty },
    { name: backlogName, samples: backlog },
  ], emptyName);
  const ratio = (p: number) => (percentile(backlog, p) / percentile(empty, p)).toFixed(2);
  console.log(`\n${BACKLOG.toLocaleString('en')} waiting / empty queue: p50 ${ratio(50)}x, p95 ${ratio(95)}x`);
} finally {
  await runners.stop();
  await server.close();
}
process.exit(0);
