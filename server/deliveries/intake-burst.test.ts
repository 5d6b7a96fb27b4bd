import { describe, expect, it } from 'vitest';
import { BURST_PER_SECOND, IntakeBurst, MAX_DEFER_MS, QUIET_MS } from './intake-burst.ts';

/** An IntakeBurst on a clock the test moves. */
function burst() {
  let now = 1_000;
  const b = new IntakeBurst(() => now);
  return {
    b,
    at: (ms: number) => (now = ms),
    /** `count` deliveries spread evenly over `ms`, from the clock's time on. */
    arrive(count: number, ms: number) {
      const start = now;
      for (let i = 0; i < count; i++) {
        now = start + (i * ms) / count;
        b.stored();
      }
      now = start + ms;
    },
  };
}

describe('IntakeBurst', () => {
  it('never holds back a lone delivery, nor deliveries at an everyday rate', () => {
    const t = burst();
    expect(t.b.holdMs()).toBe(0);
    t.b.stored();
    expect(t.b.holdMs()).toBe(0);
    t.arrive(5, 1_000);
    expect(t.b.holdMs()).toBe(0);
  });

  it('holds the workers while deliveries come faster than the burst rate, until a pause', () => {
    const t = burst();
    t.arrive(BURST_PER_SECOND, 500);
    expect(t.b.holdMs()).toBeGreaterThan(0);
    expect(t.b.holdMs()).toBeLessThanOrEqual(QUIET_MS);
    t.at(2_000 + QUIET_MS);
    expect(t.b.holdMs()).toBe(0);
  });

  it('holds one burst back for MAX_DEFER_MS at most, however long it goes on', () => {
    const t = burst();
    let held = 0;
    for (let ms = 0; ms < 2 * MAX_DEFER_MS; ms += 50) {
      t.arrive(10, 50);
      if (t.b.holdMs() > 0) held = ms + 50;
    }
    expect(held).toBeGreaterThan(MAX_DEFER_MS / 2);
    expect(held).toBeLessThanOrEqual(MAX_DEFER_MS);
    expect(t.b.holdMs()).toBe(0);
  });

  it('counts a new burst after a pause from its own start', () => {
    const t = burst();
    t.arrive(10 * MAX_DEFER_MS / 50, MAX_DEFER_MS);
    expect(t.b.holdMs()).toBe(0);
    t.at(1_000 + MAX_DEFER_MS + 1_000);
    t.arrive(BURST_PER_SECOND, 500);
    expect(t.b.holdMs()).toBeGreaterThan(0);
  });
});
