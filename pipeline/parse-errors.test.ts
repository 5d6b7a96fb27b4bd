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

function warningsOf(text: string): PipelineError[] {
  const result = parsePipelines(text);
  if (!result.ok) throw new Error(`expected no errors, got ${JSON.stringify(result.errors)}`);
  return result.warnings ?? [];
}

const head = 'kind: pipeline\ntype: docker\nname: test\n';
const step = (body: string) => `${head}steps:\n- name: build\n  image: alpine:3\n${body}`;

describe('parsePipelines errors point at the line and column', () => {
  it('reports a tab used for indentation with its own message', () => {
    const errors = errorsOf(`${head}steps:\n\t- name: a\n`);
    expect(errors[0]).toMatchObject({ line: 5, col: 1, message: expect.stringContaining('tab is used for indentation') });
  });

  it('reports a tab after spaces in the indentation at the tab', () => {
    const errors = errorsOf(`${head}steps:\n- name: a\n  image: alpine\n  \tcommands: [x]\n`);
    expect(errors[0]).toMatchObject({ line: 7, col: 3, message: expect.stringContaining('tab') });
  });

  it('reports other YAML syntax errors with their position', () => {
    expect(errorsOf(`${head}steps: [\n- name: a\n`)[0]).toMatchObject({ message: expect.stringContaining('YAML syntax error') });
  });

  it('reports a duplicate key', () => {
    expect(errorsOf(step('  image: alpine:3\n'))[0]).toMatchObject({ line: 7, col: 3, message: expect.stringContaining('written twice') });
  });

  it('reports an unknown step key with a suggestion at the key', () => {
    expect(errorsOf(step('  comands: [x]\n'))[0]).toEqual({ line: 7, col: 3, message: 'unknown key `comands` in step `build`. Did you mean `commands`?' });
  });

  it('reports an unknown pipeline key with a suggestion', () => {
    expect(errorsOf(`${head}trigers: {branch: main}\nsteps:\n- {name: a, image: alpine}\n`)[0]).toMatchObject({
      line: 4,
      col: 1,
      message: expect.stringContaining('Did you mean `trigger`?'),
    });
  });

  it('says steps must be a list, with a hint for Woodpecker\'s map form', () => {
    expect(errorsOf(`${head}steps:\n  build:\n    image: alpine\n`)[0]).toMatchObject({
      line: 5,
      col: 3,
      message: expect.stringMatching(/`steps` must be a list.*`- name: <name>`/),
    });
  });

  it('says a step field has the wrong type', () => {
    expect(errorsOf(step('  privileged: maybe\n'))[0]).toMatchObject({ line: 7, col: 15, message: '`privileged` must be true or false, not `maybe`' });
    expect(errorsOf(step('  environment: [A=b]\n'))[0]).toMatchObject({ line: 7, col: 16, message: expect.stringContaining('must be a mapping') });
  });

  it('reports a missing image at the step', () => {
    expect(errorsOf(`${head}steps:\n- name: build\n  commands: [x]\n`)[0]).toMatchObject({
      line: 5,
      col: 3,
      message: expect.stringContaining('step `build` has no image'),
    });
  });

  it('reports a missing step name', () => {
    expect(errorsOf(`${head}steps:\n- image: alpine\n`)[0]).toMatchObject({ line: 5, col: 3, message: expect.stringContaining('has no name') });
  });

  it('reports duplicate step names, services included', () => {
    const errors = errorsOf(`${head}services:\n- {name: db, image: postgres}\nsteps:\n- {name: db, image: alpine}\n- {name: a, image: alpine}\n- {name: a, image: alpine}\n`);
    expect(errors.map((e) => [e.line, e.message])).toEqual([
      [7, expect.stringContaining('`db` is already used by service `db`')],
      [9, expect.stringContaining('`a` is already used by step `a`')],
    ]);
  });

  it('reserves the name clone for the clone step unless cloning is disabled', () => {
    expect(errorsOf(`${head}steps:\n- {name: clone, image: alpine/git}\n`)[0].message).toContain('clone: {disable: true}');
    expect(one(`${head}clone: {disable: true}\nsteps:\n- {name: clone, image: alpine/git}\n`).steps[0].name).toBe('clone');
  });

  it('reports from_secret naming no secret at the from_secret key', () => {
    expect(errorsOf(step('  environment:\n    TOKEN:\n      from_secret:\n'))[0]).toMatchObject({
      line: 9,
      col: 7,
      message: expect.stringContaining('takes its value from no secret'),
    });
    expect(errorsOf(step('  settings:\n    password: {from_secret: ""}\n'))[0]).toMatchObject({ line: 8, col: 16 });
  });

  it('explains an unquoted command that YAML read as a mapping', () => {
    expect(errorsOf(step('  commands:\n  - echo key: value\n'))[0]).toMatchObject({ line: 8, col: 5, message: expect.stringContaining('quote the whole command') });
  });

  it('rejects an invalid pull policy, failure and timeout', () => {
    expect(errorsOf(step('  pull: sometimes\n'))[0]).toMatchObject({ line: 7, col: 9, message: expect.stringContaining('if-not-exists') });
    expect(errorsOf(step('  failure: maybe\n'))[0]).toMatchObject({ line: 7, col: 12 });
    expect(errorsOf(step('  timeout: soon\n'))[0]).toMatchObject({ line: 7, col: 12, message: expect.stringContaining('1h30m') });
  });

  it('rejects the old host:container volume form', () => {
    expect(errorsOf(step('  volumes:\n  - /tmp:/tmp\n'))[0]).toMatchObject({ line: 8, col: 5, message: expect.stringContaining('old `host:container` form') });
  });

  it('rejects a pipeline volume that is neither temp nor host', () => {
    expect(errorsOf(`${head}volumes:\n- name: cache\nsteps:\n- {name: a, image: alpine}\n`)[0].message).toContain('exactly one of');
  });

  it('rejects an image name with capitals', () => {
    expect(errorsOf(`${head}steps:\n- {name: a, image: Golang}\n`)[0]).toMatchObject({ line: 5, col: 20, message: expect.stringContaining('lowercase') });
  });

  it('collects errors from every document', () => {
    const errors = errorsOf(`${head}steps:\n- {name: a}\n---\nkind: pipeline\nsteps:\n- {name: b}\n`);
    expect(errors.map((e) => e.line)).toEqual([5, 9]);
  });

  it('sorts errors by line', () => {
    const errors = errorsOf(`${head}steps:\n- {name: a, imag: x}\nfoo: 1\n`);
    expect(errors.map((e) => e.line)).toEqual([...errors.map((e) => e.line)].sort((a, b) => a - b));
  });
});

describe('parsePipelines warnings', () => {
  it('warns about Drone step keys Harrier ignores, without failing', () => {
    expect(warningsOf(step('  user: root\n'))).toEqual([{ line: 7, col: 3, message: expect.stringContaining('`user` in step `build` is ignored') }]);
  });

  it('warns about clone.skip_verify', () => {
    expect(warningsOf(`${head}clone: {skip_verify: true}\nsteps:\n- {name: a, image: alpine}\n`)[0].message).toContain('skip_verify');
  });

  it('has no warnings for a plain pipeline', () => {
    expect(warningsOf(step(''))).toEqual([]);
  });
});
