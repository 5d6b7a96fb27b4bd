import { describe, expect, it } from 'vitest';
import { compileStage, imageName, runOnOf, safeName, DRONE_PRIVILEGED_IMAGES } from './compile.ts';
import { parsePipelines } from './parse.ts';
import type { CompileInput, Plan, PlanStep } from './types.ts';
import { build, repo, stage, system } from './testdata/fixtures.ts';

function input(yaml: string, extra: Partial<CompileInput> = {}): CompileInput {
  const result = parsePipelines(`kind: pipeline\ntype: docker\nname: default\n${yaml}`);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return {
    pipeline: result.pipelines[0],
    repo,
    build,
    stage,
    system,
    workspaceHostPath: '/tmp/ws',
    netrc: null,
    secretNames: [],
    idPrefix: 'harrier-300-abcd',
    labels: { 'io.harrier.runner': 'r1' },
    ...extra,
  };
}

const compile = (yaml: string, extra: Partial<CompileInput> = {}): Plan => compileStage(input(yaml, extra));
const stepOf = (plan: Plan, name: string): PlanStep => plan.steps.find((s) => s.name === name)!;
const names = (plan: Plan) => plan.steps.map((s) => s.name);

describe('compileStage network, volumes and labels', () => {
  it('creates one network per stage, named by the id prefix', () => {
    expect(compile('steps:\n- {name: a, image: alpine}\n').network.id).toBe('harrier-300-abcd');
  });

  it('mounts the cloned host folder as the workspace in every step and service', () => {
    const plan = compile('services:\n- {name: db, image: postgres}\nsteps:\n- {name: a, image: alpine}\n');
    expect(plan.volumes[0]).toEqual({ id: 'harrier-300-abcd-workspace', name: 'workspace', kind: 'host', hostPath: '/tmp/ws' });
    expect(plan.workspace).toEqual({ volumeId: 'harrier-300-abcd-workspace', path: '/drone/src' });
    for (const s of plan.steps) expect(s.mounts[0]).toEqual({ volumeId: 'harrier-300-abcd-workspace', target: '/drone/src' });
  });

  it('mounts the workspace at a custom workspace path and works there', () => {
    const plan = compile('workspace: {path: /go/src/app}\nsteps:\n- {name: a, image: golang, commands: [go test]}\n');
    expect(plan.steps[0]).toMatchObject({ workingDir: '/go/src/app', mounts: [{ target: '/go/src/app' }] });
    expect(plan.steps[0].env.DRONE_WORKSPACE).toBe('/go/src/app');
  });

  it('declares temp and host volumes and mounts them where steps ask', () => {
    const plan = compile('volumes:\n- {name: cache, temp: {}}\n- {name: sock, host: {path: /var/run/docker.sock}}\nsteps:\n- name: a\n  image: docker\n  volumes:\n  - {name: cache, path: /cache}\n  - {name: sock, path: /var/run/docker.sock}\n');
    expect(plan.volumes.slice(1)).toEqual([
      { id: 'harrier-300-abcd-vol-cache', name: 'cache', kind: 'temp' },
      { id: 'harrier-300-abcd-vol-sock', name: 'sock', kind: 'host', hostPath: '/var/run/docker.sock' },
    ]);
    expect(plan.steps[0].mounts.slice(1)).toEqual([
      { volumeId: 'harrier-300-abcd-vol-cache', target: '/cache' },
      { volumeId: 'harrier-300-abcd-vol-sock', target: '/var/run/docker.sock' },
    ]);
  });

  it('refuses to compile a mount of an undeclared volume', () => {
    expect(() => compile('steps:\n- {name: a, image: alpine, volumes: [{name: nope, path: /x}]}\n')).toThrow(/does not declare/);
  });

  it('labels the plan and each step, Harrier\'s labels winning over the runner\'s', () => {
    const plan = compile('steps:\n- {name: a, image: alpine}\n', { labels: { 'io.harrier.runner': 'r1', 'io.harrier.managed': 'no' } });
    expect(plan.labels).toEqual({
      'io.harrier.runner': 'r1',
      'io.harrier.managed': 'true',
      'io.harrier.stage': '300',
      'io.harrier.build': '100',
      'io.harrier.repo': 'octocat/hello-world',
    });
    expect(plan.network.labels).toEqual(plan.labels);
    expect(plan.steps[0].labels).toEqual({ ...plan.labels, 'io.harrier.step': 'a' });
  });

  it('passes image_pull_secrets on by name', () => {
    expect(compile('image_pull_secrets: [dockerconfig]\nsteps:\n- {name: a, image: alpine}\n').imagePullSecrets).toEqual(['dockerconfig']);
  });
});

describe('compileStage steps', () => {
  it('numbers steps after the clone and names containers prefix-number-name', () => {
    const plan = compile('steps:\n- {name: build, image: alpine}\n- {name: "unit tests!", image: alpine}\n');
    expect(plan.steps.map((s) => [s.number, s.id])).toEqual([
      [2, 'harrier-300-abcd-2-build'],
      [3, 'harrier-300-abcd-3-unit-tests-'],
    ]);
  });

  it('takes step numbers from the steps the server recorded', () => {
    const recorded = { ...stage, steps: [{ id: 1, step_id: 300, number: 7, name: 'a', status: 'pending' as const, error: '', errignore: false, exit_code: 0, started: 0, stopped: 0, version: 1, depends_on: [], image: '', detached: false, schema: '' }] };
    const plan = compile('steps:\n- {name: a, image: alpine}\n', { stage: recorded });
    expect(plan.steps[0]).toMatchObject({ number: 7, id: 'harrier-300-abcd-7-a', env: { DRONE_STEP_NUMBER: '7' } });
  });

  it('runs commands as a shell script that prints each command first', () => {
    const s = compile("steps:\n- name: a\n  image: alpine\n  entrypoint: [/bin/bash]\n  commands:\n  - echo \"it's $HOME\"\n  - make\n").steps[0];
    expect(s.entrypoint).toEqual(['/bin/sh', '-c']);
    expect(s.command).toEqual(['eval "$DRONE_SCRIPT"']);
    expect(s.env.DRONE_SCRIPT).toBe(`set -e\n\nprintf '+ %s\\n' 'echo "it'"'"'s $HOME"'\necho "it's $HOME"\n\nprintf '+ %s\\n' 'make'\nmake\n`);
  });

  it('keeps the image entrypoint for a step without commands, unless one is given', () => {
    const plan = compile('steps:\n- {name: plugin, image: plugins/slack}\n- {name: custom, image: alpine, entrypoint: [/bin/echo], command: [hi]}\n');
    expect(stepOf(plan, 'plugin')).toMatchObject({ entrypoint: [], command: [] });
    expect(stepOf(plan, 'plugin').env).not.toHaveProperty('DRONE_SCRIPT');
    expect(stepOf(plan, 'custom')).toMatchObject({ entrypoint: ['/bin/echo'], command: ['hi'] });
  });

  it('makes services detached, answering to their name, in their image\'s working directory', () => {
    const plan = compile('services:\n- {name: db, image: postgres}\nsteps:\n- {name: a, image: alpine, commands: [x]}\n');
    expect(stepOf(plan, 'db')).toMatchObject({ service: true, detach: true, aliases: ['db'], workingDir: '', dependsOn: [] });
    expect(stepOf(plan, 'a')).toMatchObject({ service: false, detach: false, aliases: ['a'], workingDir: '/drone/src' });
    expect(names(plan)).toEqual(['db', 'a']);
  });

  it('uses working_dir when given', () => {
    expect(compile('steps:\n- {name: a, image: alpine, working_dir: /tmp}\n').steps[0].workingDir).toBe('/tmp');
  });

  it('carries pull, privileged, failure: ignore and timeout through', () => {
    const s = compile('steps:\n- {name: a, image: docker, pull: always, privileged: true, failure: ignore, timeout: 90s}\n').steps[0];
    expect(s).toMatchObject({ pull: 'always', privileged: true, errIgnore: true, timeoutSeconds: 90 });
  });

  it('runs opted-in plugin images privileged only when used as plugins', () => {
    const yaml = 'steps:\n- {name: p, image: "plugins/docker:20"}\n- {name: c, image: plugins/docker, commands: [docker ps]}\n';
    expect(compile(yaml).steps.map((s) => s.privileged)).toEqual([false, false]);
    expect(compile(yaml, { privilegedImages: DRONE_PRIVILEGED_IMAGES }).steps.map((s) => s.privileged)).toEqual([true, false]);
  });
});

describe('compileStage privileged plugin images', () => {
  const images = { privilegedImages: ['plugins/docker'] };
  const privileged = (yaml: string) => compile(yaml, images).steps.map((s) => [s.name, s.privileged]);

  it('matches an image by name as Docker normalises it: tag, digest and docker.io left out', () => {
    const yaml =
      'steps:\n- {name: a, image: "plugins/docker:latest"}\n- {name: b, image: docker.io/plugins/docker}\n' +
      '- {name: c, image: "index.docker.io/plugins/docker:20"}\n- {name: d, image: plugins/docker-extra}\n- {name: e, image: "example.com/plugins/docker"}\n';
    expect(privileged(yaml)).toEqual([['a', true], ['b', true], ['c', true], ['d', false], ['e', false]]);
  });

  it('gives no privilege to a service, to a step with volumes, or to one setting a variable that would redirect it', () => {
    const yaml =
      'volumes:\n- {name: v, temp: {}}\nservices:\n- {name: s, image: plugins/docker}\nsteps:\n- {name: v, image: plugins/docker, volumes: [{name: v, path: /v}]}\n' +
      '- {name: h, image: plugins/docker, environment: {DOCKER_HOST: "tcp://elsewhere:2375"}}\n- {name: p, image: plugins/docker, environment: {PATH: /x}}\n- {name: ok, image: plugins/docker, environment: {OTHER: x}}\n';
    expect(privileged(yaml)).toEqual([['s', false], ['v', false], ['h', false], ['p', false], ['ok', true]]);
  });
});

describe('compileStage in-memory volumes', () => {
  it('marks temp volumes with medium memory, with their size limit, and leaves others as engine volumes', () => {
    const plan = compile('volumes:\n- {name: ram, temp: {medium: memory, size_limit: 64Mi}}\n- {name: ram2, temp: {medium: memory}}\n- {name: disk, temp: {}}\nsteps:\n- {name: a, image: alpine}\n');
    expect(plan.volumes.slice(1).map(({ name, kind, medium, sizeLimit }) => ({ name, kind, medium, sizeLimit }))).toEqual([
      { name: 'ram', kind: 'temp', medium: 'memory', sizeLimit: 64 * 1024 ** 2 },
      { name: 'ram2', kind: 'temp', medium: 'memory', sizeLimit: undefined },
      { name: 'disk', kind: 'temp', medium: undefined, sizeLimit: undefined },
    ]);
  });
});

describe('compileStage environment', () => {
  it('gives every step Drone\'s variables and its own name and number', () => {
    const env = compile('steps:\n- {name: a, image: alpine}\n').steps[0].env;
    expect(env).toMatchObject({ CI: 'true', DRONE: 'true', DRONE_REPO: 'octocat/hello-world', DRONE_BUILD_NUMBER: '42', DRONE_STEP_NAME: 'a', DRONE_STEP_NUMBER: '2', DRONE_DOCKER_NETWORK_ID: 'harrier-300-abcd' });
  });

  it('layers build parameters < Drone variables < pipeline env < step env', () => {
    const plan = compile('environment:\n  A: pipeline\n  B: pipeline\n  DRONE_BRANCH: overridden\nsteps:\n- name: s\n  image: alpine\n  environment:\n    B: step\n', {
      build: { ...build, params: { A: 'param', C: 'param', DRONE_REPO: 'param' } },
    });
    expect(plan.steps[0].env).toMatchObject({ A: 'pipeline', B: 'step', C: 'param', DRONE_REPO: 'octocat/hello-world', DRONE_BRANCH: 'overridden' });
  });

  it('does not let a step override its own DRONE_STEP_NAME', () => {
    expect(compile('steps:\n- {name: a, image: alpine, environment: {DRONE_STEP_NAME: x}}\n').steps[0].env.DRONE_STEP_NAME).toBe('a');
  });

  it('passes from_secret by secret name only, the later layer winning', () => {
    const plan = compile('environment:\n  TOKEN: {from_secret: shared}\n  KEY: {from_secret: key}\nsteps:\n- name: s\n  image: alpine\n  environment:\n    TOKEN: plain\n    PASS: {from_secret: pass}\n');
    const s = plan.steps[0];
    expect(s.secretEnv).toEqual({ KEY: 'key', PASS: 'pass' });
    expect(s.env.TOKEN).toBe('plain');
    expect(s.env).not.toHaveProperty('PASS');
  });

  it('turns settings into PLUGIN_ variables encoded as Drone encodes them', () => {
    const s = compile('steps:\n- name: p\n  image: plugins/docker\n  settings:\n    repo: o/r\n    tags: [latest, 1.2]\n    auto_tag: true\n    mtu: 1440\n    build-args: {A: b}\n    nothing:\n    password: {from_secret: docker_password}\n').steps[0];
    expect(s.env).toMatchObject({ PLUGIN_REPO: 'o/r', PLUGIN_TAGS: 'latest,1.2', PLUGIN_AUTO_TAG: 'true', PLUGIN_MTU: '1440', PLUGIN_BUILD_ARGS: '{"A":"b"}' });
    expect(s.env).not.toHaveProperty('PLUGIN_NOTHING');
    expect(s.env).not.toHaveProperty('PLUGIN_PASSWORD');
    expect(s.secretEnv).toEqual({ PLUGIN_PASSWORD: 'docker_password' });
  });

  it('lets a secret setting replace a plain variable of the same name', () => {
    const s = compile('steps:\n- name: p\n  image: x\n  environment: {PLUGIN_TOKEN: plain}\n  settings:\n    token: {from_secret: t}\n').steps[0];
    expect(s.env).not.toHaveProperty('PLUGIN_TOKEN');
    expect(s.secretEnv).toEqual({ PLUGIN_TOKEN: 't' });
  });
});

describe('compileStage order', () => {
  it('runs steps one after another in file order when none names depends_on', () => {
    const plan = compile('steps:\n- {name: a, image: x}\n- {name: b, image: x}\n- {name: c, image: x}\n');
    expect(plan.steps.map((s) => s.dependsOn)).toEqual([[], ['a'], ['b']]);
  });

  it('keeps the written graph once any step names depends_on, without clone or services', () => {
    const plan = compile('services:\n- {name: db, image: x}\nsteps:\n- {name: a, image: x, depends_on: [clone]}\n- {name: b, image: x, depends_on: [a, db]}\n- {name: c, image: x}\n');
    expect(plan.steps.map((s) => [s.name, s.dependsOn])).toEqual([
      ['db', []],
      ['a', []],
      ['b', ['a']],
      ['c', []],
    ]);
  });
});

describe('compileStage when', () => {
  it('leaves out steps whose when does not match the build and lists them as skipped', () => {
    const plan = compile('steps:\n- {name: a, image: x}\n- {name: release, image: x, when: {branch: [release/*]}}\n- {name: push, image: x, when: {event: [push]}}\n');
    expect(names(plan)).toEqual(['a', 'push']);
    expect(plan.skipped).toEqual(['release']);
  });

  it('applies when to services too', () => {
    const plan = compile('services:\n- {name: db, image: x, when: {event: [tag]}}\nsteps:\n- {name: a, image: x}\n');
    expect(plan.skipped).toEqual(['db']);
  });

  it('bridges over a skipped step: who waited for it waits for what it waited for', () => {
    const plan = compile('steps:\n- {name: a, image: x}\n- {name: b, image: x, when: {event: [tag]}}\n- {name: c, image: x}\n');
    expect(plan.steps.map((s) => [s.name, s.dependsOn])).toEqual([
      ['a', []],
      ['c', ['a']],
    ]);
  });

  it('turns when.status into runOn and leaves it out of the match', () => {
    const plan = compile('steps:\n- {name: f, image: x, when: {status: [failure]}}\n- {name: always, image: x, when: {status: [success, failure]}}\n- {name: never, image: x, when: {status: {exclude: [success, failure]}}}\n');
    expect(plan.steps.map((s) => [s.name, s.runOn])).toEqual([
      ['f', ['failure']],
      ['always', ['success', 'failure']],
    ]);
    expect(plan.skipped).toEqual(['never']);
  });

  it('evaluates when.paths against the changed files when known', () => {
    const yaml = 'steps:\n- {name: docs, image: x, when: {paths: [docs/**]}}\n';
    expect(compile(yaml, { changedFiles: ['src/a.go'] }).skipped).toEqual(['docs']);
    expect(compile(yaml, { changedFiles: ['docs/a.md'] }).skipped).toEqual([]);
    expect(compile(yaml).skipped).toEqual([]);
  });

  it('matches when.target against the promotion target and instance against the server host', () => {
    const yaml = 'steps:\n- {name: prod, image: x, when: {target: [production], instance: [harrier.example.com]}}\n';
    expect(compile(yaml).skipped).toEqual(['prod']);
    expect(compile(yaml, { build: { ...build, event: 'promote', deploy_to: 'production' } }).skipped).toEqual([]);
  });
});

describe('compile helpers', () => {
  it('runOnOf reads when.status', () => {
    expect(runOnOf(undefined)).toEqual([]);
    expect(runOnOf({ include: ['failure'], exclude: [] })).toEqual(['failure']);
    expect(runOnOf({ include: [], exclude: ['success'] })).toEqual(['failure']);
    expect(runOnOf({ include: [], exclude: ['success', 'failure'] })).toBeNull();
  });

  it('imageName drops registry default, tag and digest', () => {
    expect(imageName('plugins/docker:20')).toBe('plugins/docker');
    expect(imageName('docker.io/plugins/docker')).toBe('plugins/docker');
    expect(imageName('docker.io/library/alpine@sha256:abc')).toBe('alpine');
    expect(imageName('localhost:5000/app:1')).toBe('localhost:5000/app');
  });

  it('safeName keeps what Docker accepts in a container name', () => {
    expect(safeName('unit tests')).toBe('unit-tests');
    expect(safeName('--x')).toBe('x');
    expect(safeName('!!!')).toBe('step');
  });
});
