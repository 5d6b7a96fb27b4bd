// The runner's side of a step's log: Harrier's Docker backend and LogWriter running a step
// that prints `seq 1 N`, its lines sent through the runner's RpcClient to a local HTTP sink
// that checks every line (in order, byte for byte) and counts them, against
// `docker run --rm IMAGE seq 1 N > /dev/null` in the same run. Targets (issue 10): at most
// 1.2× the baseline, runner peak RSS under 200 MB. The server is left out on purpose: this
// is the runner's share of the path.
// Lag: a step printing /proc/uptime every 50 ms (the host's clock as the container sees
// it, in hundredths of a second), each line's arrival at the sink against the time it
// holds; p50/p95/max in ms, to within the clock's 10 ms.
// The runner side runs in a child process, so its RSS is its own and not the sink's.
//   npx tsx bench/runner-log-path.ts [lines] [rounds]
//   npx tsx bench/runner-log-path.ts [lines] [rounds] --cpu-prof-dir DIR   (profiles of the runner side into DIR)
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { LogLine } from '../core/domain.ts';
import { type LogBatch, linesOf } from '../core/protocol.ts';
import { DockerBackend } from '../runner/backend/docker/docker-backend.ts';
import { LogWriter } from '../runner/log-writer.ts';
import { RpcClient } from '../runner/rpc-client.ts';
import { handPlan } from '../runner/testing/hand-plan.ts';
import { ensureTestImages, TEST_IMAGES } from '../test/support/images.ts';
import { handOnFigures } from './figures.ts';
import { elapsedMs, percentile } from './stats.ts';

const LAG_LINES = 100;
const LAG_EVERY_S = 0.05;

interface ChildResult {
  ms: number;
  /** CPU time of the runner side while the step ran, user and system. */
  cpuMs: number;
  maxRssMb: number;
  lines: number;
  requests: number;
}

function uptimeMs(): number {
  return Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1000;
}

/** What the runner does for one step: backend.run with a LogWriter whose batches go out through RpcClient.sendLogs. */
async function child(sinkUrl: string, kind: string, lines: number): Promise<void> {
  const commands =
    kind !== 'lag' ? [`seq 1 ${lines}`] : [`i=0; while [ $i -lt ${LAG_LINES} ]; do cat /proc/uptime; sleep ${LAG_EVERY_S}; i=$((i+1)); done`];
  const backend = new DockerBackend();
  const plan = handPlan([{ name: 'log', image: TEST_IMAGES.busybox, pull: 'never', commands }], { labels: { 'io.harrier.bench': 'true' } });
  const signal = new AbortController().signal;
  const rpc = new RpcClient({ serverUrl: sinkUrl, secret: 'bench' });
  let requests = 0;
  await backend.setup(plan, signal);
  try {
    const start = process.hrtime.bigint();
    const cpuBefore = process.cpuUsage();
    const writer = new LogWriter({
      send: (batch: LogLine[]) => {
        requests++;
        return rpc.sendLogs(1, batch);
      },
    });
    // 'drop': the backend alone, its output thrown away; the floor of the path in this process.
    const output = kind === 'drop' ? () => {} : (chunk: Buffer) => writer.write(chunk);
    const result = await backend.run(plan, plan.steps[0], output, signal, (why) => writer.cutHere(why));
    await writer.close();
    const ms = elapsedMs(start);
    if (result.exitCode !== 0) throw new Error(`the step exited ${result.exitCode}`);
    const cpu = process.cpuUsage(cpuBefore);
    const out: ChildResult = { ms, cpuMs: (cpu.user + cpu.system) / 1000, maxRssMb: process.resourceUsage().maxRSS / 1024, lines: writer.lineCount, requests };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    await backend.destroy(plan);
  }
}

/** Takes log batches as the server's RPC would (JSON body, 204), checks each line against what the step prints. */
class Sink {
  private server = http.createServer((req, res) => this.take(req, res));
  expected: (pos: number) => string = () => '';
  next = 0;
  wrong: string | undefined;
  /** Lines in order and right before the first wrong one. */
  right = 0;
  lags: number[] = [];

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  reset(expected: (pos: number) => string): void {
    this.expected = expected;
    this.next = 0;
    this.wrong = undefined;
    this.right = 0;
    this.lags = [];
  }

  private take(req: http.IncomingMessage, res: http.ServerResponse): void {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      const arrived = uptimeMs();
      const lines = linesOf(JSON.parse(Buffer.concat(parts).toString('utf8')) as LogBatch);
      for (const line of lines) {
        // A batch sent again after a lost answer repeats positions the sink has: ignored, as the server does.
        if (line.pos < this.next) continue;
        const want = this.expected(line.pos);
        if (!this.wrong && (line.pos !== this.next || (want && line.out !== want))) {
          this.wrong = `line ${line.pos}: expected pos ${this.next} ${JSON.stringify(want)}, got ${JSON.stringify(line.out)}`;
        }
        if (!this.wrong) this.right = line.pos + 1;
        this.next = line.pos + 1;
        const printed = /^(\d+\.\d+) /.exec(line.out);
        if (printed) this.lags.push(arrived - Number(printed[1]) * 1000);
      }
      res.statusCode = 204;
      res.end();
    });
  }

  close(): void {
    this.server.close();
  }
}

const profileAt = process.argv.indexOf('--cpu-prof-dir');
const profileDir = profileAt > 0 ? process.argv.splice(profileAt, 2)[1] : undefined;

function runChild(sinkUrl: string, kind: string, lines: number): Promise<ChildResult> {
  const self = fileURLToPath(import.meta.url);
  const profile = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  const proc = spawn(process.execPath, [...process.execArgv, ...profile, self, '--child', sinkUrl, kind, String(lines)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    proc.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`the runner side exited ${code}`));
      resolve(JSON.parse(out.trim().split('\n').at(-1)!) as ChildResult);
    });
  });
}

function dockerRun(lines: number): number {
  const start = process.hrtime.bigint();
  execFileSync('sh', ['-c', `docker run --rm --label io.harrier.bench=true ${TEST_IMAGES.busybox} seq 1 ${lines} > /dev/null`]);
  return elapsedMs(start);
}

async function main(): Promise<void> {
  const lines = Number(process.argv[2] ?? 1_000_000);
  const rounds = Number(process.argv[3] ?? 3);
  ensureTestImages();
  const sink = new Sink();
  const url = await sink.listen();
  const seqLine = (pos: number) => (pos === 0 ? `+ seq 1 ${lines}\n` : `${pos}\n`);

  const base: number[] = [];
  const harrier: ChildResult[] = [];
  const dropped: ChildResult[] = [];
  let fewestRight = Infinity;
  dockerRun(1000); // warm the engine and the image
  for (let round = 0; round < rounds; round++) {
    // Alternated, so a busy moment on the shared machine falls on both.
    base.push(dockerRun(lines));
    sink.reset(seqLine);
    const result = await runChild(url, 'seq', lines);
    // Reported, not thrown: a run that loses lines is a figure too.
    if (sink.wrong) console.log(`round ${round + 1}: the sink got a wrong line: ${sink.wrong}`);
    if (sink.next !== lines + 1) console.log(`round ${round + 1}: the sink got ${sink.next} of ${lines + 1} lines`);
    fewestRight = Math.min(fewestRight, sink.right);
    harrier.push(result);
    dropped.push(await runChild(url, 'drop', lines));
  }
  sink.reset(() => '');
  const lag = await runChild(url, 'lag', LAG_LINES);
  const lags = sink.lags;
  sink.close();

  const baseMs = percentile(base, 50);
  const median = (results: ChildResult[], key: 'ms' | 'cpuMs' | 'requests') =>
    percentile(
      results.map((r) => r[key]),
      50,
    );
  const row = (name: string, results: ChildResult[]) =>
    [
      name,
      median(results, 'ms').toFixed(0),
      (median(results, 'ms') / baseMs).toFixed(2),
      median(results, 'cpuMs').toFixed(0),
      Math.max(...results.map((r) => r.maxRssMb)).toFixed(0),
      median(results, 'requests'),
      results[0].lines,
    ].join(' | ');
  console.log(`\nRunner log path: a step printing seq 1 ${lines} (${rounds} rounds, medians; every line checked at the sink)`);
  console.log(['what', 'ms', 'ratio', 'runner CPU ms', 'runner peak RSS MB', 'requests', 'lines'].join(' | '));
  console.log(['docker run --rm … seq > /dev/null', baseMs.toFixed(0), '1.00', '', '', '', ''].join(' | '));
  console.log(row('backend.run + LogWriter → sink', harrier));
  console.log(row('backend.run, output dropped', dropped));
  console.log(
    `\nReader lag at the sink, ${LAG_LINES} lines one each ${LAG_EVERY_S * 1000} ms (clock of 10 ms): ` +
      `p50 ${percentile(lags, 50).toFixed(0)} ms, p95 ${percentile(lags, 95).toFixed(0)} ms, max ${Math.max(...lags).toFixed(0)} ms ` +
      `(${lags.length} lines, ${lag.requests} requests)`,
  );
  // Under bench/all.ts, the figures join the run's table.
  const bench = 'runner-log-path';
  handOnFigures([
    {
      bench,
      name: `runner's share of a step printing \`seq 1 ${lines}\` (Docker backend + LogWriter + RpcClient to a sink)`,
      unit: 'ms',
      value: median(harrier, 'ms'),
      baseline: { name: 'docker run --rm', value: baseMs },
      target: { kind: 'ratio-at-most', limit: 1.2 },
      note: `median of ${rounds}`,
    },
    { bench, name: 'lines at the sink, in order, byte for byte', unit: 'lines', value: fewestRight, baseline: { name: 'printed', value: lines + 1 }, target: { kind: 'value-equals-baseline' } },
    { bench, name: 'runner peak RSS during that step', unit: 'MB', value: Math.max(...harrier.map((r) => r.maxRssMb)), target: { kind: 'value-below', limit: 200 } },
    {
      bench,
      name: 'runner lag, line printed -> at the sink',
      unit: 'ms',
      value: percentile(lags, 95),
      target: { kind: 'value-below', limit: 250 },
      note: `p95 of ${lags.length} lines one each ${LAG_EVERY_S * 1000} ms; 10 ms clock`,
    },
  ]);
}

if (process.argv[2] === '--child') {
  await child(process.argv[3], process.argv[4], Number(process.argv[5]));
} else {
  await main();
}
