// Bash globs (`*`, `?`, `[...]`) for `${VAR#pattern}` and friends, matched without
// regular expressions: a pattern from a pipeline file, run against a value a stranger may
// control (a commit message), must not backtrack. The pattern is simulated as a small
// automaton over the value, so one pass from a start position costs value × pattern
// steps however many stars the pattern holds.

import { type GlobClass, inGlobClass, parseGlobClass } from './glob-class.ts';

type Token = { kind: 'char'; ch: string } | { kind: 'any' } | { kind: 'star' } | { kind: 'class'; cls: GlobClass };

/** How many automaton steps one substitution may take before it is refused. */
export const GLOB_STEP_BUDGET = 20_000_000;

export class GlobTooCostly extends Error {}

function tokens(glob: string): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    const close = c === '[' ? glob.indexOf(']', i + 2) : -1;
    if (c === '*') {
      // Consecutive stars match what one does.
      if (out.at(-1)?.kind !== 'star') out.push({ kind: 'star' });
    } else if (c === '?') out.push({ kind: 'any' });
    else if (close > 0) {
      out.push({ kind: 'class', cls: parseGlobClass(glob.slice(i + 1, close)) });
      i = close;
    } else out.push({ kind: 'char', ch: c });
  }
  return out;
}

function accepts(token: Token, c: string): boolean {
  switch (token.kind) {
    case 'char':
      return token.ch === c;
    case 'any':
    case 'star':
      return true;
    case 'class':
      return inGlobClass(token.cls, c);
  }
}

export class Glob {
  private readonly forward: Token[];
  private readonly backward: Token[];
  private steps = 0;

  constructor(pattern: string) {
    this.forward = tokens(pattern);
    this.backward = [...this.forward].reverse();
  }

  /** Every end e (ascending) such that value[start, e) matches the whole pattern. */
  endsFrom(value: string, start: number): number[] {
    return this.run(this.forward, value.length - start, (k) => value[start + k]).map((n) => start + n);
  }

  /** Every start s (descending) such that value[s, end) matches the whole pattern: the automaton reads the value backwards. */
  startsBefore(value: string, end: number): number[] {
    return this.run(this.backward, end, (k) => value[end - 1 - k]).map((n) => end - n);
  }

  /** The lengths n (ascending) for which the first n characters, as `at` gives them, match. */
  private run(pattern: Token[], length: number, at: (k: number) => string): number[] {
    const m = pattern.length;
    let states = new Uint8Array(m + 1);
    let next = new Uint8Array(m + 1);
    const close = (set: Uint8Array) => {
      // A star may match nothing: being before it is also being after it.
      for (let j = 0; j < m; j++) if (set[j] && pattern[j].kind === 'star') set[j + 1] = 1;
    };
    states[0] = 1;
    close(states);
    const lengths: number[] = states[m] ? [0] : [];
    for (let k = 0; k < length; k++) {
      this.steps += m + 1;
      if (this.steps > GLOB_STEP_BUDGET) throw new GlobTooCostly(`the pattern is too costly to match against a value of ${length} characters; shorten the pattern or the value`);
      next.fill(0);
      let alive = false;
      const c = at(k);
      for (let j = 0; j < m; j++) {
        if (!states[j] || !accepts(pattern[j], c)) continue;
        next[pattern[j].kind === 'star' ? j : j + 1] = 1;
        alive = true;
      }
      if (!alive) break;
      close(next);
      [states, next] = [next, states];
      if (states[m]) lengths.push(k + 1);
    }
    return lengths;
  }
}
