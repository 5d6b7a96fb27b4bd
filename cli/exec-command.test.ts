// `harrier exec` end to end in-process: a pipeline file in a throwaway git repository,
// run through the runner's compiler, stage executor and the real Docker engine.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerBackend } from '../runner/backend/docker/docker-backend.ts';
import { LABEL_RUNNER } from '../runner/labels.ts';
import { sweepStaleTestObjects, testRunnerName } from '../runner/testing/test-runner-names.ts';
import { TEST_IMAGES } from '../test/support/images.ts';
import { afterCommands, meetCommands } from '../test/support/rendezvous.ts';
import { EXIT_OK, EXIT_PROBLEMS, EXIT_SIGNAL, EXIT_USAGE } from './command-io.ts';
import { execCommand, type ExecCommandOptions } from './exec-command.ts';
import { captureIO } from './testing/command-io.ts';
import { gitWorkdir, leftovers, removeWorkdir } from './testing/git-workdir.ts';

// Tagged, so the engine's copy is used without trying a registry (a busybox stand-in here).
const IMAGE = TEST_IMAGES.alpine;
const runnerName = testRunnerName('exec');
const backend = new DockerBackend();
const workdirs: string[] = [];

beforeAll(() => sweepStaleTestObjects());
afterAll(async () => {
  await backend.removeLeftovers({ [LABEL_RUNNER]: runnerName });
  workdirs.forEach(removeWorkdir);
});

interface Run {
  code: number;
  out: string;
  err: string;
  /** stdout lines of one step, without the `[name] ` prefix. */
  step(name: string): string[];
  dir: string;
  sha: string;
}

/** Runs `harrier exec` on `pipeline` as .drone.yml in a fresh git repository, and checks it left nothing on the engine. */
async function exec(pipeline: string, opts: ExecCommandOptions = {}, more: { env?: NodeJS.ProcessEnv; interruptOn?: string; files?: Record<string, string> } = {}): Promise<Run> {
  const repo = gitWorkdir({ '.drone.yml': pipeline, ...more.files });
  workdirs.push(repo.dir);
  const captured = captureIO(repo.dir, more.env);
  // Interrupted once the output shows a text, so the interrupt finds the step running however slow the machine.
  const interrupt = new AbortController();
  const io = {
    ...captured,
    stdout(text: string) {
      captured.stdout(text);
      if (more.interruptOn && captured.out().includes(more.interruptOn)) interrupt.abort('SIGINT');
    },
  };
  const code = await execCommand(undefined, opts, { io, backend, runnerName, interrupt: more.interruptOn ? interrupt.signal : undefined });
  expect(await leftovers(repo.slug, backend.docker)).toEqual([]);
  const out = captured.out();
  const step = (name: string) =>
    out
      .split('\n')
      .filter((l) => l.startsWith(`[${name}] `))
      .map((l) => l.slice(name.length + 3));
  return { code, out, err: captured.err(), step, dir: repo.dir, sha: repo.sha };
}

const pipeline = (steps: string, extra = '') => `kind: pipeline\ntype: docker\nname: default\n${extra}steps:\n${steps}`;

describe.concurrent('harrier exec', () => {
  it('runs steps whose depends_on allows it at the same time', async () => {
    const step = (name: string, needs: string, commands: string[]) =>
      `- name: ${name}\n  image: ${IMAGE}\n  depends_on: [${needs}]\n  commands:\n${commands.map((c) => `  - ${JSON.stringify(c)}\n`).join('')}`;
    const run = await exec(
      pipeline(
        `- name: setup\n  image: ${IMAGE}\n  commands: [echo ready]\n` +
          step('left', 'setup', meetCommands('left', 'right')) +
          step('right', 'setup', meetCommands('right', 'left')) +
          step('join', 'left, right', afterCommands(['left', 'right'])),
      ),
    );
    // Each of left and right waits for the other's mark: one after the other, the first would fail.
    expect(run.code, run.out + run.err).toBe(EXIT_OK);
    expect(run.step('left')).toContain('met right');
    expect(run.step('right')).toContain('met left');
    expect(run.step('join')).toContain('all finished before me');
    expect(run.out).toMatch(/^pipeline "default": success in \d+\.\ds$/m);
  });

  it('starts services first and steps reach them by name', async () => {
    const run = await exec(
      `kind: pipeline\ntype: docker\nname: default\nservices:\n- name: web\n  image: ${IMAGE}\n  commands:\n  - mkdir -p /www\n  - echo hello-from-web > /www/index.html\n  - httpd -f -p 8080 -h /www\n` +
        `steps:\n- name: client\n  image: ${IMAGE}\n  commands:\n  - for i in $(seq 1 600); do wget -q -O - http://web:8080/ && exit 0; sleep 0.1; done; exit 1\n`,
    );
    expect(run.code, run.out + run.err).toBe(EXIT_OK);
    expect(run.step('client')).toContain('hello-from-web');
    expect(run.step('web')).toContain('+ httpd -f -p 8080 -h /www');
  });

  it('a failing step with failure: ignore lets the stage succeed', async () => {
    const run = await exec(
      pipeline(`- name: flaky\n  image: ${IMAGE}\n  failure: ignore\n  commands: [exit 3]\n- name: after\n  image: ${IMAGE}\n  commands: [echo still-running]\n`),
    );
    expect(run.code, run.out + run.err).toBe(EXIT_OK);
    expect(run.step('flaky').at(-1)).toMatch(/^failure \(exit code 3, \d+\.\ds\), ignored \(failure: ignore\)$/);
    expect(run.step('after')).toContain('still-running');
    expect(run.out).toContain('pipeline "default": success');
  });

  it('runs when.status: failure steps, and pipelines that ask for it, only after a failure', async () => {
    const notify = `- name: notify\n  image: ${IMAGE}\n  commands: [echo notified]\n  when:\n    status: [failure]\n`;
    const run = await exec(
      `kind: pipeline\ntype: docker\nname: broken\nsteps:\n- name: breaks\n  image: ${IMAGE}\n  commands: [echo breaking, exit 2]\n- name: next\n  image: ${IMAGE}\n  commands: [echo never]\n${notify}` +
        `---\nkind: pipeline\ntype: docker\nname: fine\nsteps:\n- name: ok\n  image: ${IMAGE}\n  commands: [echo fine]\n${notify.replace('notify', 'notify-fine')}` +
        `---\nkind: pipeline\ntype: docker\nname: after-failure\ndepends_on: [broken, fine]\ntrigger:\n  status: [failure]\nsteps:\n- name: report\n  image: ${IMAGE}\n  commands: ['echo "failed: $DRONE_FAILED_STAGES"']\n` +
        `---\nkind: pipeline\ntype: docker\nname: after-success\ndepends_on: [fine]\nsteps:\n- name: deploy\n  image: ${IMAGE}\n  commands: [echo deploying]\n` +
        `---\nkind: pipeline\ntype: docker\nname: tags-only\ntrigger:\n  event: [tag]\nsteps:\n- name: release\n  image: ${IMAGE}\n  commands: [echo releasing]\n`,
    );
    expect(run.code, run.out + run.err).toBe(EXIT_PROBLEMS);
    expect(run.step('breaks').at(-1)).toMatch(/^failure \(exit code 2, /);
    expect(run.step('next')).toEqual(['skipped']);
    expect(run.step('notify')).toContain('notified');
    expect(run.step('notify-fine')).toEqual(['skipped']);
    expect(run.out).toContain('pipeline "broken": failure');
    expect(run.out).toContain('pipeline "fine": success');
    expect(run.step('report')).toContain('failed: broken');
    expect(run.out).toMatch(/pipeline "after-success": skipped: an earlier pipeline failed/);
    expect(run.out).toMatch(/pipeline "tags-only": skipped: its trigger does not match event push on branch main/);
    expect(run.out).not.toContain('deploying');
    expect(run.out).toContain('pipelines: 1 failure, 2 success, 1 skipped');
  });

  it('masks secrets in the output: whole lines, parts of longer lines, each line of a multi-line secret', async () => {
    const run = await exec(
      pipeline(
        `- name: show\n  image: ${IMAGE}\n  environment:\n    TOKEN: {from_secret: token}\n    KEY: {from_secret: key}\n    FROM_ENV: {from_secret: from_env}\n` +
          `  commands:\n  - echo $TOKEN\n  - echo "prefix-$TOKEN-suffix"\n  - echo "$KEY"\n  - echo "env says $FROM_ENV"\n`,
      ),
      { secret: ['token=s3cr3t', 'key=first-line-of-key\nsecond-line-of-key', 'from_env'] },
      { env: { from_env: 'taken-from-environment' } },
    );
    expect(run.code, run.out + run.err).toBe(EXIT_OK);
    expect(run.step('show')).toEqual([
      '+ echo $TOKEN',
      '******',
      '+ echo "prefix-$TOKEN-suffix"',
      'prefix-******-suffix',
      '+ echo "$KEY"',
      '******',
      '******',
      '+ echo "env says $FROM_ENV"',
      'env says ******',
      expect.stringMatching(/^success/),
    ]);
    for (const value of ['s3cr3t', 'first-line-of-key', 'second-line-of-key', 'taken-from-environment']) expect(run.out).not.toContain(value);
  });

  it('names a secret the pipeline needs that was not given', async () => {
    const run = await exec(pipeline(`- name: deploy\n  image: ${IMAGE}\n  environment:\n    TOKEN: {from_secret: deploy_token}\n  commands: [echo hi]\n`));
    expect(run.err).toContain('step "deploy" takes TOKEN from secret deploy_token, which was not given: pass --secret deploy_token=VALUE');
  });

  it('kills a step that runs past its timeout and fails the stage', async () => {
    // Without the timeout the step would sleep past the test's own time limit.
    const run = await exec(
      pipeline(`- name: slow\n  image: ${IMAGE}\n  timeout: 1\n  commands: [echo sleeping, sleep 600]\n- name: later\n  image: ${IMAGE}\n  commands: [echo never]\n`),
    );
    expect(run.code, run.out + run.err).toBe(EXIT_PROBLEMS);
    expect(run.step('slow')).toContain('sleeping');
    expect(run.step('slow').at(-1)).toMatch(/^failure: step timed out after 1s \(exit code 137, /);
    expect(run.step('later')).toEqual(['skipped']);
    expect(run.out).toContain('pipeline "default": failure');
  });

  it('exit code 78 ends the stage early, as a success', async () => {
    const run = await exec(
      pipeline(`- name: check\n  image: ${IMAGE}\n  commands: [echo nothing to do, exit 78]\n- name: build\n  image: ${IMAGE}\n  commands: [echo building]\n`),
    );
    expect(run.code, run.out + run.err).toBe(EXIT_OK);
    expect(run.step('check').at(-1)).toMatch(/^success \(exit code 78, /);
    expect(run.step('build')).toEqual(['skipped']);
    expect(run.out).toContain('pipeline "default": success');
  });

  it('mounts the working copy as the workspace, uncommitted files included, and sets the local facts', async () => {
    const run = await exec(
      pipeline(
        `- name: look\n  image: ${IMAGE}\n  commands:\n  - cat notes.txt\n  - echo "$DRONE_BRANCH $DRONE_COMMIT_SHA $DRONE_BUILD_EVENT $DRONE_COMMIT_AUTHOR_NAME $GREETING \${GREETING}"\n  - echo made-by-step > out.txt\n`,
      ),
      { env: ['GREETING=hello'], branch: 'feature' },
      { files: { 'notes.txt': 'notes from the working copy\n' } },
    );
    expect(run.code, run.out + run.err).toBe(EXIT_OK);
    expect(run.step('look')).toContain('notes from the working copy');
    expect(run.step('look')).toContain(`feature ${run.sha} push Octo Cat hello hello`);
    expect(fs.readFileSync(path.join(run.dir, 'out.txt'), 'utf8')).toBe('made-by-step\n');
    expect(run.out).toContain(`harrier exec: push on ${run.dir} at ${run.sha.slice(0, 8)} (feature)`);
  });

  it('an interrupt kills the running step, skips the rest and exits 130', async () => {
    const run = await exec(
      pipeline(`- name: wait\n  image: ${IMAGE}\n  commands: [echo waiting, sleep 600]\n`) +
        `---\nkind: pipeline\ntype: docker\nname: second\nsteps:\n- name: s\n  image: ${IMAGE}\n  commands: [echo never]\n`,
      {},
      { interruptOn: '[wait] waiting\n' },
    );
    expect(run.code, run.out + run.err).toBe(EXIT_SIGNAL.SIGINT);
    expect(run.step('wait').at(-1)).toMatch(/^killed \(exit code 137, /);
    expect(run.out).toContain('pipeline "default": killed');
    expect(run.out).toContain('pipeline "second": skipped: interrupted');
  });

  it('reads the file substituted, as the runner does: a step named and a trigger written with ${DRONE_BRANCH}', async () => {
    const file = `kind: pipeline\ntype: docker\nname: on-\${DRONE_BRANCH}\ntrigger:\n  branch: \${DRONE_BRANCH}\nsteps:\n- name: test-\${DRONE_BRANCH}\n  image: ${IMAGE}\n  commands: ['echo "on $\${DRONE_BRANCH}"']\n`;
    const run = await exec(file, { branch: 'feature' });
    expect(run.code, run.out + run.err).toBe(EXIT_OK);
    expect(run.step('test-feature').slice(0, 2)).toEqual(['+ echo "on ${DRONE_BRANCH}"', 'on feature']);
    expect(run.out).toMatch(/^pipeline "on-feature": success in \d+\.\ds$/m);
  });

  it('a malformed file exits 1 with FILE:LINE:COL and runs nothing', async () => {
    const run = await exec(pipeline(`- name: build\n  image: ${IMAGE}\n  comands: [echo hi]\n`));
    expect(run.code).toBe(EXIT_PROBLEMS);
    expect(run.err).toContain('.drone.yml:7:3 unknown key `comands` in step `build`');
    expect(run.out).toBe('');
  });

  it('exits 2 for an unknown --pipeline or a bad --env', async () => {
    const file = pipeline(`- name: build\n  image: ${IMAGE}\n  commands: [echo hi]\n`);
    const unknown = await exec(file, { pipeline: ['nope'] });
    expect(unknown.code).toBe(EXIT_USAGE);
    expect(unknown.err).toContain('harrier exec: --pipeline nope: the file has no pipeline of that name; it has "default"');
    const badEnv = await exec(file, { env: ['1X=y'] });
    expect(badEnv.code).toBe(EXIT_USAGE);
  });
});
