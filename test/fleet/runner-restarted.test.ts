// `kill -9` of a runner in the middle of a step, then the runner started again under the
// same name (a new process): the server ends the old stage at once instead of waiting for
// its lease, the new process removes the container the old one left, and takes the next build.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildContainers, type Fleet, harrierContainers, startFleet, stepNamed, SLEEPING_FIRST_BUILD } from '../support/fleet.ts';

const SLUG = 'fleet/runner-restarted';

const PIPELINE = SLEEPING_FIRST_BUILD;

// Longer than the test waits for the old stage: only the restart can end it in time.
const LEASE_SECONDS = 600;

describe('a runner killed mid-step and restarted under its name', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await startFleet({ name: 'runner-restarted', repos: [{ slug: SLUG, pipeline: PIPELINE }], runners: 1, leaseSeconds: LEASE_SECONDS });
  });
  afterAll(async () => {
    await fleet?.close();
  });

  it('ends the old stage error without waiting for the lease, removes the leftover container, and runs the next build', async () => {
    const [runner] = fleet.runners;
    const first = await fleet.push(SLUG);
    await fleet.waitForLogLine(SLUG, first.number, 1, 2, 'marker 1');
    // The step's container outlives its runner.
    expect(harrierContainers(runner.name)).not.toEqual([]);

    await runner.kill9();
    await runner.start();

    const ended = await fleet.waitForBuild(SLUG, first.number, 90_000);
    expect(ended.status).toBe('error');
    const stage = ended.stages![0];
    expect(stage.status).toBe('error');
    expect(stage.error).toContain(runner.name);
    expect(['error', 'killed']).toContain(stepNamed(stage, 'test').status);

    // The old process's container would sleep on for ten minutes: only the new process can have removed it.
    await fleet.waitFor(`the container of build ${first.number} to be removed`, async () => (buildContainers(first.id, runner.name).length === 0 ? true : undefined));

    const second = await fleet.push(SLUG);
    const next = await fleet.waitForBuild(SLUG, second.number);
    expect(next.status).toBe('success');
    expect(next.stages![0].machine).toBe(runner.name);
    expect(harrierContainers(runner.name)).toEqual([]);
  }, 240_000);
});
