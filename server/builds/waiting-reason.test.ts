import { describe, expect, it } from 'vitest';
import type { KnownRunner } from '../runners/known-runners.ts';
import { dependencyReason, runnerReason, type WaitingStage } from './waiting-reason.ts';

function stage(over: Partial<WaitingStage> = {}): WaitingStage {
  return { id: 1, name: 'default', status: 'pending', machine: '', os: 'linux', arch: 'amd64', labels: '{}', dependsOn: '[]', ...over };
}

function runner(over: Partial<KnownRunner> = {}): KnownRunner {
  return { name: 'runner-a', labels: {}, capacity: 1, running: [], os: 'linux', arch: 'amd64', version: '0.1.0', lastSeen: 0, online: true, ...over };
}

describe('runnerReason', () => {
  it('says no runner is connected when none was heard from lately', () => {
    expect(runnerReason(stage(), [])).toBe('no runner is connected');
  });

  it('names the labels no runner has', () => {
    expect(runnerReason(stage({ labels: '{"gpu":"yes"}' }), [runner(), runner({ name: 'b', labels: { gpu: 'no' } })])).toBe('no runner has labels gpu=yes');
    expect(runnerReason(stage({ labels: '{"gpu":"yes","zone":"eu"}' }), [runner({ labels: { gpu: 'yes' } })])).toBe('no runner has labels gpu=yes, zone=eu');
  });

  it('names the platform when runners with the labels run on another one', () => {
    expect(runnerReason(stage({ arch: 'arm64' }), [runner()])).toBe('no runner runs on linux/arm64');
    expect(runnerReason(stage({ arch: 'arm64', labels: '{"gpu":"yes"}' }), [runner({ labels: { gpu: 'yes' } })])).toBe(
      'no runner runs on linux/arm64 with labels gpu=yes',
    );
  });

  it('counts the matching runners when all are busy', () => {
    const busy = [runner({ running: [7] }), runner({ name: 'b', capacity: 2, running: [8, 9] }), runner({ name: 'gpu', labels: { gpu: 'yes' } })];
    expect(runnerReason(stage(), busy.slice(0, 2))).toBe('all 2 matching runners are busy');
    expect(runnerReason(stage({ labels: '{"gpu":"yes"}' }), [runner({ name: 'gpu', labels: { gpu: 'yes' }, running: [3] })])).toBe(
      'the only matching runner, gpu, is busy',
    );
  });

  it('says when the matching runners take no work because they are sick or stopping', () => {
    const sick = runner({ sick: 'the Docker engine does not answer: connect ENOENT /var/run/docker.sock' });
    expect(runnerReason(stage(), [sick])).toBe('the only matching runner, runner-a, is sick: the Docker engine does not answer: connect ENOENT /var/run/docker.sock');
    expect(runnerReason(stage(), [runner({ stopping: true })])).toBe('the only matching runner, runner-a, is stopping');
    expect(runnerReason(stage(), [sick, runner({ name: 'b', stopping: true })])).toBe('all 2 matching runners are sick or stopping');
    expect(runnerReason(stage(), [sick, runner({ name: 'b' })])).toBe('queued for a matching runner with a free slot');
  });

  it('says the stage is queued when a matching runner has a free slot', () => {
    expect(runnerReason(stage(), [runner({ running: [7] }), runner({ name: 'b', capacity: 2, running: [8] })])).toBe(
      'queued for a matching runner with a free slot',
    );
  });
});

describe('dependencyReason', () => {
  const build = [
    stage({ id: 1, name: 'build', status: 'running' }),
    stage({ id: 2, name: 'lint', status: 'success' }),
    stage({ id: 3, name: 'test', status: 'pending' }),
    stage({ id: 4, name: 'deploy', status: 'waiting_on_dependencies', dependsOn: '["build","lint","test"]' }),
  ];

  it('names the pipelines it depends on that have not finished', () => {
    expect(dependencyReason(build[3], build)).toBe('waiting for pipelines build, test');
  });

  it('says pipeline for one', () => {
    expect(dependencyReason(stage({ dependsOn: '["build"]' }), build)).toBe('waiting for pipeline build');
  });
});
