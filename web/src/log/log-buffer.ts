// A step's log lines, in position order, each position once. Lines arrive one SSE event
// at a time; they are queued and merged once per animation frame, and listeners hear
// about each merge, not each line, so a burst of 10,000 lines costs one render.
import type { LogLine } from '../api/types.ts';
import { PLAIN, styleAfter, type Style } from './ansi.ts';

export class LogBuffer {
  /** Positions, ascending. */
  readonly pos: number[] = [];
  /** Each line's text without its newline. */
  readonly out: string[] = [];
  /** Seconds since the step started. */
  readonly time: number[] = [];
  /** The style a line starts in (what earlier lines' escapes left), or undefined for plain. */
  readonly startStyle: (Style | undefined)[] = [];
  private carry: Style = PLAIN;
  private pending: LogLine[] = [];
  private scheduled = false;
  private listeners = new Set<() => void>();

  get length(): number {
    return this.pos.length;
  }

  get lastPos(): number {
    return this.pos.length ? this.pos[this.pos.length - 1] : -1;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Queues a line; merged on the next frame (or soon, in a hidden tab, where frames stop). */
  push(line: LogLine): void {
    this.pending.push(line);
    if (this.scheduled) return;
    this.scheduled = true;
    if (typeof document !== 'undefined' && !document.hidden && typeof requestAnimationFrame === 'function') {
      requestAnimationFrame(() => this.flush());
    } else {
      setTimeout(() => this.flush(), 100);
    }
  }

  /** Merges lines now: for the initial fetch, which should show in the same frame. */
  append(lines: LogLine[]): void {
    for (const l of lines) this.pending.push(l);
    this.flush();
  }

  /** Merges what is queued; returns how many lines were new. */
  flush(): number {
    this.scheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return 0;
    this.pending = [];
    let added = 0;
    for (const line of batch) {
      const text = line.out.endsWith('\n') ? line.out.slice(0, line.out.endsWith('\r\n') ? -2 : -1) : line.out;
      if (line.pos > this.lastPos) {
        this.pos.push(line.pos);
        this.out.push(text);
        this.time.push(line.time);
        this.startStyle.push(this.carry === PLAIN ? undefined : this.carry);
        this.carry = styleAfter(text, this.carry);
        added++;
      } else if (this.indexOf(line.pos) < 0) {
        // Late and out of order (a gap filled after a reconnect): insert in place, in plain style.
        const at = this.insertionPoint(line.pos);
        this.pos.splice(at, 0, line.pos);
        this.out.splice(at, 0, text);
        this.time.splice(at, 0, line.time);
        this.startStyle.splice(at, 0, undefined);
        added++;
      }
    }
    if (added) for (const l of this.listeners) l();
    return added;
  }

  /** The row holding position `pos`, or -1. */
  indexOf(pos: number): number {
    const at = this.insertionPoint(pos);
    return this.pos[at] === pos ? at : -1;
  }

  /** The first row whose position is >= pos. */
  insertionPoint(pos: number): number {
    let lo = 0;
    let hi = this.pos.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.pos[mid] < pos) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The raw log, escapes included, one line per line. */
  text(): string {
    this.flush();
    return this.out.length ? this.out.join('\n') + '\n' : '';
  }
}
