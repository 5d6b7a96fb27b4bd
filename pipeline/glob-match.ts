// Path globs for `when:` and `trigger:` conditions (`*`, `**`, `?`, `[...]`, `{a,b}`),
// matched as Drone matches them, in time linear in the value: the pattern is compiled
// to a small automaton and the value is read once with every live state at a time, so
// a pattern full of stars from a stranger's pipeline file costs value × pattern steps,
// never the exponential backtracking of a regular expression.
//
//   *       any run of characters other than `/`
//   **      as a whole path segment: any run of segments (`a/**/b` matches `a/b`,
//           `docs/**` matches `docs` and everything under it); elsewhere as `*`
//   ?       one character other than `/`
//   [a-z]   one character of the set, `[!a-z]` or `[^a-z]` one not in it
//   {a,b}   either alternative; alternatives nest and hold globs
//   \c      the character c itself
// A `[` or `{` that is never closed stands for itself.

import { inGlobClass, parseGlobClass } from './glob-class.ts';

type Test = (c: string) => boolean;

interface State {
  /** Consuming moves: on a character passing the test, go to the target state. */
  moves: [Test, number][];
  /** Moves that consume nothing. */
  free: number[];
  accept: boolean;
}

type Node =
  | { kind: 'test'; test: Test }
  | { kind: 'star'; crossesSlash: boolean }
  | { kind: 'segments' } // `**/`: zero or more whole segments, each with its slash
  | { kind: 'tail' } // `/**` at the end: nothing, or a slash and anything
  | { kind: 'alt'; alts: Node[][] };

const notSlash: Test = (c) => c !== '/';
const anyChar: Test = () => true;
const isSlash: Test = (c) => c === '/';

/** Where the `]` closing a class that opens at `open` is, or -1. A `]` right after `[`, `[!` or `[^` is a member. */
function classEnd(glob: string, open: number): number {
  let i = open + 1;
  if (glob[i] === '!' || glob[i] === '^') i++;
  return glob.indexOf(']', i + 1);
}

/** A bracket expression never matches the path separator. */
function classTest(body: string): Test {
  const cls = parseGlobClass(body);
  return (c) => c !== '/' && inGlobClass(cls, c);
}

/** Where the `}` closing a group that opens at `open` is (honouring nesting and escapes), or -1 when it has no comma or no end. */
function groupEnd(glob: string, open: number): { end: number; commas: number[] } | undefined {
  let depth = 0;
  const commas: number[] = [];
  for (let i = open; i < glob.length; i++) {
    const c = glob[i];
    if (c === '\\') i++;
    else if (c === '[') {
      const end = classEnd(glob, i);
      if (end > 0) i = end;
    } else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return commas.length ? { end: i, commas } : undefined;
    else if (c === ',' && depth === 1) commas.push(i);
  }
  return undefined;
}

function parse(glob: string): Node[] {
  const out: Node[] = [];
  const literal = (ch: string) => out.push({ kind: 'test', test: (c) => c === ch });
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '\\' && i + 1 < glob.length) {
      literal(glob[++i]);
      continue;
    }
    if (c === '*') {
      let j = i;
      while (glob[j + 1] === '*') j++;
      const double = j > i;
      const segmentStart = i === 0 || glob[i - 1] === '/';
      const segmentEnd = j + 1 === glob.length || glob[j + 1] === '/';
      if (double && segmentStart && glob[j + 1] === '/') {
        out.push({ kind: 'segments' });
        j++; // the slash belongs to the segments
      } else if (double && segmentStart && segmentEnd && i > 0) {
        out.pop(); // the slash before belongs to the tail: `docs/**` matches `docs`
        out.push({ kind: 'tail' });
      } else {
        out.push({ kind: 'star', crossesSlash: double && segmentStart && segmentEnd });
      }
      i = j;
      continue;
    }
    if (c === '?') {
      out.push({ kind: 'test', test: notSlash });
      continue;
    }
    const end = c === '[' ? classEnd(glob, i) : -1;
    if (end > 0) {
      out.push({ kind: 'test', test: classTest(glob.slice(i + 1, end)) });
      i = end;
      continue;
    }
    const group = c === '{' ? groupEnd(glob, i) : undefined;
    if (group) {
      const bounds = [i, ...group.commas, group.end];
      const alts = bounds.slice(1).map((b, k) => parse(glob.slice(bounds[k] + 1, b)));
      out.push({ kind: 'alt', alts });
      i = group.end;
      continue;
    }
    literal(c);
  }
  return out;
}

/** A compiled pattern: an automaton with one state per pattern element or so. */
export class PathGlob {
  private readonly states: State[] = [];
  private readonly start: number;

  constructor(pattern: string) {
    const accept = this.add({ moves: [], free: [], accept: true });
    this.start = this.sequence(parse(pattern), accept);
  }

  private add(state: State): number {
    this.states.push(state);
    return this.states.length - 1;
  }

  /** Compiles the nodes back to front, each leading to `next`; answers the first state. */
  private sequence(nodes: Node[], next: number): number {
    for (let k = nodes.length - 1; k >= 0; k--) next = this.node(nodes[k], next);
    return next;
  }

  private node(node: Node, next: number): number {
    switch (node.kind) {
      case 'test':
        return this.add({ moves: [[node.test, next]], free: [], accept: false });
      case 'star': {
        const loop = this.add({ moves: [], free: [next], accept: false });
        this.states[loop].moves.push([node.crossesSlash ? anyChar : notSlash, loop]);
        return loop;
      }
      case 'segments': {
        const inside = this.add({ moves: [[isSlash, next]], free: [], accept: false });
        this.states[inside].moves.push([anyChar, inside]);
        return this.add({ moves: [], free: [next, inside], accept: false });
      }
      case 'tail': {
        const rest = this.add({ moves: [], free: [next], accept: false });
        this.states[rest].moves.push([anyChar, rest]);
        return this.add({ moves: [[isSlash, rest]], free: [next], accept: false });
      }
      case 'alt':
        return this.add({ moves: [], free: node.alts.map((alt) => this.sequence(alt, next)), accept: false });
    }
  }

  /** Adds `from` and every state it reaches without consuming to `live`. */
  private close(live: number[], mark: Int32Array, round: number, from: number): void {
    const stack = [from];
    while (stack.length) {
      const s = stack.pop()!;
      if (mark[s] === round) continue;
      mark[s] = round;
      live.push(s);
      for (const f of this.states[s].free) stack.push(f);
    }
  }

  /** Whether `value` matches; each live state per character read is charged to `budget`. */
  matches(value: string, budget: GlobBudget = new GlobBudget()): boolean {
    const mark = new Int32Array(this.states.length).fill(-1);
    let round = 0;
    let live: number[] = [];
    this.close(live, mark, round, this.start);
    for (const c of value) {
      budget.spend(live.length);
      const next: number[] = [];
      round++;
      for (const s of live) for (const [test, target] of this.states[s].moves) if (test(c)) this.close(next, mark, round, target);
      if (!next.length) return false;
      live = next;
    }
    return live.some((s) => this.states[s].accept);
  }
}

/** How many automaton steps matching may take, shared by every match of one evaluation. */
export const GLOB_MATCH_BUDGET = 10_000_000;

export class GlobMatchTooCostly extends Error {}

export class GlobBudget {
  private left: number;

  constructor(steps = GLOB_MATCH_BUDGET) {
    this.left = steps;
  }

  spend(steps: number): void {
    this.left -= steps;
    if (this.left < 0) {
      throw new GlobMatchTooCostly(
        `matching the conditions' patterns took more than ${GLOB_MATCH_BUDGET.toLocaleString('en')} steps; use fewer or shorter patterns`,
      );
    }
  }
}

// Compiled patterns are kept for reuse, but only so many: the patterns come from pipeline files.
const CACHE_SIZE = 1_000;
const compiled = new Map<string, PathGlob>();

/** True when `value` matches `pattern` (see the top of this file). */
export function pathGlobMatch(pattern: string, value: string, budget?: GlobBudget): boolean {
  let glob = compiled.get(pattern);
  if (!glob) {
    if (compiled.size >= CACHE_SIZE) compiled.clear();
    glob = new PathGlob(pattern);
    compiled.set(pattern, glob);
  }
  return glob.matches(value, budget);
}
