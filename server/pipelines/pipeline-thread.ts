// Pipeline files are read on a worker thread. A file within the limits (pipeline/file-limits.ts)
// can still take the YAML parser a second or two, and conditions a few hundred milliseconds;
// done inside a webhook request or an RPC, that would stall every other request of the
// server. Jobs run one at a time in the thread, in order; one that runs past its time
// limit has its thread stopped and replaced, and the jobs queued behind it carry on.
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../core/log.ts';
import type { MatchFacts, SubstitutionInput } from '../../pipeline/index.ts';
import type { Conditions, ParseResult } from '../../pipeline/types.ts';
import type { CheckAnswer, PipelineJob, PipelineJobResult } from './pipeline-jobs.ts';

/** How long one job may run before its thread is stopped; the limits keep real files far below it. */
export const PIPELINE_JOB_SECONDS = 20;

export class PipelineJobFailed extends Error {}

interface Pending {
  job: PipelineJob;
  seconds: number;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

// Run from dist/ the worker is plain JavaScript. Run from the TypeScript sources (tests,
// tsx) it is loaded through tsx, which a worker does not inherit from its parent.
const fromSources = import.meta.url.endsWith('.ts');

function startWorker(): Worker {
  if (!fromSources) return new Worker(new URL('./pipeline-worker.js', import.meta.url));
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./pipeline-worker.ts', import.meta.url).href;
  const boot = `const { tsImport } = await import(${JSON.stringify(tsx)}); await tsImport(${JSON.stringify(entry)}, ${JSON.stringify(import.meta.url)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`));
}

export class PipelineThread {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private timer: NodeJS.Timeout | undefined;
  private running: number | undefined;
  private closed = false;
  /** Whether the current thread has loaded its code; a job's time counts from then. */
  private ready = false;

  constructor(
    private readonly logger?: Logger,
    private readonly jobSeconds = PIPELINE_JOB_SECONDS,
  ) {}

  /**
   * Parses and lints a file, after substituting the facts of the build that reads it (null:
   * none, the file as written), and says whether its conditions look at changed paths.
   */
  check(config: string, trusted: boolean, facts: SubstitutionInput | null, seconds = this.jobSeconds): Promise<CheckAnswer> {
    return this.submit({ op: 'check', config, trusted, facts }, seconds) as Promise<CheckAnswer>;
  }

  /** Parses a build's file with the build's facts substituted. */
  parse(config: string, facts: SubstitutionInput, seconds = this.jobSeconds): Promise<ParseResult> {
    return this.submit({ op: 'parse', config, facts }, seconds) as Promise<ParseResult>;
  }

  /** Whether each set of conditions matches the facts; rejects when the patterns cost too much to match. */
  match(conditions: Conditions[], facts: MatchFacts, seconds = this.jobSeconds): Promise<boolean[]> {
    return this.submit({ op: 'match', conditions, facts }, seconds) as Promise<boolean[]>;
  }

  /** Starts the thread ahead of the first job, so that job does not wait for it to load. */
  warm(): void {
    if (!this.closed) this.thread();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.pending.values()) p.reject(new PipelineJobFailed('the server is stopping'));
    this.pending.clear();
    clearTimeout(this.timer);
    await this.worker?.terminate();
    this.worker = undefined;
  }

  private submit(job: PipelineJob, seconds: number): Promise<unknown> {
    if (this.closed) return Promise.reject(new PipelineJobFailed('the server is stopping'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { job, seconds, resolve, reject });
      this.thread().postMessage({ id, job });
      this.watch();
    });
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = startWorker();
    // Idle, the thread must not keep the process alive.
    worker.unref();
    this.ready = false;
    worker.on('message', (answer: PipelineJobResult | 'ready') => {
      if (answer !== 'ready') return this.answered(answer);
      this.ready = true;
      this.watch();
    });
    worker.on('error', (err) => this.lost(worker, `the pipeline thread failed: ${err.message}`));
    worker.on('exit', (code) => this.lost(worker, `the pipeline thread exited (code ${code})`));
    this.worker = worker;
    return worker;
  }

  private answered(answer: PipelineJobResult): void {
    const p = this.pending.get(answer.id);
    if (!p) return;
    this.pending.delete(answer.id);
    if (answer.ok) p.resolve(answer.value);
    else p.reject(new PipelineJobFailed(answer.message));
    this.running = undefined;
    this.watch();
  }

  /** Times the oldest job; jobs are answered in the order sent. */
  private watch(): void {
    const oldest = this.pending.keys().next();
    if (oldest.done) {
      clearTimeout(this.timer);
      this.running = undefined;
      this.worker?.unref();
      return;
    }
    this.worker?.ref();
    if (!this.ready || this.running === oldest.value) return;
    this.running = oldest.value;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.overran(oldest.value), this.pending.get(oldest.value)!.seconds * 1000);
  }

  private overran(id: number): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    p.reject(new PipelineJobFailed(`reading the pipeline file took more than ${p.seconds} s and was stopped; make the file smaller or simpler`));
    this.logger?.warn({ event: 'pipeline_job_overran', op: p.job.op, seconds: p.seconds }, 'a pipeline job ran past its time limit; its thread was replaced');
    this.restart();
  }

  private lost(worker: Worker, why: string): void {
    if (worker !== this.worker || this.closed) return;
    this.worker = undefined;
    // The job it was running cannot be trusted to finish; the rest are sent again.
    const first = this.pending.keys().next();
    if (!first.done) {
      const p = this.pending.get(first.value)!;
      this.pending.delete(first.value);
      p.reject(new PipelineJobFailed(why));
    }
    this.running = undefined;
    this.resend();
  }

  private restart(): void {
    const old = this.worker;
    this.worker = undefined;
    void old?.terminate();
    this.running = undefined;
    this.resend();
  }

  private resend(): void {
    if (!this.pending.size) return;
    const worker = this.thread();
    for (const [id, p] of this.pending) worker.postMessage({ id, job: p.job });
    this.watch();
  }
}
