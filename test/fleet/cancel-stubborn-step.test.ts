// Cancelling a build whose step ignores SIGTERM: the step would run forever, so only a
// kill can end it. The stage ends `killed` and its container is gone from the engine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildContainers, type Fleet, harrierContainers, startFleet, stepNamed, oneStepPipeline } from '../support/fleet.ts';

const SLUG = 'fleet/cancel-stubborn';

const PIPELINE = oneStepPipeline('stubborn', ["trap '' TERM", 'echo started', 'while true; do sleep 1; done']);

describe('cancel of a step that ignores SIGTERM', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await startFleet({ name: 'cancel-stubborn', repos: [{ slug: SLUG, pipeline: PIPELINE }], runners: 1, leaseSeconds: 6 });
  });
  afterAll(async () => {
    await fleet?.close();
  });

  it('ends the stage killed and removes its container', async () => {
    const build = await fleet.push(SLUG);
    await fleet.waitForLogLine(SLUG, build.number, 1, 2, 'started');
    expect(buildContainers(build.id, fleet.runners[0].name)).not.toEqual([]);

    const cancelled = await fleet.api(`/api/repos/${SLUG}/builds/${build.number}`, { method: 'DELETE' });
    expect(cancelled.status).toBe(200);

    const done = await fleet.waitForBuild(SLUG, build.number);
    expect(done.status).toBe('killed');
    expect(done.stages![0].status).toBe('killed');
    expect(stepNamed(done.stages![0], 'stubborn').status).toBe('killed');
    await fleet.waitFor('the cancelled step\'s container to be removed', async () => (buildContainers(build.id, fleet.runners[0].name).length === 0 ? true : undefined));
    expect(harrierContainers(fleet.runners[0].name)).toEqual([]);
  }, 180_000);
});
