// Parsing `.drone.yml`: every `---` document of `kind: pipeline` becomes a Pipeline
// with Drone's defaults filled in; other kinds (secret, signature, ...) are skipped.
// Mistakes come back all at once, each with the line and column to look at.

import { LineCounter, isMap, parseAllDocuments } from 'yaml';
import type { Document, Tags, YAMLError } from 'yaml';
import type { ParseResult, Pipeline, PipelineError } from './types.ts';
import { readPipeline } from './parse-pipeline.ts';
import { expansionProblem } from './yaml-expansion.ts';
import { MAX_STEPS, fileLimitProblem } from './file-limits.ts';
import { describe, mapEntries, readString, report, type ReadContext } from './yaml-reader.ts';

/** Drone resource kinds that are not pipelines; documents of these kinds are skipped. */
const OTHER_KINDS = ['secret', 'signature', 'registry', 'template', 'cron'];

export function parsePipelines(text: string): ParseResult {
  const overLimit = fileLimitProblem(text);
  if (overLimit) return { ok: false, errors: [overLimit] };
  const lines = new LineCounter();
  // YAML 1.1 is what Drone's parser speaks (yes/no booleans, `<<` merge keys), but like
  // Drone's yaml.v2 it reads `1:30` and `2024-01-02` as text, not as 90 and a Date.
  const docs = parseAllDocuments(text, { lineCounter: lines, version: '1.1', merge: true, customTags: withoutTimeTags });
  const errors: PipelineError[] = [];
  const warnings: PipelineError[] = [];
  const pipelines: Pipeline[] = [];
  for (const doc of docs as Document[]) {
    const ctx: ReadContext = { doc, lines, errors, warnings };
    if (doc.errors.length > 0) {
      errors.push(...doc.errors.map((e) => syntaxError(e, text)));
      continue;
    }
    const tooMuch = expansionProblem(doc);
    if (tooMuch) {
      report(ctx, tooMuch.node, tooMuch.message);
      continue;
    }
    const pipeline = readDocument(ctx);
    if (pipeline) pipelines.push(pipeline);
  }
  if (errors.length === 0 && pipelines.length === 0) {
    errors.push({ line: 1, col: 1, message: 'no pipeline found: add a document starting with `kind: pipeline` and `type: docker`' });
  }
  for (const p of pipelines) checkStepNames(p, errors);
  const steps = pipelines.reduce((n, p) => n + p.steps.length + p.services.length, 0);
  if (steps > MAX_STEPS) {
    errors.push({ line: 1, col: 1, message: `the pipeline file has ${steps} steps and services; Harrier runs at most ${MAX_STEPS} from one file: split the work` });
  }
  if (errors.length > 0) return { ok: false, errors: sortErrors(errors) };
  return { ok: true, pipelines, warnings: sortErrors(warnings) };
}

function withoutTimeTags(tags: Tags): Tags {
  return tags.filter((t) => typeof t !== 'object' || (t.format !== 'TIME' && t.tag !== 'tag:yaml.org,2002:timestamp'));
}

function readDocument(ctx: ReadContext): Pipeline | undefined {
  const root = ctx.doc.contents;
  if (root === null || (root as { value?: unknown }).value === null) return undefined;
  if (!isMap(root)) {
    report(ctx, root, `a document must be a mapping starting with \`kind: pipeline\`, not ${describe(root)}`);
    return undefined;
  }
  const kindEntry = mapEntries(ctx, root).find((e) => e.key === 'kind');
  const kind = kindEntry ? readString(ctx, kindEntry.value, 'kind') : undefined;
  if (kind === undefined) {
    report(ctx, root, 'document has no `kind`: start it with `kind: pipeline` and `type: docker` (Drone syntax)');
    return undefined;
  }
  if (kind === 'pipeline') return readPipeline(ctx, root);
  if (!OTHER_KINDS.includes(kind)) {
    report(ctx, kindEntry!.value, `unknown kind \`${kind}\`: Harrier reads \`kind: pipeline\` (and skips ${OTHER_KINDS.join(', ')})`);
  }
  return undefined;
}

/** A YAML syntax error in Harrier's words; a tab in the indentation gets its own message. */
function syntaxError(e: YAMLError, text: string): PipelineError {
  const pos = e.linePos?.[0] ?? { line: 1, col: 1 };
  const lineText = text.split(/\r?\n/)[pos.line - 1] ?? '';
  const indent = /^[ \t]*/.exec(lineText)![0];
  if (e.code === 'TAB_AS_INDENT' || indent.includes('\t')) {
    return {
      line: pos.line,
      col: indent.indexOf('\t') + 1 || pos.col,
      message: 'a tab is used for indentation; YAML allows only spaces: replace the tab with spaces',
    };
  }
  const first = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
  return { line: pos.line, col: pos.col, message: `YAML syntax error: ${first}${SYNTAX_HINTS[e.code] ?? ''}` };
}

const SYNTAX_HINTS: Partial<Record<YAMLError['code'], string>> = {
  DUPLICATE_KEY: '; the same key is written twice in one mapping: keep one',
  BAD_INDENT: '; check that the lines of this block are indented by the same number of spaces',
  MULTILINE_IMPLICIT_KEY: '; a key must fit on one line: check for a missing `:` or an unclosed quote above',
  MISSING_CHAR: '; a bracket or quote is not closed',
  BLOCK_AS_IMPLICIT_KEY: '; check the indentation and the `:` after the key above',
};

/** Step and service names share one namespace: they name containers, network aliases and depends_on targets. */
function checkStepNames(p: Pipeline, errors: PipelineError[]): void {
  const seen = new Map<string, string>();
  if (!p.clone.disable) seen.set('clone', 'the clone step');
  for (const [kind, steps] of [['service', p.services], ['step', p.steps]] as const) {
    for (const step of steps) {
      if (!step.name) continue;
      const taken = seen.get(step.name);
      if (taken) {
        const fix = step.name === 'clone' && taken === 'the clone step' ? ' (or set `clone: {disable: true}`)' : '';
        errors.push({ ...step.position, message: `${kind} name \`${step.name}\` is already used by ${taken} in pipeline \`${p.name}\`: rename one${fix}` });
      } else {
        seen.set(step.name, `${kind} \`${step.name}\``);
      }
    }
  }
}

/** Line order, and each distinct error once (an alias read twice reports twice). */
export function sortErrors(errors: PipelineError[]): PipelineError[] {
  const unique = new Map(errors.map((e) => [`${e.line}:${e.col}:${e.message}`, e]));
  return [...unique.values()].sort((a, b) => a.line - b.line || a.col - b.col);
}
