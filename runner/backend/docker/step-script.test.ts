// Step commands on the shells images have as /bin/sh: busybox ash (Alpine), dash
// (Debian, Ubuntu) and bash. Each runs exactly as written, held or not.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../../pipeline/types.ts';
import { ensureShellImage, TEST_IMAGES } from '../../../test/support/images.ts';
import { LABEL_RUNNER } from '../../labels.ts';
import { type HandStep, handPlan } from '../../testing/hand-plan.ts';
import { sweepStaleTestObjects, testRunnerName } from '../../testing/test-runner-names.ts';
import { DockerBackend } from './docker-backend.ts';

const runnerLabel = testRunnerName('script');
const backend = new DockerBackend();
const plans: Plan[] = [];
const never = new AbortController().signal;

function plan(steps: HandStep[]): Plan {
  const p = handPlan(steps, { labels: { [LABEL_RUNNER]: runnerLabel } });
  plans.push(p);
  return p;
}

beforeAll(() => {
  sweepStaleTestObjects();
  ensureShellImage(TEST_IMAGES.dash, 'dash');
  ensureShellImage(TEST_IMAGES.bash, 'bash');
});

afterEach(async () => {
  await Promise.all(plans.splice(0).map((p) => backend.destroy(p)));
});

afterAll(async () => {
  await backend.removeLeftovers({ [LABEL_RUNNER]: runnerLabel });
});

const COMMANDS = [
  String.raw`printf '%s\n' 'a\\b before\cafter'`,
  String.raw`printf '%s\n' "tab\there 100% new\nline\c"`,
  'printf \'%s\\n\' "two\\\\lines" \\\n  "in one\\c command"',
  'test -n "$DRONE_SCRIPT"',
  'cat',
  'false',
  'echo not reached',
];

// Every command printed as written after `+ `, then its output; nothing after `false`.
const EXPECTED = [
  String.raw`+ printf '%s\n' 'a\\b before\cafter'`,
  String.raw`a\\b before\cafter`,
  String.raw`+ printf '%s\n' "tab\there 100% new\nline\c"`,
  String.raw`tab\there 100% new\nline\c`,
  '+ printf \'%s\\n\' "two\\\\lines" \\\n  "in one\\c command"',
  'two\\lines',
  'in one\\c command',
  '+ test -n "$DRONE_SCRIPT"',
  '+ cat',
  '+ false',
  '',
].join('\n');

describe.each([
  ['busybox ash', TEST_IMAGES.busybox],
  ['dash', TEST_IMAGES.dash],
  ['bash', TEST_IMAGES.bash],
])('commands on an image whose /bin/sh is %s', (_shell, image) => {
  it('run and print exactly as written, read closed input, and stop at the first failure, held or not', async () => {
    const p = plan([
      { name: 'held', image, commands: COMMANDS },
      { name: 'unheld', image, commands: COMMANDS },
    ]);
    await backend.setup(p, never);
    // Only the first is prepared: its shell starts and waits for the runner's word.
    backend.prepare(p, p.steps[0], never);
    for (const step of p.steps) {
      const chunks: Buffer[] = [];
      const result = await backend.run(p, step, (c) => void chunks.push(c), never);
      expect({ step: step.name, ...result, output: Buffer.concat(chunks).toString() }).toEqual({ step: step.name, exitCode: 1, oomKilled: false, output: EXPECTED });
    }
  });
});
