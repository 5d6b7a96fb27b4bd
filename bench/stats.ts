// Small helpers shared by the benchmarks: percentiles and a table printer.
import { benchName, handOnFigures } from './figures.ts';

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

export interface Row {
  name: string;
  samples: number[];
}

/** Prints the rows' percentiles against the baseline row and hands each row's median on to `npm run bench`'s table. */
export function printTable(title: string, rows: Row[], baseline: string): void {
  const base = rows.find((r) => r.name === baseline);
  const baseMedian = base ? percentile(base.samples, 50) : NaN;
  console.log(`\n${title}`);
  console.log(['what', 'n', 'median ms', 'p95 ms', 'max ms', `median / ${baseline}`].join(' | '));
  for (const r of rows) {
    const median = percentile(r.samples, 50);
    console.log(
      [r.name, r.samples.length, median.toFixed(2), percentile(r.samples, 95).toFixed(2), Math.max(...r.samples).toFixed(2), (median / baseMedian).toFixed(2)].join(' | '),
    );
  }
  handOnFigures(
    rows
      .filter((r) => r !== base)
      .map((r) => ({
        bench: benchName(),
        name: `${title}: ${r.name}`,
        unit: 'ms',
        value: percentile(r.samples, 50),
        ...(base ? { baseline: { name: baseline, value: baseMedian } } : {}),
        note: `median of ${r.samples.length}; p95 ${percentile(r.samples, 95).toFixed(1)} ms`,
      })),
  );
}

export function elapsedMs(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}
