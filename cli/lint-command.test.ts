import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE } from './command-io.ts';
import { lintCommand } from './lint-command.ts';
import { captureIO } from './testing/command-io.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'harrier-lint-test-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function lint(text: string, opts: Parameters<typeof lintCommand>[1] = {}, name = '.drone.yml') {
  fs.writeFileSync(path.join(dir, name), text);
  const io = captureIO(dir);
  const code = lintCommand(name, opts, io);
  return { code, out: io.out(), err: io.err(), lines: io.out().split('\n').filter(Boolean) };
}

const head = 'kind: pipeline\ntype: docker\nname: default\nsteps:\n';

describe('harrier lint', () => {
  it('exits 0 and prints nothing on stdout for a valid file, with a summary on stderr', () => {
    const r = lint(`${head}- name: build\n  image: alpine:3\n  commands: [echo hi]\n`);
    expect(r.code).toBe(EXIT_OK);
    expect(r.out).toBe('');
    expect(r.err).toContain('valid: 1 pipeline (default)');
  });

  it('reports a tab in the indentation at its line and column', () => {
    const r = lint(`${head}- name: build\n\timage: alpine:3\n`);
    expect(r.code).toBe(EXIT_PROBLEMS);
    expect(r.lines).toEqual(['.drone.yml:6:1 a tab is used for indentation; YAML allows only spaces: replace the tab with spaces']);
  });

  it('reports unknown keys, wrong types and an empty from_secret, one per line in file order', () => {
    const r = lint(
      `${head}- name: build\n  image: alpine:3\n  comands: [echo hi]\n  privileged: maybe\n  environment:\n    TOKEN:\n      from_secret: ""\n`,
    );
    expect(r.code).toBe(EXIT_PROBLEMS);
    expect(r.lines).toEqual([
      '.drone.yml:7:3 unknown key `comands` in step `build`. Did you mean `commands`?',
      '.drone.yml:8:15 `privileged` must be true or false, not `maybe`',
      '.drone.yml:11:7 `environment.TOKEN` takes its value from no secret: write `from_secret: <secret name>`',
    ]);
    expect(r.err).toContain('3 errors');
  });

  it('reports what needs more than one node (an unknown depends_on) at the step', () => {
    const r = lint(`${head}- name: a\n  image: alpine:3\n- name: b\n  image: alpine:3\n  depends_on: [c]\n`);
    expect(r.code).toBe(EXIT_PROBLEMS);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatch(/^\.drone\.yml:7:3 step `b` depends on `c`, which is not a step of pipeline `default`/);
  });

  it('allows privileged steps only with --trusted', () => {
    const text = `${head}- name: dind\n  image: docker:dind\n  privileged: true\n`;
    const untrusted = lint(text);
    expect(untrusted.code).toBe(EXIT_PROBLEMS);
    expect(untrusted.lines[0]).toMatch(/^\.drone\.yml:5:3 step `dind` is privileged, which only trusted repositories may use/);
    expect(lint(text, { trusted: true }).code).toBe(EXIT_OK);
  });

  it('reports a ${...} the runner could not substitute', () => {
    const r = lint(`${head}- name: build\n  image: alpine:3\n  commands: [echo \${DRONE_TAG]\n`);
    expect(r.code).toBe(EXIT_PROBLEMS);
    expect(r.lines[0]).toMatch(/^\.drone\.yml:7:19 bad substitution/);
  });

  it('prints warnings as FILE:LINE:COL warning: and still exits 0', () => {
    const r = lint(`${head}- name: build\n  image: alpine:3\n  shell: bash\n  commands: [echo hi]\n`);
    expect(r.code).toBe(EXIT_OK);
    expect(r.lines).toEqual(['.drone.yml:7:3 warning: `shell` in step `build` is ignored: commands always run with /bin/sh']);
  });

  it('keeps warnings next to errors, sorted by position', () => {
    const r = lint(`${head}- name: build\n  image: alpine:3\n  shell: bash\n  depends_on: [nope]\n`);
    expect(r.code).toBe(EXIT_PROBLEMS);
    expect(r.lines.map((l) => l.split(' ')[0])).toEqual(['.drone.yml:5:3', '.drone.yml:7:3']);
    expect(r.lines[1]).toContain('warning: `shell`');
  });

  it('--format json prints the parsed pipelines', () => {
    const r = lint(`${head}- name: build\n  image: alpine:3\n  commands: [echo hi]\n`, { format: 'json' });
    expect(r.code).toBe(EXIT_OK);
    const body = JSON.parse(r.out);
    expect(body.file).toBe('.drone.yml');
    expect(body.warnings).toEqual([]);
    expect(body.pipelines).toHaveLength(1);
    expect(body.pipelines[0]).toMatchObject({ name: 'default', steps: [{ name: 'build', image: 'alpine:3', commands: ['echo hi'] }] });
  });

  it('--format json prints errors as {errors: [...]} and exits 1', () => {
    const r = lint(`${head}- name: build\n\timage: alpine:3\n`, { format: 'json' });
    expect(r.code).toBe(EXIT_PROBLEMS);
    const body = JSON.parse(r.out);
    expect(body.pipelines).toBeUndefined();
    expect(body.errors).toEqual([{ line: 6, col: 1, message: expect.stringContaining('a tab is used for indentation') }]);
  });

  it('exits 2 with a clear message when the file is missing', () => {
    const io = captureIO(dir);
    expect(lintCommand('nope.yml', {}, io)).toBe(EXIT_USAGE);
    expect(io.out()).toBe('');
    expect(io.err()).toBe(`harrier lint: nope.yml: no such file (looked in ${dir})\n`);
  });

  it('reads .drone.yml by default', () => {
    fs.writeFileSync(path.join(dir, '.drone.yml'), `${head}- name: build\n  image: alpine:3\n`);
    const io = captureIO(dir);
    expect(lintCommand(undefined, {}, io)).toBe(EXIT_OK);
    expect(io.err()).toContain('.drone.yml: valid');
  });
});
