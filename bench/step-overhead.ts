// What a stage adds on top of its container: a one-step stage (`true`) run by
// `harrier runner` for `harrier server`, against a raw `docker run --rm` of the same image,
// the two taken in turn in the same run so that both see the same load on the machine.
// - one-step stage: the runner's stage_started → stage_done (network, clone, workspace,
//   container, reports to the server, teardown), with the default clone as users have it,
//   and again with `clone: disable: true`.
// - backend alone: the Docker backend's setup + run + destroy of one step, in this
//   process, without server, clone or workspace: what the engine calls cost, and the
//   measure of the issue that set the 1.3x target.
//   npx tsx bench/step-overhead.ts [builds]
import { DockerBackend } from '../runner/backend/docker/docker-backend.ts';
import { handPlan } from '../runner/testing/hand-plan.ts';
import { TEST_IMAGES } from '../test/support/images.ts';
import { reportFigures } from './figures.ts';
import { ensureBenchImages, median, startBenchSystem, timedCommand } from './system.ts';

const BUILDS = Number(process.argv[2] ?? 15);
const IMAGE = TEST_IMAGES.alpine;
/** Runs before the measured ones: the first build warms the server's and the runner's code paths. */
const WARMUP = 2;

const PIPELINE = `kind: pipeline
type: docker
name: default

steps:
- name: step
  image: ${IMAGE}
  pull: if-not-exists
  commands:
  - true
`;

const dockerRun = () => timedCommand('docker', ['run', '--rm', '--label', 'io.harrier.bench=true', IMAGE, 'true']);

ensureBenchImages();

/** Paired samples: `measure` then a raw `docker run` right after it, so both see the same machine; warm-up pairs dropped. */
async function paired(measure: (i: number) => Promise<number>): Promise<{ harrier: number[]; raw: number[] }> {
  const harrier: number[] = [];
  const raw: number[] = [];
  for (let i = 0; i < BUILDS + WARMUP; i++) {
    const ms = await measure(i);
    const rawMs = dockerRun();
    if (i >= WARMUP) {
      harrier.push(ms);
      raw.push(rawMs);
    }
  }
  return { harrier, raw };
}

async function backendAlone(): Promise<{ harrier: number[]; raw: number[] }> {
  // As the runner makes it: stage networks kept for the next stage.
  const backend = new DockerBackend(undefined, { networkLabels: { 'io.harrier.bench': 'true' } });
  const samples = await paired(async () => {
    const plan = handPlan([{ name: 'step', image: IMAGE, pull: 'if-not-exists', commands: ['true'] }], { labels: { 'io.harrier.bench': 'true' } });
    const signal = new AbortController().signal;
    const t = process.hrtime.bigint();
    await backend.setup(plan, signal);
    const result = await backend.run(plan, plan.steps[0], () => {}, signal);
    await backend.destroy(plan);
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    if (result.exitCode !== 0) throw new Error(`step exited ${result.exitCode}`);
    return ms;
  });
  await backend.close();
  return samples;
}

async function wholeStage(pipeline: string): Promise<{ harrier: number[]; raw: number[] }> {
  const system = await startBenchSystem(pipeline);
  try {
    // Each build is measured once it is done, with the system idle.
    return await paired(async (i) => {
      const number = await system.push({ 'run.txt': `${i}\n` }, `true run ${i}`);
      const build = await system.waitForBuild(number);
      if (build.status !== 'success') throw new Error(`build ${number} ended ${build.status}`);
      const ms = await system.stageMs(number);
      process.stderr.write(`build ${number}: stage ${Math.round(ms)} ms\n`);
      return ms;
    });
  } finally {
    await system.close();
  }
}

const cloned = await wholeStage(PIPELINE);
const unCloned = await wholeStage(PIPELINE.replace('steps:\n', 'clone:\n  disable: true\n\nsteps:\n'));
const alone = await backendAlone();

reportFigures([
  {
    bench: 'step-overhead',
    name: 'one-step stage (`true`)',
    unit: 'ms',
    value: median(cloned.harrier),
    baseline: { name: `docker run --rm ${IMAGE} true`, value: median(cloned.raw) },
    target: { kind: 'ratio-at-most', limit: 1.3 },
    note: `median of ${BUILDS}; stage_started → stage_done, with clone`,
  },
  {
    bench: 'step-overhead',
    name: 'one-step stage (`true`), clone disabled',
    unit: 'ms',
    value: median(unCloned.harrier),
    baseline: { name: `docker run --rm ${IMAGE} true`, value: median(unCloned.raw) },
    note: `median of ${BUILDS}; stage_started → stage_done`,
  },
  {
    bench: 'step-overhead',
    name: 'Docker backend alone: one-step stage (`true`)',
    unit: 'ms',
    value: median(alone.harrier),
    baseline: { name: `docker run --rm ${IMAGE} true`, value: median(alone.raw) },
    target: { kind: 'ratio-at-most', limit: 1.3 },
    note: `median of ${BUILDS}; network (kept), container, teardown; no server, clone or workspace: the issue's own measure`,
  },
]);
