// Find in a log. The browser's own find sees only the rows in the DOM, so the viewer
// searches the buffer itself: case-insensitive, in the text as shown (escapes removed).
import { plainText } from './ansi.ts';
import type { LogBuffer } from './log-buffer.ts';

const needsParse = (raw: string) => raw.includes('\x1b') || raw.includes('\r');

function shown(buffer: LogBuffer, row: number): string {
  const raw = buffer.out[row];
  return (needsParse(raw) ? plainText(raw) : raw).toLowerCase();
}

/** The next row from `from` (inclusive) in direction `dir` whose text contains `query`, wrapping around; -1 if none. */
export function findRow(buffer: LogBuffer, query: string, from: number, dir: 1 | -1): number {
  const n = buffer.length;
  const q = query.toLowerCase();
  if (!q || n === 0) return -1;
  const start = ((from % n) + n) % n;
  for (let k = 0; k < n; k++) {
    const row = (start + dir * k + n) % n;
    if (shown(buffer, row).includes(q)) return row;
  }
  return -1;
}

/** How many rows before `before` (all rows when omitted) contain `query`. */
export function countRows(buffer: LogBuffer, query: string, before = buffer.length): number {
  const q = query.toLowerCase();
  if (!q) return 0;
  let count = 0;
  for (let row = 0; row < before; row++) if (shown(buffer, row).includes(q)) count++;
  return count;
}
