// How long a line takes from the container to the people watching it: a step prints a
// line with the time it was printed (Date.now() in the container; the container shares
// the host's clock) every INTERVAL ms, and each viewer, an SSE connection to
// `harrier server` as a browser opens one, notes when the line arrived.
// Baseline: the same with one viewer, in the same run.
//   npx tsx bench/reader-lag.ts [viewers] [lines]
import { percentile } from './stats.ts';
import { reportFigures } from './figures.ts';
import { ensureBenchImages, startBenchSystem, type BenchSystem } from './system.ts';

const VIEWERS = Number(process.argv[2] ?? 200);
const LINES = Number(process.argv[3] ?? 200);
const INTERVAL_MS = 50;
// Viewers connect while the step sleeps, so every one of them sees every line live.
const SETTLE_S = 4;

const PIPELINE = `kind: pipeline
type: docker
name: default

clone:
  disable: true

steps:
- name: ticks
  image: node:20
  pull: if-not-exists
  commands:
  - sleep ${SETTLE_S}
  - node -e 'let n = 0; const t = setInterval(() => { console.log("tick " + Date.now()); if (++n === ${LINES}) clearInterval(t); }, ${INTERVAL_MS})'
`;

interface Watch {
  lags: number[];
  lines: number;
  done: Promise<void>;
}

/** One viewer: an EventSource-like reader of the step's live log. */
function watch(system: BenchSystem, build: number, ready: () => void): Watch {
  const w: Watch = { lags: [], lines: 0, done: Promise.resolve() };
  w.done = (async () => {
    const res = await fetch(`${system.e2e.host}/api/stream/${system.e2e.slug}/${build}/1/1`, {
      headers: { Authorization: `Bearer ${system.e2e.token}`, Accept: 'text/event-stream' },
    });
    if (!res.ok || !res.body) throw new Error(`stream answered ${res.status}`);
    ready();
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body) {
      const now = Date.now();
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (/^event: done$/m.test(event)) return;
        const data = /^data: (.*)$/m.exec(event)?.[1];
        if (!data) continue;
        const out = (JSON.parse(data) as { out: string }).out;
        const printed = /^tick (\d+)/.exec(out);
        if (!printed) continue;
        w.lines++;
        w.lags.push(now - Number(printed[1]));
      }
    }
  })();
  return w;
}

async function measure(system: BenchSystem, viewers: number, run: number): Promise<{ lags: number[]; complete: number }> {
  const build = await system.push({ 'run.txt': `${viewers} ${run}\n` }, `lag run ${run}`);
  let connected = 0;
  const watches = Array.from({ length: viewers }, () => watch(system, build, () => connected++));
  await Promise.all(watches.map((w) => w.done));
  const finished = await system.waitForBuild(build);
  if (finished.status !== 'success') throw new Error(`build ${build} ended ${finished.status}`);
  if (connected !== viewers) throw new Error(`${viewers - connected} viewers never connected`);
  return { lags: watches.flatMap((w) => w.lags), complete: watches.filter((w) => w.lines === LINES).length };
}

ensureBenchImages();
const system = await startBenchSystem(PIPELINE);
let one: { lags: number[]; complete: number };
let many: { lags: number[]; complete: number };
let memory: { server: number; runner: number };
try {
  // The first build warms the image cache and the server's paths.
  await measure(system, 1, 0);
  one = await measure(system, 1, 1);
  many = await measure(system, VIEWERS, 2);
  memory = system.peakRssMb();
} finally {
  await system.close();
}

reportFigures([
  {
    bench: 'reader-lag',
    name: `reader lag, line printed in the container → received over SSE, ${VIEWERS} viewers, p95`,
    unit: 'ms',
    value: percentile(many.lags, 95),
    baseline: { name: '1 viewer, p95', value: percentile(one.lags, 95) },
    target: { kind: 'value-below', limit: 250 },
    note: `${LINES} lines every ${INTERVAL_MS} ms; median ${percentile(many.lags, 50)} ms`,
  },
  {
    bench: 'reader-lag',
    name: `reader lag, ${VIEWERS} viewers, max`,
    unit: 'ms',
    value: Math.max(...many.lags),
    baseline: { name: '1 viewer, max', value: Math.max(...one.lags) },
    target: { kind: 'value-below', limit: 1000 },
  },
  {
    bench: 'reader-lag',
    name: `viewers that got every line`,
    unit: 'viewers',
    value: many.complete,
    baseline: { name: 'viewers', value: VIEWERS },
    target: { kind: 'value-equals-baseline' },
  },
  { bench: 'reader-lag', name: `server peak memory with ${VIEWERS} viewers`, unit: 'MB', value: memory.server },
]);
