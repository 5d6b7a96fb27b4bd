// A runner whose answer to `accept` was lost on the way asks again: it gets the same
// stage back, and no other runner can have it. Spoken as raw HTTP, as core/protocol.ts
// describes it, so nothing in the runner's client hides what the server answers.
// The stage is then left without pings: its lease runs out before any step began, so it
// goes back to the queue and a real runner builds it.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AcceptResponse, type RequestResponse, RUNNER_HEADER, type RunnerInfo, rpcPaths } from '../../core/protocol.ts';
import { type Fleet, harrierContainers, startFleet, oneStepPipeline } from '../support/fleet.ts';

const SLUG = 'fleet/lost-accept';

const PIPELINE = oneStepPipeline('hello', ['echo hello']);

function runnerInfo(name: string): RunnerInfo {
  return { name, labels: {}, capacity: 1, running: [], os: 'linux', arch: 'amd64', version: 'test', instance: randomBytes(8).toString('hex') };
}

describe('a lost accept answer', () => {
  let fleet: Fleet;
  let rpc: (path: string, runner: string, body: unknown, signal?: AbortSignal) => Promise<{ status: number; body: any }>;
  beforeAll(async () => {
    fleet = await startFleet({ name: 'lost-accept', repos: [{ slug: SLUG, pipeline: PIPELINE }], runners: 0, leaseSeconds: 6 });
    const { HARRIER_HOST: host, HARRIER_RPC_SECRET: secret } = fleet.servers[0].env;
    rpc = async (path, runner, body, signal) => {
      const res = await fetch(`${host}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json', [RUNNER_HEADER]: runner },
        body: typeof body === 'string' ? body : JSON.stringify(body),
        signal,
      });
      const text = await res.text();
      try {
        return { status: res.status, body: text ? JSON.parse(text) : undefined };
      } catch {
        return { status: res.status, body: text };
      }
    };
  });
  afterAll(async () => {
    await fleet?.close();
  });

  it('gives the same stage back to the same runner, 409 to another, and requeues it when its lease runs out unstarted', async () => {
    const build = await fleet.push(SLUG);
    const a = `raw-a-${randomBytes(4).toString('hex')}`;
    const b = `raw-b-${randomBytes(4).toString('hex')}`;

    const offered = await rpc(rpcPaths.request, a, runnerInfo(a));
    expect(offered.status).toBe(200);
    const stageId = (offered.body as RequestResponse).stage.id;
    expect((offered.body as RequestResponse).stage.build_id).toBe(build.id);

    // The server takes the accept; its answer never reaches the runner.
    const server = fleet.servers[0].current;
    const hangUp = new AbortController();
    // The stage token is the runner's to make, once per stage; asking again sends the same one.
    const tokenA = randomBytes(32).toString('base64url');
    const lost = rpc(rpcPaths.accept(stageId), a, { machine: a, token: tokenA }, hangUp.signal).catch(() => 'no answer');
    await server.waitForEvent((e) => e.event === 'stage_accepted' && e.stage === stageId);
    hangUp.abort();
    await lost;

    const again = await rpc(rpcPaths.accept(stageId), a, { machine: a, token: tokenA });
    expect(again.status).toBe(200);
    expect((again.body as AcceptResponse).id).toBe(stageId);
    expect((again.body as AcceptResponse).machine).toBe(a);
    expect((again.body as AcceptResponse).token).toBe(tokenA);

    const other = await rpc(rpcPaths.accept(stageId), b, { machine: b, token: randomBytes(32).toString('base64url') });
    expect(other.status).toBe(409);
    // Nor does a's name with another token get the stage: only the token a accepted with works.
    expect((await rpc(rpcPaths.accept(stageId), a, { machine: a, token: randomBytes(32).toString('base64url') })).status).toBe(409);
    // Nor may the other runner report on the stage; and a malformed body is refused, not retried.
    expect((await rpc(rpcPaths.updateStage(stageId), b, { status: 'success' })).status).toBe(409);
    expect((await rpc(rpcPaths.accept(stageId), a, '{"machine":')).status).toBe(400);
    expect(fleet.serverEvents().filter((e) => e.event === 'stage_accepted' && e.stage === stageId)).toHaveLength(1);

    // Runner a never pings and never starts a step: the lease ends, the stage waits again,
    // and a runner that comes afterwards builds it.
    await server.waitForEvent((e) => e.event === 'lease_expired' && e.stage === stageId && e.outcome === 'requeued', 60_000);
    const runner = await fleet.addRunner();
    const done = await fleet.waitForBuild(SLUG, build.number);
    expect(done.status).toBe('success');
    expect(done.stages![0].machine).toBe(runner.name);
    expect((await fleet.logs(SLUG, build.number, 1, 2)).map((l) => l.out.replace(/\n$/, ''))).toContain('hello');
    expect(harrierContainers(runner.name)).toEqual([]);
  }, 180_000);
});
