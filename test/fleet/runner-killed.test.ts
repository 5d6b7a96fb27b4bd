// `kill -9` of a runner in the middle of a step, and the runner never comes back: its
// lease runs out, the server ends the stage `error` with a reason naming the runner and
// the step, the build settles, and the pipeline's concurrency slot is free again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fleet, FINAL, harrierContainers, startFleet, stepNamed, SLEEPING_FIRST_BUILD } from '../support/fleet.ts';

const SLUG = 'fleet/runner-killed';

const PIPELINE = SLEEPING_FIRST_BUILD;

describe('a runner killed mid-step that does not come back', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await startFleet({ name: 'runner-killed', repos: [{ slug: SLUG, pipeline: PIPELINE }], runners: 1, leaseSeconds: 6 });
  });
  afterAll(async () => {
    await fleet?.close();
  });

  it('ends the stage error naming the runner and the step, settles the build, and frees the concurrency slot', async () => {
    const [lost] = fleet.runners;
    const first = await fleet.push(SLUG);
    await fleet.waitForLogLine(SLUG, first.number, 1, 2, 'marker 1');

    await lost.kill9();
    // Another runner, under another name; the pipeline's one slot is still taken by the lost stage.
    const other = await fleet.addRunner();
    const second = await fleet.push(SLUG);

    const ended = await fleet.waitForBuild(SLUG, first.number);
    expect(ended.status).toBe('error');
    const stage = ended.stages![0];
    expect(stage.status).toBe('error');
    expect(stage.error).toContain(lost.name);
    expect(stage.error).toContain('test');
    expect(FINAL).toContain(stepNamed(stage, 'test').status);
    expect(fleet.serverEvents()).toContainEqual(expect.objectContaining({ event: 'lease_expired', stage: stage.id, outcome: 'errored' }));

    const next = await fleet.waitForBuild(SLUG, second.number);
    expect(next.status).toBe('success');
    expect(next.stages![0].machine).toBe(other.name);
    expect((await fleet.logs(SLUG, second.number, 1, 2)).map((l) => l.out.replace(/\n$/, ''))).toContain('marker 2');

    // The runner that is still up left nothing; the dead one's container is an operator's to
    // clear by restarting it under its name (runner-restarted.test.ts), and fleet.close() does.
    expect(harrierContainers(other.name)).toEqual([]);
  }, 240_000);
});
