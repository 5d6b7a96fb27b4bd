// Answering deliveries comes before building them. The workers share the server's one
// event loop (and SQLite's one connection) with POST /hook, and a build costs several
// times what storing a delivery does; during a burst (a push to many repositories, a
// provider redelivering a backlog) workers that kept pace would halve how fast deliveries
// are answered. So while deliveries arrive faster than BURST_PER_SECOND, workers wait
// for a pause, but never more than MAX_DEFER_MS after the burst began: a sustained flood
// is built at the pace the two can share, and no build starts more than that late because
// of it. A lone delivery is never held back.

/** Deliveries stored per second above which they count as a burst. */
export const BURST_PER_SECOND = 50;
/** No delivery stored for this long ends the burst. */
export const QUIET_MS = 100;
/** The longest the workers hold back for one burst. */
export const MAX_DEFER_MS = 10_000;
/** The rate is counted over windows of this length (this one and the one before). */
const WINDOW_MS = 250;

export class IntakeBurst {
  private windowStart = -Infinity;
  private inWindow = 0;
  private inWindowBefore = 0;
  private last = -Infinity;
  private burstSince = -Infinity;

  /** `now`: a monotonic clock in milliseconds. */
  constructor(private readonly now: () => number = () => performance.now()) {}

  /** A delivery was stored. */
  stored(): void {
    const now = this.now();
    if (now - this.last > QUIET_MS) this.burstSince = now;
    this.last = now;
    if (now - this.windowStart >= WINDOW_MS) {
      // The window before counts only when it is the one just past.
      this.inWindowBefore = now - this.windowStart < 2 * WINDOW_MS ? this.inWindow : 0;
      this.windowStart = now;
      this.inWindow = 0;
    }
    this.inWindow++;
  }

  /** How long the workers should wait before taking deliveries: 0 outside a burst, or once it was held back long enough. */
  holdMs(): number {
    const now = this.now();
    if (now - this.last > QUIET_MS) return 0;
    if (now - this.burstSince >= MAX_DEFER_MS) return 0;
    const counted = this.inWindow + this.inWindowBefore;
    // Over at least one window, so that the first few deliveries of a window are no burst by themselves.
    const span = Math.max(now - this.windowStart + (this.inWindowBefore > 0 ? WINDOW_MS : 0), WINDOW_MS);
    if ((counted * 1000) / span < BURST_PER_SECOND) return 0;
    return Math.max(1, Math.min(QUIET_MS - (now - this.last), MAX_DEFER_MS - (now - this.burstSince)));
  }
}
