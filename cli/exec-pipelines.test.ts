import { describe, expect, it } from 'vitest';
import { parsePipelines, type MatchFacts } from '../pipeline/index.ts';
import type { Pipeline } from '../pipeline/types.ts';
import { UsageError } from './command-io.ts';
import { choosePipelines, type ExecStage, execStages, nextStage } from './exec-pipelines.ts';

const facts: MatchFacts = { branch: 'main', event: 'push', ref: 'refs/heads/main', target: '', cron: '', action: '', repo: 'local/x', instance: 'localhost', status: 'success' };

function pipelines(...docs: string[]): Pipeline[] {
  const parsed = parsePipelines(docs.map((d) => `kind: pipeline\ntype: docker\n${d}\nsteps:\n- name: s\n  image: alpine:3\n`).join('---\n'));
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.pipelines;
}
const names = (ps: Pipeline[]) => ps.map((p) => p.name);

/** Walks the stages as harrier exec does, each that runs ending with `outcome` (success unless said): what it decided, in order. */
function walk(stages: ExecStage[], outcome: Record<string, 'success' | 'failure'> = {}): { name: string; run: boolean; reason: string }[] {
  const out: { name: string; run: boolean; reason: string }[] = [];
  for (let next = nextStage(stages); next; next = nextStage(stages)) {
    out.push({ name: next.stage.name, run: next.run, reason: next.run ? '' : next.reason });
    next.stage.status = next.run ? (outcome[next.stage.name] ?? 'success') : 'skipped';
  }
  return out;
}

describe('which pipelines harrier exec runs', () => {
  it('runs each pipeline after those it depends on, file order otherwise', () => {
    const ps = pipelines('name: deploy\ndepends_on: [test, build]', 'name: test\ndepends_on: [build]', 'name: build', 'name: docs');
    expect(walk(execStages(ps)).map((d) => d.name)).toEqual(['build', 'test', 'deploy', 'docs']);
  });

  it('leaves out pipelines whose trigger does not match, and says why', () => {
    const ps = pipelines('name: always', 'name: tags\ntrigger: {event: [tag]}', 'name: main-only\ntrigger: {branch: [main]}');
    const choice = choosePipelines(ps, [], facts);
    expect(names(choice.run)).toEqual(['always', 'main-only']);
    expect(choice.left.map((l) => l.pipeline.name)).toEqual(['tags']);
    expect(choice.left[0].reason).toContain('does not match event push on branch main');
  });

  it('the trigger status does not decide whether a pipeline is part of the build', () => {
    const ps = pipelines('name: notify\ntrigger: {status: [failure]}');
    expect(names(choosePipelines(ps, [], facts).run)).toEqual(['notify']);
  });

  it('--pipeline picks pipelines by name and refuses an unknown one', () => {
    const ps = pipelines('name: a', 'name: b\ndepends_on: [a]');
    expect(names(choosePipelines(ps, ['b'], facts).run)).toEqual(['b']);
    expect(() => choosePipelines(ps, ['c'], facts)).toThrow(UsageError);
    expect(() => choosePipelines(ps, ['c'], facts)).toThrow('it has "a", "b"');
  });

  it('a pipeline with depends_on runs after success, or after a failure when its trigger asks for it', () => {
    const ps = pipelines(
      'name: x',
      'name: plain\ndepends_on: [x]',
      'name: on-failure\ndepends_on: [x]\ntrigger: {status: [failure]}',
      'name: both\ndepends_on: [x]\ntrigger: {status: [success, failure]}',
      'name: alone',
    );
    const ok = new Map(walk(execStages(ps), { x: 'success' }).map((d) => [d.name, d]));
    const failed = new Map(walk(execStages(ps), { x: 'failure' }).map((d) => [d.name, d]));
    const which = ['plain', 'on-failure', 'both', 'alone'];
    expect(which.map((n) => ok.get(n)?.run)).toEqual([true, false, true, true]);
    expect(which.map((n) => failed.get(n)?.run)).toEqual([false, true, true, true]);
    expect(ok.get('on-failure')?.reason).toBe('its trigger runs it only after a failure');
    expect(failed.get('plain')?.reason).toBe('an earlier pipeline failed (add `status: [failure]` to its trigger to run it then)');
  });
});
