// A step that prints a million lines, end to end: `seq 1 1000000` in a one-step stage
// (no clone, so the step is the stage's only container) run by `harrier runner`,
// stored by `harrier server`, then read back once through the API.
// - time: the runner's stage_started → stage_done (the stage ends after every line
//   was accepted by the server and the container is gone). Baseline: `docker run --rm
//   IMAGE seq 1 1000000 > /dev/null` in the same run, the container alone.
// - lines: what the API gives back, compared byte for byte with what seq printed.
// - memory: the peak resident memory (VmHWM) of the server and the runner after the
//   builds and one read of the log.
//   npx tsx bench/log-throughput.ts [builds]
import { TEST_IMAGES } from '../test/support/images.ts';
import { reportFigures } from './figures.ts';
import { ensureBenchImages, median, startBenchSystem, timedCommand } from './system.ts';

const BUILDS = Number(process.argv[2] ?? 3);
const LINES = 1_000_000;
const IMAGE = TEST_IMAGES.alpine;

const PIPELINE = `kind: pipeline
type: docker
name: default

clone:
  disable: true

steps:
- name: seq
  image: ${IMAGE}
  pull: if-not-exists
  commands:
  - seq 1 ${LINES}
`;

ensureBenchImages();

const dockerRun = () => timedCommand('docker', ['run', '--rm', '--label', 'io.harrier.bench=true', IMAGE, 'seq', '1', String(LINES)]);
dockerRun(); // warms the engine and the image's pages

const system = await startBenchSystem(PIPELINE);
const raw: number[] = [];
const harrier: number[] = [];
let stored = 0;
let exact = 0;
let memory = { server: NaN, runner: NaN };
try {
  for (let i = 0; i < BUILDS; i++) {
    // Each build right after its baseline, so that both see the same machine.
    raw.push(dockerRun());
    const number = await system.push({ 'run.txt': `${i}\n` }, `seq run ${i}`);
    const build = await system.waitForBuild(number);
    if (build.status !== 'success') throw new Error(`build ${number} ended ${build.status}`);
    harrier.push(await system.stageMs(number));
    if (i === BUILDS - 1) ({ stored, exact } = await readBack(number));
  }
} finally {
  memory = system.peakRssMb();
  await system.close();
}

/** Reads the step's log once, as a browser's download would, and counts the lines equal to what seq printed. */
async function readBack(number: number): Promise<{ stored: number; exact: number }> {
  const res = await fetch(`${system.e2e.host}/api/repos/${system.e2e.slug}/builds/${number}/logs/1/1`, { headers: { Authorization: `Bearer ${system.e2e.token}` } });
  const lines = (await res.json()) as { pos: number; out: string }[];
  const expected = [`+ seq 1 ${LINES}\n`, ...Array.from({ length: LINES }, (_, k) => `${k + 1}\n`)];
  let same = 0;
  for (let k = 0; k < lines.length; k++) if (lines[k].pos === k && lines[k].out === expected[k]) same++;
  return { stored: lines.length, exact: same === expected.length && lines.length === expected.length ? same : Math.min(same, lines.length) };
}

reportFigures([
  {
    bench: 'log-throughput',
    name: `a step printing \`seq 1 ${LINES}\``,
    unit: 'ms',
    value: median(harrier),
    baseline: { name: 'docker run --rm', value: median(raw) },
    target: { kind: 'ratio-at-most', limit: 1.2 },
    note: `median of ${BUILDS}; whole stage, no clone`,
  },
  {
    bench: 'log-throughput',
    name: 'lines stored of that step, byte for byte',
    unit: 'lines',
    value: exact,
    baseline: { name: 'printed', value: LINES + 1 },
    target: { kind: 'value-equals-baseline' },
    note: `${stored} read back`,
  },
  { bench: 'log-throughput', name: 'server peak memory (those builds, then one read of the log)', unit: 'MB', value: memory.server, target: { kind: 'value-below', limit: 300 } },
  { bench: 'log-throughput', name: 'runner peak memory (those builds)', unit: 'MB', value: memory.runner, target: { kind: 'value-below', limit: 200 } },
]);
