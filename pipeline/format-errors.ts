// How pipeline errors are shown to people: one `FILE:LINE:COL message` per line, as
// compilers print them, so editors and terminals can jump to the spot.
import type { PipelineError } from './types.ts';

export function formatPipelineErrors(file: string, errors: PipelineError[], max = 20): string {
  const shown = errors.slice(0, max).map((e) => `${file}:${e.line}:${e.col}: ${e.message}`);
  if (errors.length > max) shown.push(`and ${errors.length - max} more`);
  return shown.join('\n');
}
