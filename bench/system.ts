// Harrier as a user runs it, for the benchmarks: `harrier server` and `harrier runner`
// processes (from dist/; `npm test` or `npm run build` makes it), the GitHub stand-in,
// a real git repository and the local Docker engine. Logging stays at info, as in a
// real installation: debug events on every log batch would be measured too.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type { Build } from '../core/domain.ts';
import { startE2e, type E2e } from '../test/e2e/e2e-harness.ts';
import { ensureNodeImage, ensureTestImages } from '../test/support/images.ts';

export interface BenchSystem {
  e2e: E2e;
  /** Commits the files, delivers the push and returns the number of the build it made. */
  push(files: Record<string, string | null>, message: string): Promise<number>;
  waitForBuild(number: number): Promise<Build>;
  /** ms from the runner's `stage_started` to its `stage_done` for that build's stage: the whole stage as the runner ran it. */
  stageMs(buildNumber: number): Promise<number>;
  /** Peak resident memory so far (VmHWM), MB. */
  peakRssMb(): { server: number; runner: number };
  close(): Promise<void>;
}

export const BENCH_LOG_LEVEL = { HARRIER_LOG_LEVEL: 'info' };

export function ensureBenchImages(): void {
  ensureTestImages();
  ensureNodeImage();
  if (!fs.existsSync(new URL('../dist/cli/main.js', import.meta.url))) {
    throw new Error('dist/ is missing: run `npm run build` (or `npm test`) first, so the benchmarks start Harrier as users do');
  }
}

function vmHwmMb(pid: number | undefined): number {
  if (!pid) return NaN;
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)\s+kB/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

export async function startBenchSystem(pipeline: string, env: Record<string, string> = {}): Promise<BenchSystem> {
  const e2e = await startE2e('github', pipeline, { serverEnv: { ...BENCH_LOG_LEVEL, ...env }, runnerEnv: { ...BENCH_LOG_LEVEL, ...env } });
  const newest = async (): Promise<number> => {
    const { body } = await e2e.api<Build[]>(`/api/repos/${e2e.slug}/builds`);
    return body.length ? Math.max(...body.map((b) => b.number)) : 0;
  };
  return {
    e2e,
    async push(files, message) {
      const before = await newest();
      const sha = e2e.git.commit(files, message);
      const [res] = await e2e.fake.push(e2e.slug, { after: sha });
      if (!res || res.status >= 300) throw new Error(`the push webhook was answered ${res?.status}: ${await res?.text()}`);
      // The delivery may be answered before its build exists (202): wait for the build to appear.
      for (let i = 0; i < 600; i++) {
        const number = await newest();
        if (number > before) return number;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no build appeared for push ${sha}`);
    },
    waitForBuild: (number) => e2e.waitForBuild(number, 300_000),
    async stageMs(buildNumber) {
      const { body: build } = await e2e.api<Build & { id: number }>(`/api/repos/${e2e.slug}/builds/${buildNumber}`);
      const events = e2e.runner.events;
      await e2e.runner.waitForEvent((e) => e.event === 'stage_started' && e.build === build.id);
      const start = events.findIndex((e) => e.event === 'stage_started' && e.build === build.id);
      // One slot (HARRIER_RUNNER_CAPACITY=1): the next stage_done after it is this stage's.
      const doneAfter = () => events.findIndex((e, i) => i > start && e.event === 'stage_done');
      await e2e.runner.waitForEvent(() => doneAfter() >= 0, 300_000);
      return Date.parse(events[doneAfter()].time as string) - Date.parse(events[start].time as string);
    },
    peakRssMb: () => ({ server: vmHwmMb(e2e.server.child.pid), runner: vmHwmMb(e2e.runner.child.pid) }),
    close: () => e2e.close(),
  };
}

/** Milliseconds of a command run to the end with its output thrown away. */
export function timedCommand(command: string, args: string[]): number {
  const t = process.hrtime.bigint();
  execFileSync(command, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  return Number(process.hrtime.bigint() - t) / 1e6;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
