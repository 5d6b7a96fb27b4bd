// How client commands print: aligned tables and `key: value` lists for people,
// the server's JSON as it came for scripts (`--format json`).
import type { CommandIO } from '../command-io.ts';

export type Format = 'table' | 'json';

export type Cell = string | number | boolean | null | undefined;

/** Columns padded to their widest cell; the last column is left unpadded. */
export function table(headers: string[], rows: Cell[][]): string {
  const text = [headers, ...rows.map((row) => row.map(cellText))];
  const widths = headers.map((_, i) => Math.max(...text.map((row) => (row[i] ?? '').length)));
  return text.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : (cell ?? '').padEnd(widths[i]))).join('  ').trimEnd()).join('\n') + '\n';
}

/** `Key: value` lines, the keys aligned. */
export function fields(pairs: [string, Cell][]): string {
  const width = Math.max(...pairs.map(([key]) => key.length)) + 1;
  return pairs.map(([key, value]) => `${`${key}:`.padEnd(width)} ${cellText(value)}`.trimEnd()).join('\n') + '\n';
}

function cellText(value: Cell): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return String(value);
}

/** A unix time as people read it; 0 (never) as blank. */
export function when(seconds: number): string {
  return seconds > 0 ? new Date(seconds * 1000).toISOString().replace('.000Z', 'Z') : '';
}

/** The first line of a text, cut to `max` characters. */
export function firstLine(text: string, max = 60): string {
  const line = text.split('\n')[0].trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

export function print(io: CommandIO, format: Format, json: unknown, human: () => string): void {
  io.stdout(format === 'json' ? `${JSON.stringify(json, null, 2)}\n` : human());
}
