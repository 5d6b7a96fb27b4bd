// Turns a step's output into numbered log lines and ships them to the server in
// batches: one request in flight at a time so lines arrive in order, a timer so no
// line waits longer than the flush interval, and a send right away when a batch is big.
// Secrets are masked in whole lines, before a long line is split, and a step's log stops
// at its size limit with a last line that says so.
import { StringDecoder } from 'node:string_decoder';
import type { LogLine } from '../core/domain.ts';
import { formatByteSize } from './byte-size.ts';
import { SecretMasker } from './secret-mask.ts';

export interface LogWriterOptions {
  /** Delivers one batch; may reject, the batch is then sent again. */
  send: (lines: LogLine[]) => Promise<void>;
  /** Secret values to hide (values shorter than MIN_SECRET_LENGTH are not). */
  secrets?: string[];
  /** Hides secrets; built once per stage. Takes the place of `secrets`. */
  masker?: SecretMasker;
  /** Bytes of lines (as stored, after masking) the log may hold; past it the log is cut. */
  maxLogBytes?: number;
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
  private readonly opts: Required<Omit<LogWriterOptions, 'secrets' | 'masker'>>;
  private readonly masker: SecretMasker;
  private logBytes = 0;
  private cutWhy: string | undefined;
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
      maxLogBytes: options.maxLogBytes ?? Infinity,
    };
    this.masker = options.masker ?? new SecretMasker(options.secrets ?? []);
  }

  /** The log was cut: at its size limit, or because the rest of the output could not be read. */
  get cut(): boolean {
    return this.cutWhy !== undefined;
  }

  /** Lines handed out so far. */
  get lineCount(): number {
    return this.pos;
  }

  /** Takes raw output. Returns a promise only when the caller should wait before writing more. */
  write(chunk: Buffer | string): void | Promise<void> {
    if (this.closed || this.cut) return;
    this.partial += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    let newline: number;
    while ((newline = this.partial.indexOf('\n')) >= 0 && !this.cut) {
      this.push(this.masker.mask(this.partial.slice(0, newline)));
      this.partial = this.partial.slice(newline + 1);
    }
    // A line too long to hold is sent in pieces; a secret that may run on past the piece stays behind.
    while (this.partial.length > this.opts.maxLineBytes && !this.cut) {
      const { head, rest } = this.masker.maskHead(this.partial);
      if (head === '') break;
      this.push(head);
      this.partial = rest;
    }
    if (this.cut) this.partial = '';
    if (this.pendingBytes > this.opts.highWaterBytes) {
      return new Promise((resolve) => this.drainWaiters.push(resolve));
    }
  }

  /** Writes a whole line of the runner's own (e.g. `+ git fetch`), after any partial output. */
  line(text: string): void {
    this.write(`${text}\n`);
  }

  /**
   * Ends the log here with a line saying why (the rest of the output could not be read):
   * nothing written after it is kept, and `cut` is true.
   */
  cutHere(why: string): void {
    if (this.closed || this.cut) return;
    this.partial += this.decoder.end();
    if (this.partial) this.push(this.masker.mask(this.partial));
    this.partial = '';
    if (!this.cut) this.endWith(why, `[harrier] the log ends here: ${why}.`);
  }

  /** Flushes the last partial line and waits until everything is delivered (or dropped after closeTimeoutMs). */
  async close(): Promise<void> {
    if (this.closed) return this.sending;
    if (!this.cut) {
      this.partial += this.decoder.end();
      if (this.partial) this.push(this.masker.mask(this.partial));
    }
    this.partial = '';
    this.closed = true;
    this.giveUpAt = this.opts.now() + this.opts.closeTimeoutMs;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.kick();
    while (this.sending) await this.sending;
  }

  /** Queues a masked line, or cuts the log when the line would take it past its limit. */
  private push(masked: string): void {
    if (this.cut) return;
    const out = `${masked}\n`;
    const bytes = Buffer.byteLength(out);
    if (this.logBytes + bytes > this.opts.maxLogBytes) {
      const limit = this.opts.maxLogBytes;
      this.endWith(
        'size limit',
        `[harrier] the log was cut here: the step wrote more than the limit of ${formatByteSize(limit)} (HARRIER_RUNNER_LOG_LIMIT=${limit} bytes). ` +
          `${this.logBytes} bytes were kept and the rest of its output is dropped; the step runs on to its end. ` +
          'The runner\'s operator can raise HARRIER_RUNNER_LOG_LIMIT.',
      );
      return;
    }
    this.logBytes += bytes;
    this.queue(out);
  }

  /** The log's last line; nothing after it is kept. */
  private endWith(why: string, line: string): void {
    this.cutWhy = why;
    this.queue(`${line}\n`);
  }

  private queue(out: string): void {
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
