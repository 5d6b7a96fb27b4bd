// Turns a step's output into numbered log lines and ships them to the server in
// batches, one request in flight at a time so lines arrive in order. Nothing waits on a
// timer: a line is sent at once when no request is in flight, and the lines that come in
// while one is become the next batch, sent as soon as it returns. A quiet step's lines so
// reach the server one by one, a loud one's in a few big batches. Secrets are masked in
// whole lines, before a long line is split, and a step's log stops at its size limit with
// a last line that says so.
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
  /** The most lines one request carries. */
  maxBatchLines?: number;
  /** A batch is closed once it holds this many characters of lines. */
  maxBatchBytes?: number;
  /**
   * Above this many bytes held by unsent lines (their text and LINE_COST each) `write`
   * returns a promise that settles once the backlog is back under it.
   */
  highWaterBytes?: number;
  /** A line longer than this is cut, so one endless line cannot hold the memory. */
  maxLineBytes?: number;
  /** How long close() keeps retrying a failing server before dropping what is left. */
  closeTimeoutMs?: number;
  onError?: (err: unknown) => void;
  now?: () => number;
}

const RETRY_MS = 1_000;

/**
 * What a queued line costs beside its text: its string's header and its places in the
 * batch's arrays. Counted so the backlog of a step printing short lines (`seq`: 7
 * characters a line) is bounded by the memory it takes, not only by its text.
 */
const LINE_COST = 48;

/**
 * Lines waiting for the server, numbered from `first`. Kept as plain strings rather than
 * LogLine objects: a loud step holds hundreds of thousands of them, and the objects are
 * made only for the request that carries them.
 */
interface Batch {
  first: number;
  outs: string[];
  times: number[];
  /** Characters of its lines. */
  chars: number;
  /** Memory its lines hold, as counted against highWaterBytes. */
  held: number;
  /** Being sent (or sent and refused): its lines are fixed, later lines go to a new batch. */
  sealed: boolean;
}

export class LogWriter {
  private readonly opts: Required<Omit<LogWriterOptions, 'secrets' | 'masker'>>;
  private readonly masker: SecretMasker;
  private logBytes = 0;
  private cutWhy: string | undefined;
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  private pos = 0;
  /** Unsent lines, oldest first; each batch within the limits of one request. */
  private batches: Batch[] = [];
  private pendingHeld = 0;
  private sending: Promise<void> | undefined;
  private sendQueued = false;
  private closed = false;
  private giveUpAt = Infinity;
  private drainWaiters: (() => void)[] = [];

  constructor(options: LogWriterOptions) {
    this.opts = {
      startedAt: Date.now(),
      // A few batches fit under the mark, so one can fill while another is in flight.
      maxBatchLines: 10_000,
      maxBatchBytes: 512 * 1024,
      highWaterBytes: 2 * 1024 * 1024,
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
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    // The lines of one chunk arrived together, so they share a time.
    const time = this.secondsSinceStart();
    // Each line is cut out of the chunk once; only the unfinished last one is carried over.
    // With nothing to mask, a line is cut out with its newline: no second string per line.
    const plain = this.masker.empty;
    let start = 0;
    for (let newline = text.indexOf('\n'); newline >= 0 && !this.cut; newline = text.indexOf('\n', start)) {
      if (this.partial !== '') {
        this.push(this.partial + text.slice(start, newline), time);
        this.partial = '';
      } else if (plain) this.pushOut(text.slice(start, newline + 1), time);
      else this.push(text.slice(start, newline), time);
      start = newline + 1;
    }
    if (start < text.length && !this.cut) this.partial += start === 0 ? text : text.slice(start);
    // A line too long to hold is sent in pieces; a secret that may run on past the piece stays behind.
    while (this.partial.length > this.opts.maxLineBytes && !this.cut) {
      const { head, rest } = this.masker.maskHead(this.partial);
      if (head === '') break;
      this.pushMasked(head, time);
      this.partial = rest;
    }
    if (this.cut) this.partial = '';
    if (this.pendingHeld > this.opts.highWaterBytes) {
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
    this.flushPartial();
    if (!this.cut) this.endWith(why, `[harrier] the log ends here: ${why}.`);
  }

  /** Flushes the last partial line and waits until everything is delivered (or dropped after closeTimeoutMs). */
  async close(): Promise<void> {
    if (this.closed) return this.sending;
    if (!this.cut) this.flushPartial();
    this.partial = '';
    this.closed = true;
    this.giveUpAt = this.opts.now() + this.opts.closeTimeoutMs;
    this.kick();
    while (this.sending) await this.sending;
  }

  private flushPartial(): void {
    this.partial += this.decoder.end();
    if (this.partial) this.push(this.partial, this.secondsSinceStart());
    this.partial = '';
  }

  private secondsSinceStart(): number {
    return Math.max(0, Math.floor((this.opts.now() - this.opts.startedAt) / 1000));
  }

  private push(line: string, time: number): void {
    this.pushMasked(this.masker.mask(line), time);
  }

  private pushMasked(masked: string, time: number): void {
    this.pushOut(`${masked}\n`, time);
  }

  /** Queues a masked line ending in its newline, or cuts the log when the line would take it past its limit. */
  private pushOut(out: string, time: number): void {
    if (this.cut) return;
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
    this.queue(out, time);
  }

  /** The log's last line; nothing after it is kept. */
  private endWith(why: string, line: string): void {
    this.cutWhy = why;
    this.queue(`${line}\n`, this.secondsSinceStart());
  }

  private queue(out: string, time: number): void {
    let batch = this.batches[this.batches.length - 1];
    if (!batch || batch.sealed || batch.outs.length >= this.opts.maxBatchLines || batch.chars >= this.opts.maxBatchBytes) {
      batch = { first: this.pos, outs: [], times: [], chars: 0, held: 0, sealed: false };
      this.batches.push(batch);
    }
    batch.outs.push(out);
    batch.times.push(time);
    batch.chars += out.length;
    batch.held += out.length + LINE_COST;
    this.pendingHeld += out.length + LINE_COST;
    this.pos++;
    // After the caller's synchronous writes, so lines written together go in one request.
    if (!this.sending && !this.sendQueued) {
      this.sendQueued = true;
      queueMicrotask(() => {
        this.sendQueued = false;
        this.kick();
      });
    }
  }

  private kick(): void {
    if (this.sending || this.batches.length === 0) return;
    this.sending = this.pump().finally(() => {
      this.sending = undefined;
      // A line queued between the pump's last look and now found a request still in flight.
      this.kick();
    });
  }

  /** Sends the oldest batch until none is left; what came in during a request goes out right after it. */
  private async pump(): Promise<void> {
    while (this.batches.length > 0) {
      const batch = this.batches[0];
      batch.sealed = true;
      try {
        await this.opts.send(batch.outs.map((out, i) => ({ pos: batch.first + i, out, time: batch.times[i] })));
        this.batches.shift();
        this.pendingHeld -= batch.held;
        this.releaseWaiters();
      } catch (err) {
        this.opts.onError(err);
        if (this.closed && this.opts.now() >= this.giveUpAt) {
          this.batches = [];
          this.pendingHeld = 0;
          this.releaseWaiters();
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }

  private releaseWaiters(): void {
    if (this.pendingHeld > this.opts.highWaterBytes) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
