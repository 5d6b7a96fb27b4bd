// `npm run bench`: every benchmark, one after another, each in a process of its own
// (a bench's memory and stray handles cannot skew the next), then one table of every
// figure against its baseline from the same run, kept as JSON in bench/results/.
//   npx tsx bench/all.ts [bench names…]   e.g. `npx tsx bench/all.ts log-throughput reader-lag`
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { figureTable, meets, ratioOf, type BenchFigure } from './figures.ts';

const BENCH_DIR = import.meta.dirname;

/** In the order they run; the issue's figures first. */
const BENCHES = ['log-throughput', 'reader-lag', 'webhook-intake', 'step-overhead', 'runner-log-path', 'log-store', 'pickup-latency', 'dispatch', 'hostile-files', 'log-viewer'];

const chosen = process.argv.slice(2);
for (const name of chosen) {
  if (!BENCHES.includes(name)) {
    console.error(`unknown benchmark "${name}"; choose from: ${BENCHES.join(', ')}`);
    process.exit(2);
  }
}
const names = chosen.length ? chosen : BENCHES;
const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'harrier-bench-')), 'figures.jsonl');
fs.writeFileSync(out, '');

const failed: string[] = [];
for (const name of names) {
  const file = path.join(BENCH_DIR, `${name}.ts`);
  if (!fs.existsSync(file)) {
    failed.push(`${name}: bench/${name}.ts is missing`);
    continue;
  }
  console.log(`\n=== ${name} ===`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', file], { stdio: 'inherit', env: { ...process.env, HARRIER_BENCH_OUT: out } });
  if (result.status !== 0) failed.push(`${name}: exited ${result.status ?? result.signal}`);
}

const figures = fs
  .readFileSync(out, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => JSON.parse(line) as BenchFigure);
console.log('\n=== all figures ===\n');
console.log(figureTable(figures));

const resultsDir = path.join(BENCH_DIR, 'results');
fs.mkdirSync(resultsDir, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const file = path.join(resultsDir, `${stamp}.json`);
const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '', memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.type()} ${os.release()}` };
const record = {
  date: new Date().toISOString(),
  machine,
  benches: names,
  failed,
  figures: figures.map((f) => ({ ...f, ratio: ratioOf(f), met: meets(f) })),
};
fs.writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
console.log(`\nwritten to ${path.relative(process.cwd(), file)}`);
if (failed.length) {
  console.error(`\nbenchmarks that did not finish:\n${failed.map((f) => `  ${f}`).join('\n')}`);
  process.exit(1);
}
