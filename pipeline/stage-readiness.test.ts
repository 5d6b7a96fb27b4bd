import { describe, expect, it } from 'vitest';
import type { Status } from '../core/domain.ts';
import { matchCondition } from './conditions.ts';
import { parsePipelines } from './parse.ts';
import { readyStages, runsAfter, type ReadinessStage } from './stage-readiness.ts';
import type { Condition } from './types.ts';

function stage(name: string, status: Status, more: Partial<ReadinessStage> = {}): ReadinessStage {
  return { name, status, dependsOn: [], onSuccess: true, onFailure: false, errignore: false, ...more };
}
const names = (stages: ReadinessStage[]) => stages.map((s) => s.name);

describe('runsAfter', () => {
  it('without a status condition a stage runs after success only', () => {
    expect(runsAfter(undefined)).toEqual({ onSuccess: true, onFailure: false });
  });

  it.each<[string, Condition, { onSuccess: boolean; onFailure: boolean }]>([
    ['status: [failure]', { include: ['failure'], exclude: [] }, { onSuccess: false, onFailure: true }],
    ['status: [success, failure]', { include: ['success', 'failure'], exclude: [] }, { onSuccess: true, onFailure: true }],
    ['status: {exclude: [success]}', { include: [], exclude: ['success'] }, { onSuccess: false, onFailure: true }],
    ['status: [fail*]', { include: ['fail*'], exclude: [] }, { onSuccess: false, onFailure: true }],
    ['status: {exclude: [fail*]}', { include: [], exclude: ['fail*'] }, { onSuccess: true, onFailure: false }],
    ['status: ["*"]', { include: ['*'], exclude: [] }, { onSuccess: true, onFailure: true }],
    ['status: {include: ["*"], exclude: [succ*]}', { include: ['*'], exclude: ['succ*'] }, { onSuccess: false, onFailure: true }],
  ])('%s matches as a glob, as the other conditions do', (_yaml, cond, expected) => {
    expect(runsAfter(cond)).toEqual(expected);
    // The same answer `when.status` and every trigger condition give for these outcomes.
    expect(runsAfter(cond)).toEqual({ onSuccess: matchCondition(cond, 'success'), onFailure: matchCondition(cond, 'failure') });
  });

  it('reads the status condition of a parsed trigger, globs included', () => {
    const parsed = parsePipelines(
      ['name: include\ntrigger: {status: [fail*]}', 'name: exclude\ntrigger: {status: {exclude: [fail*]}}']
        .map((d) => `kind: pipeline\ntype: docker\n${d}\ndepends_on: [build]\nsteps:\n- name: s\n  image: alpine:3\n`)
        .join('---\n'),
    );
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    const [include, exclude] = parsed.pipelines.map((p) => runsAfter(p.trigger.status));
    expect(include).toEqual({ onSuccess: false, onFailure: true });
    expect(exclude).toEqual({ onSuccess: true, onFailure: false });
  });
});

describe('readyStages', () => {
  it('leaves alone stages that do not wait on dependencies', () => {
    const stages = [stage('a', 'pending'), stage('b', 'running'), stage('c', 'success'), stage('d', 'skipped')];
    expect(readyStages(stages)).toEqual({ run: [], skip: [] });
  });

  it('starts a waiting stage with no dependencies at once', () => {
    expect(names(readyStages([stage('a', 'waiting_on_dependencies')]).run)).toEqual(['a']);
  });

  it('waits until every dependency is done', () => {
    const deploy = stage('deploy', 'waiting_on_dependencies', { dependsOn: ['build', 'test'] });
    expect(readyStages([stage('build', 'success'), stage('test', 'running'), deploy])).toEqual({ run: [], skip: [] });
    expect(readyStages([stage('build', 'success'), stage('test', 'pending'), deploy])).toEqual({ run: [], skip: [] });
    expect(readyStages([stage('build', 'success'), stage('test', 'success'), deploy])).toEqual({ run: [deploy], skip: [] });
  });

  it('a skipped dependency is done', () => {
    const deploy = stage('deploy', 'waiting_on_dependencies', { dependsOn: ['test'] });
    expect(readyStages([stage('test', 'skipped'), deploy]).run).toEqual([deploy]);
  });

  it('after a failed dependency runs the stage that asks for failure and skips the plain one', () => {
    const plain = stage('plain', 'waiting_on_dependencies', { dependsOn: ['build'] });
    const notify = stage('notify', 'waiting_on_dependencies', { dependsOn: ['build'], ...runsAfter({ include: ['failure'], exclude: [] }) });
    const always = stage('always', 'waiting_on_dependencies', { dependsOn: ['build'], onSuccess: true, onFailure: true });
    for (const failed of ['failure', 'error', 'killed'] as const) {
      expect(readyStages([stage('build', failed), plain, notify, always])).toEqual({ run: [notify, always], skip: [plain] });
    }
    expect(readyStages([stage('build', 'success'), plain, notify, always])).toEqual({ run: [plain, always], skip: [notify] });
  });

  it('a failure anywhere in the build counts, not only in the dependencies', () => {
    const plain = stage('plain', 'waiting_on_dependencies', { dependsOn: ['build'] });
    expect(readyStages([stage('build', 'success'), stage('lint', 'failure'), plain])).toEqual({ run: [], skip: [plain] });
  });

  it('a failure of a stage with errignore does not count as a failure', () => {
    const plain = stage('plain', 'waiting_on_dependencies', { dependsOn: ['build'] });
    const notify = stage('notify', 'waiting_on_dependencies', { dependsOn: ['build'], onSuccess: false, onFailure: true });
    expect(readyStages([stage('build', 'failure', { errignore: true }), plain, notify])).toEqual({ run: [plain], skip: [notify] });
  });

  it('a dependency that is not among the stages counts as met', () => {
    const deploy = stage('deploy', 'waiting_on_dependencies', { dependsOn: ['left-out', 'build'] });
    expect(readyStages([stage('build', 'success'), deploy]).run).toEqual([deploy]);
    expect(readyStages([stage('build', 'running'), deploy]).run).toEqual([]);
  });

  it('a glob status condition decides as it does for exec: `status: [fail*]` runs only after a failure, its exclude only after success', () => {
    const include = stage('include', 'waiting_on_dependencies', { dependsOn: ['build'], ...runsAfter({ include: ['fail*'], exclude: [] }) });
    const exclude = stage('exclude', 'waiting_on_dependencies', { dependsOn: ['build'], ...runsAfter({ include: [], exclude: ['fail*'] }) });
    expect(readyStages([stage('build', 'failure'), include, exclude])).toEqual({ run: [include], skip: [exclude] });
    expect(readyStages([stage('build', 'success'), include, exclude])).toEqual({ run: [exclude], skip: [include] });
  });

  it("returns the caller's own records, extra fields and all", () => {
    const mine = { ...stage('a', 'waiting_on_dependencies'), id: 7 };
    const { run } = readyStages([mine]);
    expect(run[0]).toBe(mine);
    expect(run[0].id).toBe(7);
  });
});
