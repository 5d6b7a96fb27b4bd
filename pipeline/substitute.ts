// `${VAR}` substitution in the pipeline file before it is parsed, as Drone's runner
// does it (tags: ${DRONE_TAG##v}). Only the braced form is replaced, so `$HOME`
// in a command reaches the shell; `$$` is the escape for a literal `$`. Unknown
// variables become empty, as in Drone. Bash's string operations are emulated:
// ${#v} ${v^} ${v^^} ${v,} ${v,,} ${v:off} ${v:off:len} ${v=d} ${v:=d} ${v:-d}
// ${v#p} ${v##p} ${v%p} ${v%%p} ${v/p/r} ${v//p/r} ${v/#p/r} ${v/%p/r}.

import type { PipelineError } from './types.ts';
import type { Env, EnvironInput } from './environ.ts';
import { buildEnviron, linkEnviron, repoEnviron, systemEnviron } from './environ.ts';
import { Glob, GlobTooCostly } from './glob-ends.ts';

export type SubstituteResult = { ok: true; text: string } | { ok: false; errors: PipelineError[] };

/** What substitution reads: the build's facts, without any one stage's. */
export type SubstitutionInput = Pick<EnvironInput, 'repo' | 'build' | 'system'>;

/**
 * The variables substituted in the pipeline file: build parameters, then server, repository,
 * build and link metadata. The server reads the file before the build's stages exist and the
 * runner reads it again for each stage; both must read the same text, or a secret, a step or a
 * condition would be one thing to the server and another to the runner. So only what is fixed
 * when the build is created counts: the build as created (its status, times and stages change
 * as it runs), and no stage's variables (DRONE_STAGE_*), which a stage has only once the file
 * was read. Those stay in every step's environment for `$DRONE_STAGE_NAME` in commands.
 */
export function substitutionEnvironment({ repo, build, system }: SubstitutionInput): Env {
  const created = { ...build, status: 'pending' as const, started: 0, finished: 0, stages: [] };
  return {
    ...build.params,
    ...systemEnviron(system),
    ...repoEnviron(repo),
    ...buildEnviron(created),
    ...linkEnviron(repo, created, system),
  };
}

/** The pipeline file as both server and runner read it: `${...}` substituted with the build's facts. */
export function substitutePipelineFile(text: string, input: SubstitutionInput): SubstituteResult {
  return substituteVariables(text, substitutionEnvironment(input));
}

class BadSubstitution extends Error {}

export function substituteVariables(text: string, env: Env): SubstituteResult {
  // Drone quotes values holding newlines (commit messages) so they stay one YAML scalar.
  const lookup = (name: string) => {
    const v = env[name] ?? '';
    return v.includes('\n') ? JSON.stringify(v) : v;
  };
  let out = '';
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$$', i)) {
      out += '$';
      i += 2;
    } else if (text.startsWith('${', i)) {
      try {
        const { value, end } = expression(text, i + 2, lookup);
        out += value;
        i = end;
      } catch (err) {
        if (!(err instanceof BadSubstitution) && !(err instanceof GlobTooCostly)) throw err;
        return { ok: false, errors: [{ ...positionOf(text, i), message: `bad substitution \`${snippet(text, i)}\`: ${err.message}; write \`$\${...}\` to keep it as text` }] };
      }
    } else {
      out += text[i];
      i += 1;
    }
  }
  return { ok: true, text: out };
}

function positionOf(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, col: before[before.length - 1].length + 1 };
}

function snippet(text: string, start: number): string {
  const close = text.indexOf('}', start);
  const end = close < 0 || close - start > 40 ? Math.min(text.length, start + 40) : close + 1;
  return text.slice(start, end).split('\n')[0];
}

/** The argument text up to the `}` closing this expression, with nested ${...} expanded. */
function argument(text: string, start: number, lookup: (n: string) => string, stop = '}'): { value: string; end: number } {
  let value = '';
  let i = start;
  while (i < text.length && !stop.includes(text[i])) {
    if (text.startsWith('${', i)) {
      const nested = expression(text, i + 2, lookup);
      value += nested.value;
      i = nested.end;
    } else if (text[i] === '\\' && (text[i + 1] === '/' || text[i + 1] === '\\')) {
      value += text[i + 1];
      i += 2;
    } else if (text[i] === '\n') {
      throw new BadSubstitution('it is not closed with `}` on the same line');
    } else {
      value += text[i];
      i += 1;
    }
  }
  if (i >= text.length) throw new BadSubstitution('it is not closed with `}`');
  return { value, end: i };
}

/** Evaluates the expression whose name starts at `start` (just after `${`); answers the text after its `}`. */
function expression(text: string, start: number, lookup: (n: string) => string): { value: string; end: number } {
  if (text[start] === '#') {
    const name = /^[\w-]+/.exec(text.slice(start + 1))?.[0];
    if (!name || text[start + 1 + name.length] !== '}') throw new BadSubstitution('`${#name}` takes a variable name only');
    return { value: String(lookup(name).length), end: start + name.length + 2 };
  }
  const name = /^[\w-]+/.exec(text.slice(start))?.[0];
  if (!name) throw new BadSubstitution('a variable name must follow `${`');
  const value = lookup(name);
  let i = start + name.length;
  const op = /^(\^\^|\^|,,|,|:=|:-|=|:|##|#|%%|%|\/\/|\/#|\/%|\/|\})/.exec(text.slice(i))?.[0];
  if (!op) throw new BadSubstitution(`\`${text[i] ?? 'end of file'}\` cannot follow the name \`${name}\``);
  i += op.length;
  if (op === '}') return { value, end: i };
  if (['^', '^^', ',', ',,'].includes(op)) {
    if (text[i] !== '}') throw new BadSubstitution(`\`${op}\` must be followed by \`}\``);
    return { value: changeCase(value, op), end: i + 1 };
  }
  if (op === ':') return substring(text, i, value, lookup);
  if (op.startsWith('/')) return replace(text, i, value, op, lookup);
  const arg = argument(text, i, lookup);
  const end = arg.end + 1;
  if (op === '=' || op === ':=' || op === ':-') return { value: value === '' ? arg.value : value, end };
  return { value: strip(value, arg.value, op), end };
}

function changeCase(value: string, op: string): string {
  if (op === '^^') return value.toUpperCase();
  if (op === ',,') return value.toLowerCase();
  if (op === '^') return value.charAt(0).toUpperCase() + value.slice(1);
  return value.charAt(0).toLowerCase() + value.slice(1);
}

function substring(text: string, start: number, value: string, lookup: (n: string) => string): { value: string; end: number } {
  const first = argument(text, start, lookup, ':}');
  let end = first.end;
  let length: number | undefined;
  if (text[end] === ':') {
    const second = argument(text, end + 1, lookup);
    length = toInt(second.value);
    end = second.end;
  }
  let offset = toInt(first.value);
  if (offset < 0) offset = Math.max(0, value.length + offset);
  const cut = length === undefined ? value.slice(offset) : value.slice(offset, offset + Math.max(0, length));
  return { value: cut, end: end + 1 };
}

function toInt(s: string): number {
  if (!/^\s*-?\d+\s*$/.test(s)) throw new BadSubstitution(`\`${s}\` is not a whole number`);
  return Number(s);
}

/** ${v#p} ${v##p} ${v%p} ${v%%p}: remove the shortest or longest match of a glob from the start or end. */
function strip(value: string, pattern: string, op: string): string {
  const glob = new Glob(pattern);
  if (op === '#' || op === '##') {
    const ends = glob.endsFrom(value, 0);
    return ends.length ? value.slice(op === '#' ? ends[0] : ends.at(-1)!) : value;
  }
  // Starts come latest first: the latest start cuts the shortest suffix.
  const starts = glob.startsBefore(value, value.length);
  return starts.length ? value.slice(0, op === '%' ? starts[0] : starts.at(-1)!) : value;
}

function replace(text: string, start: number, value: string, op: string, lookup: (n: string) => string): { value: string; end: number } {
  const pat = argument(text, start, lookup, '/}');
  let rep = '';
  let end = pat.end;
  if (text[end] === '/') {
    const r = argument(text, end + 1, lookup);
    rep = r.value;
    end = r.end;
  }
  return { value: replaceGlob(value, new Glob(pat.value), rep, op), end: end + 1 };
}

function replaceGlob(value: string, glob: Glob, rep: string, op: string): string {
  if (op === '/#') {
    const e = longestMatchAt(value, 0, glob);
    return e === undefined ? value : rep + value.slice(e);
  }
  if (op === '/%') {
    const starts = glob.startsBefore(value, value.length);
    return starts.length ? value.slice(0, starts.at(-1)!) + rep : value;
  }
  let out = '';
  let i = 0;
  while (i < value.length) {
    const e = longestMatchAt(value, i, glob);
    if (e === undefined) {
      out += value[i];
      i += 1;
      continue;
    }
    out += rep;
    i = e;
    if (op === '/') return out + value.slice(i);
  }
  return out;
}

/** End of the longest non-empty match starting at `at`. */
function longestMatchAt(value: string, at: number, glob: Glob): number | undefined {
  const end = glob.endsFrom(value, at).at(-1);
  return end !== undefined && end > at ? end : undefined;
}
