// Redis loses everything while builds wait for a runner: FLUSHALL, or a restart of a
// Redis that keeps nothing on disk. The database is the queue, so a runner that comes
// afterwards still gets every build. Each test has a redis-server of its own: flushing
// the shared one would pull the floor from under another test run.
import { afterEach, describe, expect, it } from 'vitest';
import type { Build } from '../../core/domain.ts';
import { type Fleet, harrierContainers, numberedLines, startFleet, oneStepPipeline } from '../support/fleet.ts';

const SLUG = 'fleet/redis-lost';
const LINES = 5;
const BUILDS = 3;

const PIPELINE = oneStepPipeline('count', [`for i in $(seq 1 ${LINES}); do echo "line $i"; done`]);

describe('builds waiting while Redis loses its data', () => {
  let fleet: Fleet | undefined;
  afterEach(async () => {
    await fleet?.close();
    fleet = undefined;
  });

  async function waitingBuilds(f: Fleet): Promise<Build[]> {
    const builds: Build[] = [];
    for (let i = 0; i < BUILDS; i++) builds.push(await f.push(SLUG));
    for (const b of builds) expect((await f.build(SLUG, b.number)).status).toBe('pending');
    return builds;
  }

  async function expectAllRan(f: Fleet, builds: Build[]): Promise<void> {
    const runner = await f.addRunner();
    for (const b of builds) {
      const done = await f.waitForBuild(SLUG, b.number);
      expect(done.status).toBe('success');
      expect(numberedLines(await f.logs(SLUG, b.number, 1, 2), /^line (\d+)$/, LINES)).toEqual({ missing: [], doubled: [] });
    }
    expect(harrierContainers(runner.name)).toEqual([]);
  }

  it('runs every build queued before a FLUSHALL, on a runner started after it', async () => {
    fleet = await startFleet({ name: 'redis-flushed', repos: [{ slug: SLUG, pipeline: PIPELINE }], runners: 0, ownRedis: true, leaseSeconds: 6 });
    const builds = await waitingBuilds(fleet);
    await fleet.redis!.flushAll();
    await expectAllRan(fleet, builds);
  }, 180_000);

  it('runs every build queued before Redis restarted without persistence, on a runner started after it', async () => {
    fleet = await startFleet({ name: 'redis-restarted', repos: [{ slug: SLUG, pipeline: PIPELINE }], runners: 0, ownRedis: true, leaseSeconds: 6 });
    const builds = await waitingBuilds(fleet);
    await fleet.redis!.restart();
    await expectAllRan(fleet, builds);
  }, 180_000);
});
