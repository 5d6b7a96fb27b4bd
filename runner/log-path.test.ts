// The runner's side of a step's log on a real Docker engine: the backend's output, the
// LogWriter and the RpcClient, against a small HTTP server that takes log batches as the
// server's RPC does (issue 10: every line kept, in order, byte for byte).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LogLine } from '../core/domain.ts';
import { type LogBatch, linesOf } from '../core/protocol.ts';
import type { Plan } from '../pipeline/types.ts';
import { ensureTestImages } from '../test/support/images.ts';
import { DockerBackend } from './backend/docker/docker-backend.ts';
import { LABEL_RUNNER } from './labels.ts';
import { LogWriter, type LogWriterOptions } from './log-writer.ts';
import { RpcClient } from './rpc-client.ts';
import { handPlan } from './testing/hand-plan.ts';
import { sweepStaleTestObjects, testRunnerName } from './testing/test-runner-names.ts';

const runnerLabel = testRunnerName('log-path');
const backend = new DockerBackend();
const never = new AbortController().signal;
const plans: Plan[] = [];

/** Takes log batches (a LogBatch in either form, 204), after `delayMs` each; keeps them in arrival order. */
class LogSink {
  readonly batches: LogLine[][] = [];
  /** Characters of lines the sink has answered for. */
  delivered = 0;
  private server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      const lines = linesOf(JSON.parse(Buffer.concat(parts).toString('utf8')) as LogBatch);
      setTimeout(() => {
        this.batches.push(lines);
        this.delivered += lines.reduce((n, l) => n + l.out.length, 0);
        res.writeHead(204).end();
      }, this.delayMs);
    });
  });

  constructor(private readonly delayMs = 0) {}

  async start(): Promise<RpcClient> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return new RpcClient({ serverUrl: `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`, secret: 's' });
  }

  lines(): LogLine[] {
    return this.batches.flat();
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** Runs one step whose output goes through a LogWriter to the sink, as the runner runs it; returns what was lost, if anything. */
async function runStep(commands: string[], sink: LogSink, options: Partial<LogWriterOptions> = {}, onWrite: (chunk: Buffer) => void = () => {}) {
  const rpc = await sink.start();
  const plan = handPlan([{ name: 'loud', commands }], { labels: { [LABEL_RUNNER]: runnerLabel } });
  plans.push(plan);
  await backend.setup(plan, never);
  const writer = new LogWriter({ send: (lines) => rpc.sendLogs(1, lines), ...options });
  const lost: string[] = [];
  const result = await backend.run(
    plan,
    plan.steps[0],
    (chunk) => {
      onWrite(chunk);
      return writer.write(chunk);
    },
    never,
    (why) => {
      lost.push(why);
      writer.cutHere(why);
    },
  );
  await writer.close();
  return { result, lost, writer };
}

const seqLines = (n: number) => [`+ seq 1 ${n}\n`, ...Array.from({ length: n }, (_, i) => `${i + 1}\n`)];

beforeAll(async () => {
  ensureTestImages();
  await sweepStaleTestObjects();
});

afterEach(async () => {
  await Promise.all(plans.splice(0).map((p) => backend.destroy(p)));
});

afterAll(async () => {
  await backend.removeLeftovers({ [LABEL_RUNNER]: runnerLabel });
});

describe('a step log from the Docker backend through LogWriter and RpcClient', () => {
  it('delivers every line of seq 1 200000, in order and byte for byte, in far fewer requests than lines', async () => {
    const sink = new LogSink();
    try {
      const { result, lost, writer } = await runStep(['seq 1 200000'], sink);
      expect(result.exitCode).toBe(0);
      expect(lost).toEqual([]);
      expect(writer.cut).toBe(false);
      const lines = sink.lines();
      expect(lines.map((l) => l.pos)).toEqual([...Array(200_001).keys()]);
      expect(lines.map((l) => l.out)).toEqual(seqLines(200_000));
      // Batched under load: each request carried many lines.
      expect(sink.batches.length).toBeLessThan(200_001 / 100);
    } finally {
      await sink.close();
    }
  }, 120_000);

  it('holds no more unsent output than the high-water mark and one batch while the server is slow, and loses nothing', async () => {
    const sink = new LogSink(5);
    const highWaterBytes = 256 * 1024;
    const maxBatchBytes = 64 * 1024;
    let written = 0;
    let most = 0;
    try {
      const { result, lost } = await runStep(['seq 1 200000'], sink, { highWaterBytes, maxBatchBytes }, (chunk) => {
        written += chunk.length;
        most = Math.max(most, written - sink.delivered);
      });
      expect(result.exitCode).toBe(0);
      expect(lost).toEqual([]);
      expect(sink.lines().map((l) => l.out)).toEqual(seqLines(200_000));
      // The step printed far more than the mark, so the writer had to hold the container back.
      expect(written).toBeGreaterThan(2 * highWaterBytes);
      expect(most).toBeLessThanOrEqual(highWaterBytes + maxBatchBytes);
    } finally {
      await sink.close();
    }
  }, 120_000);
});
