// How pipeline problems are shown to people: `FILE:LINE:COL message`, one per line,
// so editors and terminals can jump to the spot. The server's error builds, the
// runner and `harrier lint`/`harrier exec` all print them this way.
import type { PipelineError, Position } from './types.ts';

export function pipelineLocation(file: string, at: Position): string {
  return `${file}:${at.line}:${at.col}`;
}

export function formatPipelineErrors(file: string, errors: PipelineError[], max = 20): string {
  const shown = errors.slice(0, max).map((e) => `${pipelineLocation(file, e)} ${e.message}`);
  if (errors.length > max) shown.push(`and ${errors.length - max} more`);
  return shown.join('\n');
}
