// Reading `trigger:` and `when:` blocks. Each condition may be written as a
// string, a list, or {include, exclude}, exactly as Drone accepts them.

import type { Node } from 'yaml';
import type { Condition, Conditions } from './types.ts';
import { checkKeys, findScalar, isEmpty, readMap, readStringList, report, resolve } from './yaml-reader.ts';
import type { ReadContext } from './yaml-reader.ts';
import { isMap } from 'yaml';
import { didYouMean } from './suggest.ts';

export const CONDITION_KEYS = [
  'branch',
  'event',
  'ref',
  'status',
  'target',
  'cron',
  'action',
  'repo',
  'instance',
  'paths',
] as const satisfies readonly (keyof Conditions)[];

export const EVENTS = ['push', 'pull_request', 'tag', 'promote', 'rollback', 'cron', 'custom'] as const;
export const STATUSES = ['success', 'failure'] as const;

/** Names users bring from Drone 0.8 or Woodpecker, and what Harrier calls them. */
const EVENT_RENAMES: Record<string, string> = {
  deployment: 'promote',
  deploy: 'promote',
  manual: 'custom',
  pull: 'pull_request',
  pr: 'pull_request',
};

const GLOB_CHARS = /[*?[{]/;

export function readConditions(ctx: ReadContext, node: Node | null, where: 'trigger' | 'when'): Conditions {
  const out: Conditions = {};
  const entries = readMap(ctx, node, where);
  if (!entries) return out;
  for (const e of checkKeys(ctx, entries, { known: CONDITION_KEYS }, `\`${where}\``)) {
    const key = e.key as (typeof CONDITION_KEYS)[number];
    const cond = readCondition(ctx, e.value, `${where}.${key}`);
    if (!cond) continue;
    if (key === 'event') checkValues(ctx, e.value, cond, EVENTS, 'event', eventHint);
    if (key === 'status') checkValues(ctx, e.value, cond, STATUSES, 'status', () => '');
    out[key] = cond;
  }
  return out;
}

/** One condition: `x`, `[x, y]` or `{include: ..., exclude: ...}`. */
export function readCondition(ctx: ReadContext, node: Node | null, what: string): Condition | undefined {
  const target = resolve(ctx, node);
  if (isEmpty(target)) return undefined;
  if (!isMap(target)) return { include: readStringList(ctx, target, what), exclude: [] };
  const cond: Condition = { include: [], exclude: [] };
  const entries = readMap(ctx, target, what) ?? [];
  for (const e of checkKeys(ctx, entries, { known: ['include', 'exclude'] }, `\`${what}\``)) {
    cond[e.key as 'include' | 'exclude'] = readStringList(ctx, e.value, `${what}.${e.key}`);
  }
  return cond;
}

function eventHint(value: string): string {
  const renamed = EVENT_RENAMES[value];
  if (renamed) return ` Harrier, like Drone 1.x, calls it \`${renamed}\`.`;
  return didYouMean(value, EVENTS);
}

/** A value that is not a glob and not a known name can never match: say so now rather than never run. */
function checkValues(
  ctx: ReadContext,
  node: Node | null,
  cond: Condition,
  allowed: readonly string[],
  what: string,
  hint: (value: string) => string,
): void {
  for (const value of [...cond.include, ...cond.exclude]) {
    if (GLOB_CHARS.test(value) || allowed.includes(value)) continue;
    report(ctx, findScalar(ctx, node, value) ?? resolve(ctx, node), `unknown ${what} \`${value}\`; use one of ${allowed.join(', ')}.${hint(value)}`);
  }
}
