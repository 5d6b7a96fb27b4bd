// What a pipeline step costs on top of its container: Harrier's Docker backend
// running one `true` step (create, attach, start, wait, logs) against a raw
// `docker run --rm` of the same image in the same run. Target: a step costs
// little beyond its container's own start.
//   npx tsx bench/step-overhead.ts [iterations]
import { execFileSync } from 'node:child_process';
import { DockerBackend } from '../runner/backend/docker/docker-backend.ts';
import { handPlan } from '../runner/testing/hand-plan.ts';
import { ensureTestImages, TEST_IMAGES } from '../test/support/images.ts';
import { elapsedMs, printTable } from './stats.ts';

const ITERATIONS = Number(process.argv[2] ?? 20);
ensureTestImages();

function rawDockerRun(): number[] {
  const samples: number[] = [];
  for (let i = 0; i < ITERATIONS + 2; i++) {
    const t = process.hrtime.bigint();
    execFileSync('docker', ['run', '--rm', '--label', 'io.harrier.bench=true', TEST_IMAGES.busybox, 'true']);
    if (i >= 2) samples.push(elapsedMs(t));
  }
  return samples;
}

async function harrierStep(): Promise<{ run: number[]; withSetup: number[] }> {
  const backend = new DockerBackend();
  const run: number[] = [];
  const withSetup: number[] = [];
  for (let i = 0; i < ITERATIONS + 2; i++) {
    const plan = handPlan([{ name: 'step', image: TEST_IMAGES.busybox, pull: 'never', commands: ['true'] }], { labels: { 'io.harrier.bench': 'true' } });
    const signal = new AbortController().signal;
    const t0 = process.hrtime.bigint();
    await backend.setup(plan, signal);
    const t1 = process.hrtime.bigint();
    const result = await backend.run(plan, plan.steps[0], () => {}, signal);
    const t2 = process.hrtime.bigint();
    await backend.destroy(plan);
    if (result.exitCode !== 0) throw new Error(`step exited ${result.exitCode}`);
    if (i >= 2) {
      run.push(Number(t2 - t1) / 1e6);
      withSetup.push(Number(t2 - t0) / 1e6);
    }
  }
  return { run, withSetup };
}

const raw = rawDockerRun();
const harrier = await harrierStep();
printTable(
  `Per-step cost (${ITERATIONS} iterations, busybox image, command \`true\`)`,
  [
    { name: 'docker run --rm', samples: raw },
    { name: 'Harrier step (create+attach+start+wait)', samples: harrier.run },
    { name: 'Harrier stage of one step (+ network setup)', samples: harrier.withSetup },
  ],
  'docker run --rm',
);
