// Pipeline files written to cost their reader as much as possible, shared by the fleet test
// that pushes them to a server and the benchmark that times the server meanwhile.

export const HEAD = 'kind: pipeline\ntype: docker\nname: default\n';
export const STEP = 'steps:\n- name: a\n  image: alpine:3\n  commands: [echo]\n';

/** `levels` anchors, each merging ten copies of the one before: 10^levels values once expanded. */
export function mergeBomb(levels: number): string {
  const lines = ['x0: &a0 {k: v}'];
  for (let i = 1; i <= levels; i++) lines.push(`x${i}: &a${i} {<<: [${Array(10).fill(`*a${i - 1}`).join(', ')}]}`);
  return `${HEAD}${lines.join('\n')}\n${STEP}  environment: *a${levels}\n`;
}

/** Brackets nested `depth` deep on line 4, the first at column 4. */
export function deepBrackets(depth: number): string {
  return `${HEAD}x: ${'['.repeat(depth)}${']'.repeat(depth)}\n${STEP}`;
}

/** A valid file made larger than the size limit by a comment. */
export function oversized(bytes: number): string {
  return `${HEAD}${STEP}# ${'x'.repeat(bytes)}\n`;
}

/**
 * A `paths` pattern of 300 alternatives, matched against 100 changed files of 240-odd
 * characters each: far over the matching budget. `tag` keeps the file names new per push.
 */
export function costlyPaths(tag: string | number = ''): { file: string; changed: Record<string, string> } {
  return {
    file: `${HEAD}${STEP}trigger:\n  paths:\n    include: ['${'{*a,*b}'.repeat(300)}c']\n`,
    changed: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`${'ab'.repeat(120)}${tag}-${i}`, 'x\n'])),
  };
}
