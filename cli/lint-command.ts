// `harrier lint [FILE]`: the checks the server makes before it creates a build, on a
// file on disk, with every problem as `FILE:LINE:COL message` so editors can jump to it.
import { lintPipelines, parsePipelines, pipelineLocation, sortErrors, substituteVariables } from '../pipeline/index.ts';
import type { Pipeline, PipelineError } from '../pipeline/types.ts';
import {
  type CommandIO,
  DEFAULT_PIPELINE_FILE,
  EXIT_OK,
  EXIT_PROBLEMS,
  EXIT_USAGE,
  processIO,
  readPipelineFile,
  UsageError,
} from './command-io.ts';

export interface LintCommandOptions {
  trusted?: boolean;
  format?: 'text' | 'json';
}

export interface LintReport {
  pipelines: Pipeline[];
  errors: PipelineError[];
  warnings: PipelineError[];
}

/**
 * Parses and lints like the server (checkPipelines), but keeps the parser's warnings
 * when the linter finds errors, and also reports a `${...}` the runner could not substitute.
 */
export function lintText(text: string, opts: { trusted: boolean }): LintReport {
  const substituted = substituteVariables(text, {});
  const substitutionErrors = substituted.ok ? [] : substituted.errors;
  const parsed = parsePipelines(text);
  if (!parsed.ok) return { pipelines: [], errors: sortErrors([...substitutionErrors, ...parsed.errors]), warnings: [] };
  const errors = sortErrors([...substitutionErrors, ...lintPipelines(parsed.pipelines, opts)]);
  return { pipelines: errors.length > 0 ? [] : parsed.pipelines, errors, warnings: sortErrors(parsed.warnings ?? []) };
}

export function lintCommand(file: string | undefined, opts: LintCommandOptions = {}, io: CommandIO = processIO()): number {
  let source;
  try {
    source = readPipelineFile(file ?? DEFAULT_PIPELINE_FILE, io.cwd);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr(`harrier lint: ${err.message}\n`);
    return EXIT_USAGE;
  }
  const report = lintText(source.text, { trusted: Boolean(opts.trusted) });
  const code = report.errors.length > 0 ? EXIT_PROBLEMS : EXIT_OK;

  if (opts.format === 'json') {
    const body = report.errors.length > 0
      ? { file: source.display, errors: report.errors, warnings: report.warnings }
      : { file: source.display, pipelines: report.pipelines, warnings: report.warnings };
    io.stdout(`${JSON.stringify(body, null, 2)}\n`);
    return code;
  }

  const problems = [
    ...report.errors.map((e) => ({ ...e, text: e.message })),
    ...report.warnings.map((w) => ({ ...w, text: `warning: ${w.message}` })),
  ].sort((a, b) => a.line - b.line || a.col - b.col);
  for (const p of problems) io.stdout(`${pipelineLocation(source.display, p)} ${p.text}\n`);
  // The summary goes to stderr, so stdout holds nothing but problems, one per line.
  io.stderr(`harrier lint: ${source.display}: ${summary(report)}\n`);
  return code;
}

function summary(report: LintReport): string {
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  if (report.errors.length > 0) {
    return [count(report.errors.length, 'error'), ...(report.warnings.length > 0 ? [count(report.warnings.length, 'warning')] : [])].join(', ');
  }
  const names = report.pipelines.map((p) => p.name).join(', ');
  const warned = report.warnings.length > 0 ? `, ${count(report.warnings.length, 'warning')}` : '';
  return `valid: ${count(report.pipelines.length, 'pipeline')} (${names})${warned}`;
}
