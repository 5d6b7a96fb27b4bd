// Step timeouts: Harrier lets a step give its own limit, in seconds or as a Go-style
// duration (`90s`, `5m`, `1h30m`), the form Drone uses for its other durations.

const UNIT_SECONDS: Record<string, number> = { h: 3600, m: 60, s: 1 };

/** Seconds in `text`, or undefined when it is not a duration. `"90"` is 90 seconds. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (/^\d+$/.test(s)) return Number(s);
  if (!/^(\d+(\.\d+)?[hms])+$/.test(s)) return undefined;
  let total = 0;
  for (const [, amount, unit] of s.matchAll(/(\d+(?:\.\d+)?)([hms])/g)) {
    total += Number(amount) * UNIT_SECONDS[unit];
  }
  return Math.round(total);
}
