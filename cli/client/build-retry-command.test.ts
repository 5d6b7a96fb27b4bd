// `harrier build retry` against a real server (GitHub stand-in, real git repository, real
// database and Redis): a build whose stage failed runs that stage again in the same build
// number, `--stage N` runs one stage again, and the server's refusals come through with exit 1.
// The test speaks the runner protocol itself and reports each stage's outcome: which stages
// run again is the command's business, not how they run (test/server/retry-build.test.ts
// runs them on Docker).
import { beforeEach, describe, expect, it } from 'vitest';
import type { Build, Status } from '../../core/domain.ts';
import { oneStepPipeline } from '../../test/support/fleet.ts';
import { finishStage, takeStage } from '../../test/support/protocol-runner.ts';
import { SLUG, type GithubScenario } from '../../test/support/scenario.ts';
import { TEST_RPC_SECRET } from '../../test/support/server.ts';
import { useClientScenario } from '../testing/client-run.ts';

// Two stages that do not depend on each other: retrying one leaves the other as it ended.
const PIPELINE = `${oneStepPipeline('check', ['true'], '', 'a')}---
${oneStepPipeline('check', ['true'], '', 'b')}`;

describe.each(['sqlite', 'postgres'] as const)('harrier build retry against a server on %s', (flavour) => {
  const { scenario, harrier } = useClientScenario({ pipeline: PIPELINE, flavour });
  let s: GithubScenario;
  beforeEach(() => {
    s = scenario();
  });

  /** Runs the queued stages of build `number` to the outcomes named, by stage name. */
  async function run(number: number, outcomes: Record<string, Status>): Promise<void> {
    for (let left = Object.keys(outcomes).length; left > 0; left--) {
      const taken = await takeStage(s.server.host, TEST_RPC_SECRET);
      expect(taken.details.build.number, `the stage taken (${taken.stage.name}) belongs to build ${number}`).toBe(number);
      const status = outcomes[taken.stage.name];
      expect(status, `an outcome for stage ${taken.stage.name}`).toBeDefined();
      await finishStage(taken, status);
    }
  }

  const info = async (number: number) => (await harrier(['build', 'info', SLUG, String(number), '--format', 'json'])).json<Build>();
  const attempts = (b: Build) => b.stages!.map((st) => [st.name, st.status, st.attempt]);

  async function pushed(file: string): Promise<number> {
    const { responses } = await s.push({ [file]: file }, `Add ${file}`);
    return ((await responses[0].build()) as Build).number;
  }

  it('runs a failed stage again in the same build, then one stage with --stage, each time one attempt more', async () => {
    const number = await pushed('a.txt');
    await run(number, { a: 'failure', b: 'success' });
    expect((await info(number)).status).toBe('failure');
    const builds = await s.server.ctx.db.build.count();

    const retried = await harrier(['build', 'retry', SLUG, String(number)]);
    expect(retried.err).toBe('');
    expect(retried.code).toBe(0);
    expect(retried.out).toMatch(new RegExp(`^build ${number} retried\\n`));
    expect(retried.out).toMatch(new RegExp(`^Build: +${number}$`, 'm'));
    expect(retried.out).toMatch(/^1 +a +pending\b/m);
    expect(retried.out).toMatch(/^2 +b +success\b/m);
    expect(attempts(await info(number))).toEqual([
      ['a', 'pending', 2],
      ['b', 'success', 1],
    ]);
    await run(number, { a: 'success' });
    const passed = await info(number);
    expect(passed.status).toBe('success');
    expect(passed.stages![0].attempts!.map((x) => [x.attempt, x.status])).toEqual([[1, 'failure']]);

    // `last` is this build: the server's newest.
    const one = await harrier(['build', 'retry', SLUG, 'last', '--stage', '2']);
    expect(one.err).toBe('');
    expect(one.out).toMatch(new RegExp(`^build ${number} retried \\(stage 2\\)\\n`));
    expect(attempts(await info(number))).toEqual([
      ['a', 'success', 2],
      ['b', 'pending', 2],
    ]);
    await run(number, { b: 'success' });
    expect(attempts(await info(number))).toEqual([
      ['a', 'success', 2],
      ['b', 'success', 2],
    ]);
    // In place: no build was added.
    expect(await s.server.ctx.db.build.count()).toBe(builds);
  });

  it('passes the server\'s refusals through with exit 1: a build still running (409), a stage it does not have (404), nothing to retry (409)', async () => {
    const number = await pushed('b.txt');
    const call = `(%s from POST /api/repos/${SLUG}/builds/${number}/retry)`;
    const first = await takeStage(s.server.host, TEST_RPC_SECRET);
    const running = await harrier(['build', 'retry', SLUG, String(number)]);
    expect(running.code).toBe(1);
    expect(running.err).toBe(`harrier: build ${number} is still running; wait for it to finish (or cancel it) before retrying ${call.replace('%s', '409')}\n`);
    await finishStage(first, 'success');
    await run(number, { [first.stage.name === 'a' ? 'b' : 'a']: 'success' });

    const noStage = await harrier(['build', 'retry', SLUG, String(number), '--stage', '9']);
    expect(noStage.code).toBe(1);
    expect(noStage.err).toBe(`harrier: build ${number} of ${SLUG} has no stage 9; its stages are 1, 2 ${call.replace('%s', '404')}\n`);
    const nothing = await harrier(['build', 'retry', SLUG, String(number)]);
    expect(nothing.code).toBe(1);
    expect(nothing.err).toContain(`build ${number} has no failed, errored or cancelled stage to retry; retry one stage with ?stage=N, or restart the build ${call.replace('%s', '409')}`);
    expect(attempts(await info(number))).toEqual([
      ['a', 'success', 1],
      ['b', 'success', 1],
    ]);

    const zero = await harrier(['build', 'retry', SLUG, String(number), '--stage', '0']);
    expect(zero.code).toBe(2);
    expect(zero.err).toBe('harrier: --stage must be a whole number of at least 1, not "0"\n');
  });
});
