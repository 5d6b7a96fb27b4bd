// Turns a step's output into numbered log lines and ships them to the server in
// batches: one request in flight at a time so lines arrive in order, a timer so no
// line waits longer than the flush interval, and a send right away when a batch is big.
import { StringDecoder } from 'node:string_decoder';
import type { LogLine } from '../core/domain.ts';
import { SecretMasker } from './secret-mask.ts';

export interface LogWriterOptions {
  /** Delivers one batch; may reject, the batch is then sent again. */
  send: (lines: LogLine[]) => Promise<void>;
  /** Secret values to hide. */
  secrets?: string[];
  /** When the step started (ms since epoch); `time` of a line counts from here. */
  startedAt?: number;
  flushIntervalMs?: number;
  /** A batch this long is sent without waiting for the timer. */
  maxBatchLines?: number;
  maxBatchBytes?: number;
  /** Above this many unsent bytes `write` returns a promise that settles once the backlog halves. */
  highWaterBytes?: number;
  /** A line longer than this is cut, so one endless line cannot hold the memory. */
  maxLineBytes?: number;
  /** How long close() keeps retrying a failing server before dropping what is left. */
  closeTimeoutMs?: number;
  onError?: (err: unknown) => void;
  now?: () => number;
}

const RETRY_MS = 1_000;

export class LogWriter {
  private readonly opts: Required<Omit<LogWriterOptions, 'secrets'>>;
  private readonly masker: SecretMasker;
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  private pos = 0;
  private pending: LogLine[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private closed = false;
  private giveUpAt = Infinity;
  private drainWaiters: (() => void)[] = [];

  constructor(options: LogWriterOptions) {
    this.opts = {
      startedAt: Date.now(),
      flushIntervalMs: 250,
      maxBatchLines: 500,
      maxBatchBytes: 256 * 1024,
      highWaterBytes: 4 * 1024 * 1024,
      maxLineBytes: 1024 * 1024,
      closeTimeoutMs: 30_000,
      onError: () => {},
      now: Date.now,
      ...options,
    };
    this.masker = new SecretMasker(options.secrets ?? []);
  }

  /** Lines handed out so far. */
  get lineCount(): number {
    return this.pos;
  }

  /** Takes raw output. Returns a promise only when the caller should wait before writing more. */
  write(chunk: Buffer | string): void | Promise<void> {
    if (this.closed) return;
    this.partial += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    let newline: number;
    while ((newline = this.partial.indexOf('\n')) >= 0) {
      this.push(this.partial.slice(0, newline));
      this.partial = this.partial.slice(newline + 1);
    }
    if (this.partial.length > this.opts.maxLineBytes) {
      this.push(this.partial);
      this.partial = '';
    }
    if (this.pendingBytes > this.opts.highWaterBytes) {
      return new Promise((resolve) => this.drainWaiters.push(resolve));
    }
  }

  /** Writes a whole line of the runner's own (e.g. `+ git fetch`), after any partial output. */
  line(text: string): void {
    this.write(`${text}\n`);
  }

  /** Flushes the last partial line and waits until everything is delivered (or dropped after closeTimeoutMs). */
  async close(): Promise<void> {
    if (this.closed) return this.sending;
    this.partial += this.decoder.end();
    if (this.partial) this.push(this.partial);
    this.partial = '';
    this.closed = true;
    this.giveUpAt = this.opts.now() + this.opts.closeTimeoutMs;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.kick();
    while (this.sending) await this.sending;
  }

  private push(text: string): void {
    const out = `${this.masker.mask(text)}\n`;
    const time = Math.max(0, Math.floor((this.opts.now() - this.opts.startedAt) / 1000));
    this.pending.push({ pos: this.pos++, out, time });
    this.pendingBytes += out.length;
    if (this.pending.length >= this.opts.maxBatchLines || this.pendingBytes >= this.opts.maxBatchBytes) {
      this.kick();
    } else if (!this.timer && !this.sending) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.kick();
      }, this.opts.flushIntervalMs);
    }
  }

  private kick(): void {
    if (this.sending || this.pending.length === 0) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.sending = this.pump().finally(() => {
      this.sending = undefined;
      // Lines that came in during the last request have waited long enough.
      if (this.pending.length > 0) this.kick();
    });
  }

  private async pump(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.takeBatch();
      try {
        await this.opts.send(batch);
        this.pendingBytes -= batch.reduce((n, l) => n + l.out.length, 0);
        this.pending.splice(0, batch.length);
        this.releaseWaiters();
      } catch (err) {
        this.opts.onError(err);
        if (this.closed && this.opts.now() >= this.giveUpAt) {
          this.pending = [];
          this.pendingBytes = 0;
          this.releaseWaiters();
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }

  /** The oldest lines, up to the batch limits; they stay queued until the server took them. */
  private takeBatch(): LogLine[] {
    let bytes = 0;
    let n = 0;
    while (n < this.pending.length && n < this.opts.maxBatchLines) {
      bytes += this.pending[n].out.length;
      n++;
      if (bytes >= this.opts.maxBatchBytes) break;
    }
    return this.pending.slice(0, n);
  }

  private releaseWaiters(): void {
    if (this.pendingBytes > this.opts.highWaterBytes / 2) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
