// Limits a pipeline file must keep before it is parsed, checked in one pass of YAML's
// lexer (linear in the file, no recursion), so a file written to be costly is refused in
// about the time it takes to read it. The parser itself recurses per level of nesting
// and spends most of its time per node; both are bounded here. Alias and merge-key
// expansion is bounded after parsing (yaml-expansion.ts), the number of steps after
// reading (parse.ts).
import { CST, Lexer } from 'yaml';
import type { PipelineError } from './types.ts';

export const MAX_FILE_BYTES = 1024 * 1024;
export const MAX_DOCUMENTS = 100;
export const MAX_DEPTH = 100;
/** Scalars, indicators, brackets and spaces: a pipeline of 300 steps has about ten thousand. The parser takes about a second for 60,000. */
export const MAX_TOKENS = 100_000;
/** Steps and services, counted over every pipeline of the file. */
export const MAX_STEPS = 1_000;

/** The first limit the file breaks, with where; undefined when it keeps them all. */
export function fileLimitProblem(text: string): PipelineError | undefined {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_FILE_BYTES) {
    return {
      line: 1,
      col: 1,
      message: `the pipeline file is ${bytes.toLocaleString('en')} bytes; Harrier reads files of at most ${MAX_FILE_BYTES.toLocaleString('en')} bytes: make it smaller`,
    };
  }
  let line = 1;
  let col = 1;
  let tokens = 0;
  let documents = 0;
  let content = false; // whether the current document has content yet
  let flow = 0;
  // Columns of the block collections open on the current path.
  const blocks: number[] = [];
  let lineStart = true; // the next content token is the first on its line
  let afterIndicator = false; // the next content token follows `- `, `? ` or `: ` on the same line
  const at = (message: string): PipelineError => ({ line, col, message });

  for (const source of new Lexer().lex(text)) {
    if (++tokens > MAX_TOKENS) {
      return at(`the pipeline file has more than ${MAX_TOKENS.toLocaleString('en')} YAML tokens; split it or shorten it`);
    }
    const type = CST.tokenType(source);
    switch (type) {
      case 'doc-start':
        if (content || documents === 0) documents++;
        content = false;
        blocks.length = 0;
        flow = 0;
        break;
      case 'newline':
        lineStart = true;
        afterIndicator = false;
        break;
      case 'space':
      case 'comment':
      case 'doc-mode':
      case 'byte-order-mark':
      case 'directive-line':
      case 'doc-end':
        break;
      case 'flow-map-start':
      case 'flow-seq-start':
        if (++flow > MAX_DEPTH) return at(`the pipeline file nests more than ${MAX_DEPTH} levels deep here; flatten it`);
        break;
      case 'flow-map-end':
      case 'flow-seq-end':
        flow = Math.max(0, flow - 1);
        break;
      default:
        if (!content && type !== undefined) {
          content = true;
          if (documents === 0) documents = 1;
          if (documents > MAX_DOCUMENTS) {
            return at(`the pipeline file has more than ${MAX_DOCUMENTS} documents; Harrier reads at most ${MAX_DOCUMENTS} (\`---\` starts each)`);
          }
        }
        if (flow === 0 && (lineStart || afterIndicator)) {
          while (blocks.length && blocks[blocks.length - 1] >= col) blocks.pop();
          blocks.push(col);
          if (blocks.length > MAX_DEPTH) return at(`the pipeline file nests more than ${MAX_DEPTH} levels deep here; flatten it`);
        }
        lineStart = false;
        afterIndicator = type === 'seq-item-ind' || type === 'explicit-key-ind' || type === 'map-value-ind';
    }
    // Where the next token starts. The lexer's markers (document mode, plain scalar to
    // follow, flow error) are not characters of the file.
    if (source === '\x02' || source === '\x1f' || source === '\x18') continue;
    const lastBreak = source.lastIndexOf('\n');
    if (lastBreak === -1) col += source.length;
    else {
      line += source.split('\n').length - 1;
      col = source.length - lastBreak;
    }
  }
  return undefined;
}
