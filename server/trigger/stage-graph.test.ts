import { describe, expect, it } from 'vitest';
import { parsePipelines } from '../../pipeline/index.ts';
import type { Pipeline } from '../../pipeline/types.ts';
import { changeSetOf, usesPaths } from './changed-files.ts';
import { keptDependencies } from './stage-graph.ts';

function pipelines(yaml: string): Pipeline[] {
  const parsed = parsePipelines(yaml);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.pipelines;
}

const doc = (name: string, deps: string[] = [], extra = '') =>
  `kind: pipeline\ntype: docker\nname: ${name}\n${deps.length ? `depends_on: [${deps.join(', ')}]\n` : ''}${extra}steps:\n- name: s\n  image: alpine\n  commands: [true]\n`;

describe('keptDependencies', () => {
  // a -> b -> d, a -> c -> d
  const all = pipelines([doc('a'), doc('b', ['a']), doc('c', ['a']), doc('d', ['b', 'c'])].join('---\n'));
  const byName = (n: string) => all.find((p) => p.name === n)!;

  it('keeps dependencies that are in the build', () => {
    expect(keptDependencies(byName('d'), all, new Set(['a', 'b', 'c', 'd']))).toEqual(['b', 'c']);
  });

  it('looks through a left-out pipeline to what it depended on', () => {
    expect(keptDependencies(byName('d'), all, new Set(['a', 'c', 'd']))).toEqual(['a', 'c']);
    expect(keptDependencies(byName('d'), all, new Set(['a', 'd']))).toEqual(['a']);
  });

  it('leaves no dependency when the whole chain above was left out', () => {
    expect(keptDependencies(byName('d'), all, new Set(['d']))).toEqual([]);
  });
});

describe('usesPaths', () => {
  it('sees paths in a trigger, a step\'s when and a service\'s when, and nowhere else', () => {
    expect(usesPaths(pipelines(doc('a')))).toBe(false);
    expect(usesPaths(pipelines(doc('a', [], 'trigger:\n  branch: [main]\n')))).toBe(false);
    expect(usesPaths(pipelines(doc('a', [], 'trigger:\n  paths: [src/**]\n')))).toBe(true);
    expect(usesPaths(pipelines(`${doc('a')}- name: t\n  image: alpine\n  commands: [true]\n  when:\n    paths:\n      exclude: ['*.md']\n`))).toBe(true);
    expect(usesPaths(pipelines(`${doc('a')}services:\n- name: db\n  image: redis\n  when:\n    paths: [db/**]\n`))).toBe(true);
  });
});

describe('changeSetOf', () => {
  const hook = { event: 'push', before: 'b'.repeat(40), after: 'a'.repeat(40), pullRequest: 0 } as Parameters<typeof changeSetOf>[0];

  it('diffs a push from before to after, a pull request by its number, and leaves tags unknown', () => {
    expect(changeSetOf(hook)).toEqual({ event: 'push', before: 'b'.repeat(40), after: 'a'.repeat(40) });
    expect(changeSetOf({ ...hook, event: 'pull_request', pullRequest: 7 })).toEqual({ event: 'pull_request', number: 7, after: 'a'.repeat(40) });
    expect(changeSetOf({ ...hook, event: 'tag' })).toBeUndefined();
  });
});
