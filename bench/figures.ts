// One shape for every benchmark's figures, so `npm run bench` (bench/all.ts) can print
// them in one table and keep them as JSON. A bench run on its own prints its figures;
// run by bench/all.ts (HARRIER_BENCH_OUT set) it also appends them to that file.
import fs from 'node:fs';
import path from 'node:path';

export interface BenchFigure {
  /** What was measured, e.g. "step printing `seq 1 1000000`". */
  name: string;
  /** Which benchmark measured it (its file's name). */
  bench: string;
  unit: string;
  /** Harrier's figure. */
  value: number;
  /** What the same work costs without Harrier, measured in the same run; absent when there is none. */
  baseline?: { name: string; value: number };
  /** The goal, for the table: "ratio <= 1.2", "value < 300", "value == baseline". */
  target?: Target;
  /** Anything a reader needs to read the figure right (p95 of what, over how many). */
  note?: string;
}

export type Target =
  | { kind: 'ratio-at-most'; limit: number }
  | { kind: 'ratio-at-least'; limit: number }
  | { kind: 'value-below'; limit: number }
  | { kind: 'value-equals-baseline' };

export function ratioOf(figure: BenchFigure): number | undefined {
  return figure.baseline && figure.baseline.value !== 0 ? figure.value / figure.baseline.value : undefined;
}

export function describeTarget(target: Target | undefined, unit: string): string {
  if (!target) return '';
  switch (target.kind) {
    case 'ratio-at-most':
      return `<= ${target.limit}x`;
    case 'ratio-at-least':
      return `>= ${target.limit}x`;
    case 'value-below':
      return `< ${target.limit} ${unit}`;
    case 'value-equals-baseline':
      return '= baseline';
  }
}

/** Whether the figure meets its target; undefined when it has none. */
export function meets(figure: BenchFigure): boolean | undefined {
  const t = figure.target;
  if (!t) return undefined;
  const ratio = ratioOf(figure);
  switch (t.kind) {
    case 'ratio-at-most':
      return ratio !== undefined && ratio <= t.limit;
    case 'ratio-at-least':
      return ratio !== undefined && ratio >= t.limit;
    case 'value-below':
      return figure.value < t.limit;
    case 'value-equals-baseline':
      return figure.baseline !== undefined && figure.value === figure.baseline.value;
  }
}

function formatValue(value: number, unit: string): string {
  const digits = Number.isInteger(value) ? 0 : Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return `${value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })} ${unit}`;
}

export function figureTable(figures: BenchFigure[]): string {
  const header = ['figure', 'baseline (same run)', 'Harrier', 'ratio', 'target', 'met'];
  const rows = figures.map((f) => {
    const ratio = ratioOf(f);
    const ok = meets(f);
    return [
      f.name + (f.note ? ` (${f.note})` : ''),
      f.baseline ? `${f.baseline.name}: ${formatValue(f.baseline.value, f.unit)}` : '',
      formatValue(f.value, f.unit),
      ratio === undefined ? '' : `${ratio.toFixed(2)}x`,
      describeTarget(f.target, f.unit),
      ok === undefined ? '' : ok ? 'yes' : 'NO',
    ];
  });
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Prints a bench's figures and, under bench/all.ts, hands them on. */
export function reportFigures(figures: BenchFigure[]): void {
  console.log(`\n${figureTable(figures)}\n`);
  handOnFigures(figures);
}

/** Under bench/all.ts, adds the figures to the run's table without printing them here. */
export function handOnFigures(figures: BenchFigure[]): void {
  const out = process.env.HARRIER_BENCH_OUT;
  if (out) fs.appendFileSync(out, figures.map((f) => `${JSON.stringify(f)}\n`).join(''));
}

/** The running benchmark's name, from its file: bench/log-throughput.ts → log-throughput. */
export function benchName(): string {
  return path.basename(process.argv[1] ?? 'bench', '.ts');
}
