// `kill -9` of the only server while a step prints, then the server started again with
// the same environment: the runner carries on, resends what it could not deliver, and the
// build ends with every log line there exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fleet, harrierContainers, numberedLines, startFleet, oneStepPipeline } from '../support/fleet.ts';

const SLUG = 'fleet/server-killed';
const LINES = 40;

// Long enough that the server is killed while lines are still coming.
const PIPELINE = oneStepPipeline('count', [`for i in $(seq 1 ${LINES}); do echo "line $i"; sleep 0.25; done`]);

describe('the server killed mid-build and restarted', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    // A lease far longer than the restart takes: this test is about the server's death, not the runner's silence.
    fleet = await startFleet({ name: 'server-killed', repos: [{ slug: SLUG, pipeline: PIPELINE }], runners: 1, leaseSeconds: 120 });
  });
  afterAll(async () => {
    await fleet?.close();
  });

  it('finishes the build with every log line once', async () => {
    const [server] = fleet.servers;
    const [runner] = fleet.runners;
    const build = await fleet.push(SLUG);
    await fleet.waitForLogLine(SLUG, build.number, 1, 2, 'line 3');

    await server.kill9();
    await server.start();

    const done = await fleet.waitForBuild(SLUG, build.number);
    expect(done.status).toBe('success');
    expect(done.stages![0].steps!.map((s) => [s.name, s.status])).toEqual([
      ['clone', 'success'],
      ['count', 'success'],
    ]);
    expect(numberedLines(await fleet.logs(SLUG, build.number, 1, 2), /^line (\d+)$/, LINES)).toEqual({ missing: [], doubled: [] });
    expect(harrierContainers(runner.name)).toEqual([]);
  }, 180_000);
});
