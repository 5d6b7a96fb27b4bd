// How long an idle runner takes to get a newly queued stage: from the moment the
// server queues it (the stage row is pending and its lane announced) to the moment the runner's held long poll
// answers with it. Target: under 100 ms. Baselines measured in the same run: a
// round trip to a bare Express handler, and a Redis PUBLISH reaching a subscriber.
//   npx tsx bench/pickup-latency.ts [iterations]
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Redis } from 'ioredis';
import type { RunnerInfo } from '../core/protocol.ts';
import { RpcClient } from '../runner/rpc-client.ts';
import { laneOf } from '../server/queue/lanes.ts';
import { startTestServer, TEST_RPC_SECRET } from '../test/support/server.ts';
import { elapsedMs, printTable } from './stats.ts';

const ITERATIONS = Number(process.argv[2] ?? 50);
const RUNNER: RunnerInfo = { name: 'bench', labels: {}, capacity: 1, running: [], os: 'linux', arch: 'amd64', version: 'bench' };

async function bareExpress(): Promise<number[]> {
  const app = express();
  app.post('/x', (_req, res) => {
    res.json({ ok: true });
  });
  const server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
  const samples: number[] = [];
  for (let i = 0; i < ITERATIONS + 5; i++) {
    const t = process.hrtime.bigint();
    await (await fetch(url, { method: 'POST' })).json();
    if (i >= 5) samples.push(elapsedMs(t));
  }
  server.close();
  return samples;
}

async function redisPubSub(): Promise<number[]> {
  const pub = new Redis();
  const sub = new Redis();
  await sub.subscribe('bench');
  const samples: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const got = new Promise<void>((r) => sub.once('message', () => r()));
    const t = process.hrtime.bigint();
    await pub.publish('bench', 'x');
    await got;
    samples.push(elapsedMs(t));
  }
  pub.disconnect();
  sub.disconnect();
  return samples;
}

async function pickup(): Promise<number[]> {
  const server = await startTestServer();
  const { db, queue } = server.ctx;
  const rpc = new RpcClient({ serverUrl: server.host, secret: TEST_RPC_SECRET, runner: RUNNER.name, attempts: 1 });
  const now = server.ctx.now();
  const repo = await db.repo.create({ data: { provider: 'github', uid: '1', namespace: 'b', name: 'b', slug: 'b/b', createdAt: now, updatedAt: now } });
  const samples: number[] = [];
  for (let i = 1; i <= ITERATIONS; i++) {
    const build = await db.build.create({ data: { repoId: repo.id, number: i, status: 'pending', event: 'push', createdAt: now, updatedAt: now } });
    const lane = laneOf({ repoId: repo.id, os: 'linux', arch: 'amd64', labels: '{}' });
    const stage = await db.stage.create({ data: { repoId: repo.id, buildId: build.id, number: 1, name: 'default', status: 'waiting_on_dependencies', lane, createdAt: now, updatedAt: now } });
    let queuedAt = 0n;
    const polled = rpc.request(RUNNER).then((s) => ({ s, at: process.hrtime.bigint() }));
    // Let the long poll settle into its wait before queuing.
    await new Promise((r) => setTimeout(r, 30));
    queuedAt = process.hrtime.bigint();
    await db.stage.update({ where: { id: stage.id }, data: { status: 'pending', queuedAt: now } });
    queue.announce([lane]);
    const { s, at } = await polled;
    if (s?.id !== stage.id) throw new Error(`expected stage ${stage.id}, got ${s?.id}`);
    samples.push(Number(at - queuedAt) / 1e6);
    await rpc.accept(stage.id, RUNNER.name);
  }
  await server.close();
  return samples;
}

const rows = [
  { name: 'bare Express POST round trip', samples: await bareExpress() },
  { name: 'Redis PUBLISH to subscriber', samples: await redisPubSub() },
  { name: 'stage queued -> idle runner has it', samples: await pickup() },
];
printTable(`Stage pick-up latency (${ITERATIONS} iterations; target: under 100 ms)`, rows, 'bare Express POST round trip');
process.exit(0);
