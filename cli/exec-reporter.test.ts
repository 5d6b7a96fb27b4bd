import { describe, expect, it } from 'vitest';
import { stageDetails } from '../runner/testing/stage-details.ts';
import { ExecReporter } from './exec-reporter.ts';

function reporter(color: boolean, cancel = new AbortController().signal) {
  let out = '';
  let now = 1_000;
  const { stage } = stageDetails({ config: '', steps: ['build', 'test'] });
  const r = new ExecReporter({ stage, write: (t) => void (out += t), color, cancel, now: () => (now += 500) });
  return { r, stage, out: () => out };
}

describe('ExecReporter', () => {
  it('prefixes each log line with its step and prints step and stage results', async () => {
    const { r, stage, out } = reporter(false);
    const [build, test] = stage.steps!;
    await r.updateStage(stage.id, { status: 'running' });
    await r.updateStep(build.id, { status: 'running' });
    await r.sendLogs(build.id, [{ pos: 0, out: '+ make\n', time: 0 }, { pos: 1, out: 'done\n', time: 0 }]);
    await r.updateStep(build.id, { status: 'failure', exit_code: 2 });
    await r.updateStep(test.id, { status: 'skipped' });
    await r.updateStage(stage.id, { status: 'failure', error: 'step "build": exit code 2' });
    expect(out()).toBe(
      'pipeline "default" started\n[build] + make\n[build] done\n[build] failure (exit code 2, 0.5s)\n[test] skipped\npipeline "default": failure in 1.5s: step "build": exit code 2\n',
    );
    expect(r.steps.get('build')).toMatchObject({ status: 'failure', exit_code: 2 });
  });

  it('colours prefixes and statuses only when asked to', async () => {
    const { r, stage, out } = reporter(true);
    await r.updateStep(stage.steps![0].id, { status: 'success', exit_code: 0 });
    expect(out()).toBe('\x1b[36m[build]\x1b[0m \x1b[32msuccess\x1b[0m\n');
  });

  it('watch answers cancelled on an interrupt, and null when the stage ends first', async () => {
    const cancel = new AbortController();
    const { r } = reporter(false, cancel.signal);
    const stageOver = new AbortController();
    const ended = r.watch(1, stageOver.signal);
    stageOver.abort();
    expect(await ended).toBeNull();
    const cancelled = r.watch(1, new AbortController().signal);
    cancel.abort('SIGINT');
    expect(await cancelled).toEqual({ cancelled: true, status: 'killed' });
  });
});
