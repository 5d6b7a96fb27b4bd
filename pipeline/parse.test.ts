import { describe, expect, it } from 'vitest';
import { parsePipelines } from './parse.ts';
import type { Pipeline, PipelineError } from './types.ts';

function parseOk(text: string): Pipeline[] {
  const result = parsePipelines(text);
  if (!result.ok) throw new Error(`expected no errors, got ${JSON.stringify(result.errors, null, 2)}`);
  return result.pipelines;
}

function one(text: string): Pipeline {
  return parseOk(text)[0];
}

function errorsOf(text: string): PipelineError[] {
  const result = parsePipelines(text);
  if (result.ok) throw new Error('expected errors, got none');
  return result.errors;
}

const head = 'kind: pipeline\ntype: docker\nname: test\n';
const step = (body: string) => `${head}steps:\n- name: build\n  image: alpine:3\n${body}`;

describe('parsePipelines defaults', () => {
  it('fills Drone defaults for a pipeline with only kind and steps', () => {
    const p = one('kind: pipeline\nsteps:\n- name: build\n  image: alpine\n');
    expect(p).toMatchObject({
      kind: 'pipeline',
      type: 'docker',
      name: 'default',
      platform: { os: 'linux', arch: 'amd64', variant: '', version: '' },
      node: {},
      clone: { disable: false, depth: 0, retries: 0 },
      workspace: { path: '/drone/src' },
      environment: {},
      services: [],
      volumes: [],
      trigger: {},
      dependsOn: [],
      concurrency: { limit: 0 },
      imagePullSecrets: [],
      position: { line: 1, col: 1 },
    });
  });

  it('fills Drone defaults for a step with only name and image', () => {
    expect(one(step('')).steps[0]).toEqual({
      name: 'build',
      image: 'alpine:3',
      commands: [],
      entrypoint: [],
      command: [],
      environment: {},
      settings: {},
      pull: 'default',
      privileged: false,
      detach: false,
      failure: 'always',
      dependsOn: [],
      when: {},
      volumes: [],
      timeout: 0,
      position: { line: 5, col: 3 },
    });
  });

  it.each([
    ['golang', 'golang:latest'],
    ['golang:1.22', 'golang:1.22'],
    ['library/golang', 'library/golang:latest'],
    ['localhost:5000/app', 'localhost:5000/app:latest'],
    ['localhost:5000/app:v2', 'localhost:5000/app:v2'],
    ['alpine@sha256:0123abcd', 'alpine@sha256:0123abcd'],
    ['ghcr.io/owner/app', 'ghcr.io/owner/app:latest'],
  ])('normalises image %s to %s', (image, expected) => {
    expect(one(`${head}steps:\n- name: a\n  image: ${image}\n`).steps[0].image).toBe(expected);
  });
});

describe('parsePipelines documents', () => {
  it('reads every --- document as a pipeline, in order', () => {
    const ps = parseOk(`${head}steps:\n- {name: a, image: alpine}\n---\nkind: pipeline\nname: second\nsteps:\n- {name: b, image: alpine}\n`);
    expect(ps.map((p) => p.name)).toEqual(['test', 'second']);
    expect(ps[1].position.line).toBe(7);
  });

  it('skips secret and signature documents and empty documents', () => {
    const ps = parseOk(
      `---\n${head}steps:\n- {name: a, image: alpine}\n---\nkind: secret\nname: token\nget: {path: x, name: y}\n---\nkind: signature\nhmac: abc\n---\n`,
    );
    expect(ps).toHaveLength(1);
  });

  it('reports a file with no pipeline', () => {
    expect(errorsOf('')[0]).toMatchObject({ line: 1, col: 1, message: expect.stringContaining('no pipeline found') });
    expect(errorsOf('kind: secret\nname: x\n')[0].message).toContain('no pipeline found');
  });

  it('reports a document without kind and says how to fix it', () => {
    expect(errorsOf('steps:\n- name: a\n  image: alpine\n')[0]).toMatchObject({
      line: 1,
      col: 1,
      message: expect.stringContaining('`kind: pipeline`'),
    });
  });

  it('reports an unknown kind at its value', () => {
    expect(errorsOf('kind: pipelin\nsteps: []\n')[0]).toMatchObject({ line: 1, col: 7, message: expect.stringContaining('unknown kind') });
  });

  it('rejects pipeline types other than docker', () => {
    expect(errorsOf(`kind: pipeline\ntype: exec\nsteps:\n- {name: a, image: alpine}\n`)[0]).toMatchObject({
      line: 2,
      col: 7,
      message: expect.stringContaining('type: docker'),
    });
  });

  it('reports a pipeline without steps', () => {
    expect(errorsOf(`${head}`)[0].message).toContain('has no `steps:`');
    expect(errorsOf(`${head}steps: []\n`)[0].message).toContain('has no `steps:`');
  });
});

describe('parsePipelines step fields', () => {
  it('reads commands, entrypoint and command', () => {
    const s = one(step('  commands:\n  - go build\n  - go test ./...\n  entrypoint: [/bin/bash, -c]\n  command: run\n')).steps[0];
    expect(s.commands).toEqual(['go build', 'go test ./...']);
    expect(s.entrypoint).toEqual(['/bin/bash', '-c']);
    expect(s.command).toEqual(['run']);
  });

  it('reads a single command written as a string', () => {
    expect(one(step('  commands: make test\n')).steps[0].commands).toEqual(['make test']);
  });

  it('keeps environment values as written and reads from_secret', () => {
    const s = one(step('  environment:\n    GO: 1.10\n    CGO: 0\n    DEBUG: yes\n    EMPTY:\n    TOKEN:\n      from_secret: api_token\n')).steps[0];
    expect(s.environment).toEqual({
      GO: { value: '1.10' },
      CGO: { value: '0' },
      DEBUG: { value: 'yes' },
      EMPTY: { value: '' },
      TOKEN: { fromSecret: 'api_token' },
    });
  });

  it('keeps settings typed and marks from_secret inside settings', () => {
    const s = one(step('  settings:\n    repo: octocat/app\n    tags: [latest, 1.2]\n    debug: true\n    password:\n      from_secret: docker_password\n    build_args: {A: b}\n')).steps[0];
    expect(s.settings).toEqual({
      repo: 'octocat/app',
      tags: ['latest', 1.2],
      debug: true,
      password: { from_secret: 'docker_password' },
      build_args: { A: 'b' },
    });
  });

  it('reads times and dates in settings as text, as Drone\'s YAML parser does', () => {
    expect(one(step('  settings:\n    at: 1:30\n    day: 2024-01-02\n')).steps[0].settings).toEqual({ at: '1:30', day: '2024-01-02' });
  });

  it.each(['always', 'never', 'if-not-exists', 'default'])('reads pull: %s', (policy) => {
    expect(one(step(`  pull: ${policy}\n`)).steps[0].pull).toBe(policy);
  });

  it('reads privileged, detach, failure and depends_on', () => {
    const p = one(`${head}steps:\n- {name: a, image: alpine}\n- name: b\n  image: docker\n  privileged: yes\n  detach: true\n  failure: ignore\n  depends_on: a\n`);
    expect(p.steps[1]).toMatchObject({ privileged: true, detach: true, failure: 'ignore', dependsOn: ['a'] });
  });

  it('reads step volumes as name and path', () => {
    const p = one(`${head}volumes:\n- name: cache\n  temp: {}\nsteps:\n- name: a\n  image: alpine\n  volumes:\n  - name: cache\n    path: /go\n`);
    expect(p.steps[0].volumes).toEqual([{ name: 'cache', path: '/go' }]);
  });

  it('reads working_dir', () => {
    expect(one(step('  working_dir: /tmp\n')).steps[0].workingDir).toBe('/tmp');
  });

  it.each([
    ['600', 600],
    ['90s', 90],
    ['5m', 300],
    ['1h30m', 5400],
    ['"120"', 120],
  ])('reads timeout %s as %i seconds', (written, seconds) => {
    expect(one(step(`  timeout: ${written}\n`)).steps[0].timeout).toBe(seconds);
  });

  it('reads services with the same fields as steps', () => {
    const p = one(`${head}services:\n- name: db\n  image: postgres:16\n  environment:\n    POSTGRES_PASSWORD: x\nsteps:\n- {name: a, image: alpine}\n`);
    expect(p.services[0]).toMatchObject({ name: 'db', image: 'postgres:16', environment: { POSTGRES_PASSWORD: { value: 'x' } } });
  });
});

describe('parsePipelines pipeline fields', () => {
  it('reads platform, node, clone, concurrency, image_pull_secrets and depends_on', () => {
    const p = one(
      `${head}platform: {os: linux, arch: arm64}\nnode: {team: infra}\nclone: {depth: 50, retries: 3}\nconcurrency: {limit: 2}\nimage_pull_secrets: [dockerconfig]\ndepends_on: [lint]\nsteps:\n- {name: a, image: alpine}\n`,
    );
    expect(p).toMatchObject({
      platform: { os: 'linux', arch: 'arm64', variant: '', version: '' },
      node: { team: 'infra' },
      clone: { disable: false, depth: 50, retries: 3 },
      concurrency: { limit: 2 },
      imagePullSecrets: ['dockerconfig'],
      dependsOn: ['lint'],
    });
  });

  it('reads clone.disable', () => {
    expect(one(`${head}clone:\n  disable: true\nsteps:\n- {name: a, image: alpine}\n`).clone.disable).toBe(true);
  });

  it('reads pipeline environment', () => {
    expect(one(`${head}environment:\n  GOOS: linux\nsteps:\n- {name: a, image: alpine}\n`).environment).toEqual({ GOOS: { value: 'linux' } });
  });

  it('reads temp and host volumes', () => {
    const p = one(`${head}volumes:\n- name: cache\n  temp: {}\n- name: ram\n  temp: {medium: memory}\n- name: sock\n  host:\n    path: /var/run/docker.sock\nsteps:\n- {name: a, image: alpine}\n`);
    expect(p.volumes.map(({ position, ...v }) => v)).toEqual([
      { name: 'cache', temp: {} },
      { name: 'ram', temp: { medium: 'memory' } },
      { name: 'sock', host: { path: '/var/run/docker.sock' } },
    ]);
  });

  it('reads size_limit as bytes, with 1000-based units, or with 1024-based ones written Mi, GiB', () => {
    const limit = (v: string) => one(`${head}volumes:\n- name: ram\n  temp: {medium: memory, size_limit: ${v}}\nsteps:\n- {name: a, image: alpine}\n`).volumes[0].temp;
    expect(limit('268435456')).toEqual({ medium: 'memory', sizeLimit: 268435456 });
    expect(limit('1GB')).toEqual({ medium: 'memory', sizeLimit: 1e9 });
    expect(limit('64Mi')).toEqual({ medium: 'memory', sizeLimit: 64 * 1024 ** 2 });
    expect(limit('1.5gib')).toEqual({ medium: 'memory', sizeLimit: 1.5 * 1024 ** 3 });
  });

  it('refuses a size_limit that is not a size, at its line and column', () => {
    const errors = errorsOf(`${head}volumes:\n- name: ram\n  temp: {medium: memory, size_limit: lots}\nsteps:\n- {name: a, image: alpine}\n`);
    expect(errors).toEqual([
      { line: 6, col: 38, message: '`volumes[0].temp.size_limit` must be a size in bytes (e.g. 268435456) or with a unit (e.g. 256Mi, 1GB), not `lots`' },
    ]);
  });

  it('takes an absolute workspace path as is', () => {
    expect(one(`${head}workspace:\n  path: /go/src/app\nsteps:\n- {name: a, image: alpine}\n`).workspace.path).toBe('/go/src/app');
  });

  it('joins a relative workspace path to its base', () => {
    expect(one(`${head}workspace:\n  base: /go\n  path: src/github.com/o/r\nsteps:\n- {name: a, image: alpine}\n`).workspace.path).toBe('/go/src/github.com/o/r');
    expect(one(`${head}workspace:\n  path: app\nsteps:\n- {name: a, image: alpine}\n`).workspace.path).toBe('/drone/src/app');
  });
});

describe('parsePipelines conditions', () => {
  const when = (body: string) => one(step(`  when:\n${body}`)).steps[0].when;

  it('reads a condition written as a string, a list, or include/exclude', () => {
    expect(when('    branch: main\n    event: [push, tag]\n    ref:\n      include: refs/tags/*\n      exclude: [refs/tags/rc*]\n')).toEqual({
      branch: { include: ['main'], exclude: [] },
      event: { include: ['push', 'tag'], exclude: [] },
      ref: { include: ['refs/tags/*'], exclude: ['refs/tags/rc*'] },
    });
  });

  it('reads every Drone condition key', () => {
    const keys = ['branch', 'event', 'ref', 'status', 'target', 'cron', 'action', 'repo', 'instance', 'paths'];
    const values: Record<string, string> = { event: 'push', status: 'failure' };
    const body = keys.map((k) => `    ${k}: ${values[k] ?? 'x'}\n`).join('');
    expect(Object.keys(when(body)).sort()).toEqual([...keys].sort());
  });

  it('reads the pipeline trigger', () => {
    expect(one(`${head}trigger:\n  branch: [main]\n  event:\n    exclude: [pull_request]\nsteps:\n- {name: a, image: alpine}\n`).trigger).toEqual({
      branch: { include: ['main'], exclude: [] },
      event: { include: [], exclude: ['pull_request'] },
    });
  });

  it('points at an unknown event and suggests the Drone name', () => {
    expect(errorsOf(step('  when:\n    event: [push, deployment]\n'))[0]).toMatchObject({
      line: 8,
      col: 19,
      message: expect.stringContaining('`promote`'),
    });
  });

  it('rejects a status other than success or failure', () => {
    expect(errorsOf(step('  when:\n    status: failed\n'))[0]).toMatchObject({ line: 8, col: 13, message: expect.stringContaining('unknown status `failed`') });
  });

  it('accepts glob patterns in event conditions', () => {
    expect(when('    event: pull_*\n').event).toEqual({ include: ['pull_*'], exclude: [] });
  });

  it('suggests `paths` for `path` and `branch` for `branches`', () => {
    const errors = errorsOf(step('  when:\n    path: docs/**\n    branches: main\n'));
    expect(errors.map((e) => [e.line, e.col, e.message])).toEqual([
      [8, 5, expect.stringContaining('Did you mean `paths`?')],
      [9, 5, expect.stringContaining('Did you mean `branch`?')],
    ]);
  });
});

describe('parsePipelines anchors and merge keys', () => {
  it('resolves aliases and << merge keys, explicit keys winning', () => {
    const p = one(
      `${head}x-defaults: &defaults\n  image: golang:1.22\n  environment: {CGO_ENABLED: '0'}\nsteps:\n- name: a\n  <<: *defaults\n  commands: [go test]\n- name: b\n  <<: *defaults\n  image: golang:1.21\n`,
    );
    expect(p.steps.map((s) => s.image)).toEqual(['golang:1.22', 'golang:1.21']);
    expect(p.steps[0].environment).toEqual({ CGO_ENABLED: { value: '0' } });
  });

  it('accepts a list of merge sources', () => {
    const p = one(`${head}a: &a {image: alpine}\nb: &b {pull: always}\nsteps:\n- name: x\n  <<: [*a, *b]\n`);
    expect(p.steps[0]).toMatchObject({ image: 'alpine:latest', pull: 'always' });
  });

  it('reuses an anchored list of commands', () => {
    const p = one(`${head}steps:\n- name: a\n  image: alpine\n  commands: &cmds [make, make test]\n- name: b\n  image: alpine\n  commands: *cmds\n`);
    expect(p.steps[1].commands).toEqual(['make', 'make test']);
  });

  it('rejects `- <<: *list` inside a list with a clear error at the merge key', () => {
    const errors = errorsOf(`${head}steps:\n- name: a\n  image: alpine\n  commands: &cmds [make]\n- name: b\n  image: alpine\n  commands:\n  - <<: *cmds\n  - make test\n`);
    expect(errors[0]).toMatchObject({ line: 11, col: 5, message: expect.stringContaining('cannot splice a list into a list') });
  });

  it('reports an alias that names no anchor', () => {
    expect(errorsOf(step('  commands: *nothing\n'))[0]).toMatchObject({ line: 7, col: 13, message: expect.stringContaining('`&nothing`') });
  });
});
