// Reading values out of a parsed YAML document while keeping where they were
// written. Every reader reports into one context, so a single pass over a file
// collects all of its mistakes instead of stopping at the first.

import { isAlias, isMap, isScalar, isSeq } from 'yaml';
import type { Document, LineCounter, Node, Pair, YAMLMap } from 'yaml';
import type { PipelineError, Position } from './types.ts';
import { didYouMean } from './suggest.ts';

export interface ReadContext {
  doc: Document;
  lines: LineCounter;
  errors: PipelineError[];
  warnings: PipelineError[];
}

/** A key of a mapping with its value; merged (`<<`) keys point at where they were written. */
export interface Entry {
  key: string;
  keyNode: Node;
  /** Null when the key has no value (`image:`). */
  value: Node | null;
}

export function positionAt(ctx: ReadContext, offset: number): Position {
  const { line, col } = ctx.lines.linePos(offset);
  // linePos answers line 0 before the first newline was seen, i.e. on line 1.
  return { line: Math.max(line, 1), col: Math.max(col, 1) };
}

export function positionOf(ctx: ReadContext, node: Node | null | undefined): Position {
  return positionAt(ctx, node?.range?.[0] ?? 0);
}

export function report(ctx: ReadContext, node: Node | null | undefined, message: string): void {
  ctx.errors.push({ ...positionOf(ctx, node), message });
}

export function warn(ctx: ReadContext, node: Node | null | undefined, message: string): void {
  ctx.warnings.push({ ...positionOf(ctx, node), message });
}

/** Follows `*alias` to its anchored node; an alias naming no anchor is reported. */
export function resolve(ctx: ReadContext, node: Node | null | undefined): Node | null {
  if (!node) return null;
  if (!isAlias(node)) return node;
  const target = node.resolve(ctx.doc);
  if (!target) {
    report(ctx, node, `\`*${node.source}\` refers to no anchor: define \`&${node.source}\` on a value above it`);
    return null;
  }
  return target;
}

/** True for a value that was left empty (`key:` or `key: null`). */
export function isEmpty(node: Node | null): boolean {
  return node === null || (isScalar(node) && node.value === null);
}

export function describe(node: Node | null): string {
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isEmpty(node)) return 'empty';
  if (isScalar(node)) return `\`${scalarText(node)}\``;
  return 'something else';
}

export function hasMergeKey(node: Node | null): node is YAMLMap<Node, Node | null> {
  return isMap(node) && node.items.some((p) => isMergeKey(p.key));
}

function isMergeKey(key: unknown): boolean {
  return isScalar(key) && (typeof key.value === 'symbol' || key.value === '<<');
}

function keyName(key: unknown): string {
  if (isScalar(key)) return String(key.value);
  return String(key);
}

/** Text of a scalar as the user wrote it: `1.10` stays "1.10", `yes` stays "yes". */
export function scalarText(node: Node): string {
  if (!isScalar(node) || node.value === null) return '';
  if (node.type === 'PLAIN' && typeof node.source === 'string') return node.source;
  return String(node.value);
}

/**
 * The entries of a mapping with `<<` merge keys applied: explicit keys win over
 * merged ones, and earlier merge sources win over later ones, as YAML 1.1 says.
 */
export function mapEntries(ctx: ReadContext, node: Node): Entry[] {
  if (!isMap(node)) return [];
  const own: Entry[] = [];
  const merged: Entry[] = [];
  for (const pair of node.items as Pair<Node, Node | null>[]) {
    if (isMergeKey(pair.key)) merged.push(...mergeSources(ctx, pair));
    else own.push({ key: keyName(pair.key), keyNode: pair.key, value: pair.value ?? null });
  }
  const seen = new Set(own.map((e) => e.key));
  const result = [...own];
  for (const e of merged) {
    if (seen.has(e.key)) continue;
    seen.add(e.key);
    result.push(e);
  }
  return result;
}

function mergeSources(ctx: ReadContext, pair: Pair<Node, Node | null>): Entry[] {
  const raw = pair.value ?? null;
  const sources = isSeq(raw) ? (raw.items as Node[]) : [raw];
  const out: Entry[] = [];
  for (const source of sources) {
    const target = resolve(ctx, source);
    if (isMap(target)) {
      out.push(...mapEntries(ctx, target));
    } else if (target !== null) {
      report(
        ctx,
        pair.key,
        `\`<<\` can only merge a mapping into a mapping, but it was given ${describe(target)}. ` +
          'YAML cannot splice a list into a list: repeat the items, or use the anchored list whole (`commands: *name`)',
      );
    }
  }
  return out;
}

/** The entries of `node`, which must be a mapping; reports and answers undefined otherwise. */
export function readMap(ctx: ReadContext, node: Node | null, what: string, atNode?: Node): Entry[] | undefined {
  const target = resolve(ctx, node);
  if (target === null && node !== null) return undefined;
  if (isEmpty(target)) return [];
  if (!isMap(target)) {
    report(ctx, target ?? atNode, `\`${what}\` must be a mapping of \`key: value\` lines, not ${describe(target)}`);
    return undefined;
  }
  return mapEntries(ctx, target);
}

/** The items of `node`, which must be a list; reports and answers undefined otherwise. */
export function readSeq(ctx: ReadContext, node: Node | null, what: string, hint = ''): Node[] | undefined {
  const target = resolve(ctx, node);
  if (target === null && node !== null) return undefined;
  if (isEmpty(target)) return [];
  if (!isSeq(target)) {
    report(ctx, target, `\`${what}\` must be a list (lines starting with \`- \`), not ${describe(target)}${hint}`);
    return undefined;
  }
  return target.items as Node[];
}

/** A scalar as text; undefined (and reported) for mappings and lists, undefined (silently) when empty. */
export function readString(ctx: ReadContext, node: Node | null, what: string): string | undefined {
  const target = resolve(ctx, node);
  if (isEmpty(target)) return undefined;
  if (hasMergeKey(target)) {
    mapEntries(ctx, target); // reports what the `<<` was given, the real mistake
    return undefined;
  }
  if (!isScalar(target)) {
    const quoteHint = isMap(target) ? ' (a `: ` inside a value starts a mapping: quote the whole value)' : '';
    report(ctx, target, `\`${what}\` must be a string, not ${describe(target)}${quoteHint}`);
    return undefined;
  }
  return scalarText(target);
}

/** A string, or a list of strings; a single string is read as a one-item list, which saves users a dash. */
export function readStringList(ctx: ReadContext, node: Node | null, what: string): string[] {
  const target = resolve(ctx, node);
  if (isEmpty(target)) return [];
  if (isScalar(target)) return [scalarText(target)];
  const items = readSeq(ctx, target, what);
  if (!items) return [];
  const out: string[] = [];
  items.forEach((item, i) => {
    const s = readString(ctx, item, `${what}[${i}]`);
    if (s !== undefined) out.push(s);
  });
  return out;
}

export function readBool(ctx: ReadContext, node: Node | null, what: string): boolean | undefined {
  const target = resolve(ctx, node);
  if (isEmpty(target)) return undefined;
  if (isScalar(target) && typeof target.value === 'boolean') return target.value;
  report(ctx, target, `\`${what}\` must be true or false, not ${describe(target)}`);
  return undefined;
}

/** A whole number of at least `min`. */
export function readInt(ctx: ReadContext, node: Node | null, what: string, min = 0): number | undefined {
  const target = resolve(ctx, node);
  if (isEmpty(target)) return undefined;
  if (isScalar(target) && typeof target.value === 'number' && Number.isInteger(target.value) && target.value >= min) {
    return target.value;
  }
  report(ctx, target, `\`${what}\` must be a whole number of at least ${min}, not ${describe(target)}`);
  return undefined;
}

/** A map of plain string values, as `node:` labels are. */
export function readStringMap(ctx: ReadContext, node: Node | null, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readMap(ctx, node, what) ?? []) {
    out[e.key] = readString(ctx, e.value, `${what}.${e.key}`) ?? '';
  }
  return out;
}

export interface KeySpec {
  /** Keys Harrier reads. */
  known: readonly string[];
  /** Drone keys Harrier accepts but does not act on: a warning, not an error, so Drone files still load. */
  ignored?: Readonly<Record<string, string>>;
}

/**
 * Reports keys that are neither known nor knowingly ignored, with a suggestion;
 * answers the entries worth reading.
 */
export function checkKeys(ctx: ReadContext, entries: Entry[], spec: KeySpec, where: string): Entry[] {
  const keep: Entry[] = [];
  for (const e of entries) {
    if (spec.known.includes(e.key)) {
      keep.push(e);
    } else if (spec.ignored && e.key in spec.ignored) {
      warn(ctx, e.keyNode, `\`${e.key}\` in ${where} is ignored: ${spec.ignored[e.key]}`);
    } else {
      const hint = didYouMean(e.key, spec.known) || ` Known keys: ${spec.known.join(', ')}.`;
      report(ctx, e.keyNode, `unknown key \`${e.key}\` in ${where}.${hint}`);
    }
  }
  return keep;
}

/** The scalar under `node` written as `text`, to point an error at one item of a list; else `node`. */
export function findScalar(ctx: ReadContext, node: Node | null, text: string): Node | null {
  const target = resolve(ctx, node);
  if (isScalar(target)) return scalarText(target) === text ? target : null;
  const children: (Node | null)[] = isSeq(target)
    ? (target.items as Node[])
    : isMap(target)
      ? (target.items as Pair<Node, Node | null>[]).map((p) => p.value ?? null)
      : [];
  for (const child of children) {
    const hit = findScalar(ctx, child, text);
    if (hit) return hit;
  }
  return null;
}

/** True when the node, or anything under it, carries an `&anchor`: a block kept only to be referenced. */
export function holdsAnchor(node: Node | null): boolean {
  if (!node || isAlias(node)) return false;
  if ((node as { anchor?: string }).anchor) return true;
  if (isMap(node)) return (node.items as Pair<Node, Node | null>[]).some((p) => holdsAnchor(p.value ?? null));
  if (isSeq(node)) return (node.items as Node[]).some((n) => holdsAnchor(n));
  return false;
}
