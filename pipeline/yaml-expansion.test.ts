import { describe, expect, it } from 'vitest';
import { parsePipelines } from './parse.ts';
import { MAX_DEPTH } from './file-limits.ts';
import { MAX_ALIAS_EXPANSION } from './yaml-expansion.ts';

const HEAD = 'kind: pipeline\ntype: docker\nname: default\n';
const STEPS = (env: string) => `steps:\n- name: a\n  image: alpine:3\n  commands: [echo]\n  environment: ${env}\n`;

/** `levels` anchors, each merging ten copies of the one before: 10^levels values once expanded. */
function mergeBomb(levels: number): string {
  const lines = ['x0: &a0 {k: v}'];
  for (let i = 1; i <= levels; i++) lines.push(`x${i}: &a${i} {<<: [${Array(10).fill(`*a${i - 1}`).join(', ')}]}`);
  return `${HEAD}${lines.join('\n')}\n${STEPS(`*a${levels}`)}`;
}

/** The list form (billion laughs): each anchor a list of ten aliases to the one before. */
function aliasBomb(levels: number): string {
  const lines = ['l0: &l0 [lol]'];
  for (let i = 1; i <= levels; i++) lines.push(`l${i}: &l${i} [${Array(10).fill(`*l${i - 1}`).join(', ')}]`);
  return `${HEAD}${lines.join('\n')}\n${STEPS(`{BOMB: *l${levels}}`)}`;
}

describe('hostile pipeline files', () => {
  it('refuses a merge-key bomb at the alias that goes over the limit, naming the limit', () => {
    const result = parsePipelines(mergeBomb(6));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0].message).toContain(`expand to more than ${MAX_ALIAS_EXPANSION} values`);
    expect(result.errors[0].line).toBeGreaterThan(3);
  });

  // Forty levels expand to 10^40 values: only a count that measures each anchor once ends at all.
  it('measures each anchor once, so even forty nested levels are refused rather than expanded', () => {
    for (const file of [mergeBomb(40), aliasBomb(40)]) {
      const result = parsePipelines(file);
      expect(result.ok).toBe(false);
      expect(!result.ok && result.errors[0].message).toMatch(/alias or merge bomb/);
    }
  });

  // Written nesting is refused before the parser reads it (file-limits.ts).
  it('refuses mappings and lists nested deeper than the limit', () => {
    const depth = MAX_DEPTH + 10;
    const result = parsePipelines(`${HEAD}deep: ${'['.repeat(depth)}x${']'.repeat(depth)}\n${STEPS('{A: b}')}`);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors[0].message).toContain(`nests more than ${MAX_DEPTH} levels deep`);
  });

  it('accepts the anchors real pipelines use: shared settings merged into many steps', () => {
    const steps = Array.from({ length: 50 }, (_, i) => `- name: s${i}\n  <<: *common\n  commands: [echo ${i}]`).join('\n');
    const file = `${HEAD}x-common: &common\n  image: alpine:3\n  environment: {A: "1", B: "2", C: "3"}\n  pull: if-not-exists\nsteps:\n${steps}\n`;
    const result = parsePipelines(file);
    expect(result.ok).toBe(true);
    expect(result.ok && result.pipelines[0].steps).toHaveLength(50);
  });
});
