// Two server processes on one database and one Redis, three runners spread over them,
// pushes spread over both servers, several at once: each stage goes to exactly one
// runner, each step runs once, and every build succeeds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Build } from '../../core/domain.ts';
import { type Fleet, harrierContainers, startFleet, oneStepPipeline } from '../support/fleet.ts';

const SLUG = 'fleet/two-servers';
const BUILDS = 24;
// Pushed this many at a time, so both servers' workers and all six runner slots race for them.
const WAVE = 8;

// Nothing to clone: the test is about dispatch, and a clone per build would only add minutes.
const PIPELINE = oneStepPipeline('once', ['echo "ran build $DRONE_BUILD_NUMBER"'], 'clone:\n  disable: true');

describe('two servers and three runners', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    // Runners 0 and 2 poll server 0, runner 1 polls server 1; two slots each, so polls race.
    fleet = await startFleet({ name: 'two-servers', repos: [{ slug: SLUG, pipeline: PIPELINE }], servers: 2, runners: 3, runnerCapacity: 2, leaseSeconds: 20 });
  });
  afterAll(async () => {
    await fleet?.close();
  });

  it(`runs each of ${BUILDS} builds exactly once, pushed to either server`, async () => {
    const pushed: Build[] = [];
    for (let i = 0; i < BUILDS; i += WAVE) {
      pushed.push(...(await Promise.all(Array.from({ length: WAVE }, (_, j) => fleet.push(SLUG, { via: (i + j) % 2 })))));
    }
    expect(new Set(pushed.map((b) => b.number)).size).toBe(BUILDS);

    const stageIds: number[] = [];
    for (const b of pushed) {
      const done = await fleet.waitForBuild(SLUG, b.number, 300_000);
      expect(done.status, `build ${b.number}`).toBe('success');
      stageIds.push(done.stages![0].id);
      const ran = (await fleet.logs(SLUG, b.number, 1, 1)).filter((l) => l.out.replace(/\n$/, '') === `ran build ${b.number}`);
      expect(ran, `build ${b.number}'s step log`).toHaveLength(1);
    }

    // Accepted once, across both servers' logs; started once, across all runners' logs.
    const accepted = countBy(fleet.serverEvents().filter((e) => e.event === 'stage_accepted'), (e) => Number(e.stage));
    const started = countBy(fleet.runners.flatMap((r) => r.events()).filter((e) => e.event === 'stage_started'), (e) => Number(e.stage));
    for (const id of stageIds) {
      const story = () => JSON.stringify(stageStory(fleet, id), null, 1);
      expect(accepted.get(id) ?? 0, `stage ${id} accepted: ${story()}`).toBe(1);
      expect(started.get(id) ?? 0, `stage ${id} started: ${story()}`).toBe(1);
    }
    // Each server answered half the deliveries (push checks the 202); a worker of either server may
    // build a delivery the other stored, and each build was created once, by one of them.
    const created = countBy(fleet.serverEvents().filter((e) => e.event === 'build_created'), (e) => Number(e.build));
    expect([...created.keys()].sort((a, b) => a - b)).toEqual(pushed.map((b) => b.number).sort((a, b) => a - b));
    expect([...created.values()].every((n) => n === 1)).toBe(true);
    // Both servers handed out stages.
    for (const server of fleet.servers) expect(server.events().some((e) => e.event === 'stage_accepted'), server.name).toBe(true);
    for (const runner of fleet.runners) expect(harrierContainers(runner.name), runner.name).toEqual([]);
  }, 420_000);
});

/** What every server and runner logged about one stage, for a failure message. */
function stageStory(fleet: Fleet, stageId: number): Record<string, unknown>[] {
  return [...fleet.servers, ...fleet.runners].flatMap((m) => m.events().filter((e) => e.stage === stageId).map((e) => ({ by: m.name, ...e })));
}

function countBy<T>(items: T[], key: (item: T) => number): Map<number, number> {
  const counts = new Map<number, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}
