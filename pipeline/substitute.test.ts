import { describe, expect, it } from 'vitest';
import { substituteVariables, substitutionEnvironment } from './substitute.ts';
import { build, repo, stage, system } from './testdata/fixtures.ts';

const env = {
  DRONE_TAG: 'v1.2.3',
  DRONE_COMMIT_SHA: '7fd1a60b01f91b314f59955a4e4d4e80d8edf11d',
  DRONE_BRANCH: 'feature/login-page',
  NAME: 'Hello',
  EMPTY: '',
  FILE: 'archive.tar.gz',
  MESSAGE: 'first line\nsecond line',
};

function sub(text: string): string {
  const result = substituteVariables(text, env);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.text;
}

describe('substituteVariables', () => {
  it('replaces ${VAR} and leaves $VAR for the shell', () => {
    expect(sub('tags: ${DRONE_TAG}\ncommand: echo $HOME ${NAME}')).toBe('tags: v1.2.3\ncommand: echo $HOME Hello');
  });

  it('turns $$ into a literal $', () => {
    expect(sub('echo $${HOME} $$')).toBe('echo ${HOME} $');
  });

  it('replaces unknown variables with nothing, as Drone does', () => {
    expect(sub('x${NOPE}y')).toBe('xy');
  });

  it('quotes a value holding newlines so it stays one YAML scalar', () => {
    expect(sub('message: ${MESSAGE}')).toBe('message: "first line\\nsecond line"');
  });

  it.each([
    ['${#NAME}', '5'],
    ['${NAME^^}', 'HELLO'],
    ['${NAME,,}', 'hello'],
    ['${NAME,}', 'hello'],
    ['${EMPTY^}', ''],
    ['${DRONE_COMMIT_SHA:0:8}', '7fd1a60b'],
    ['${NAME:1}', 'ello'],
    ['${DRONE_TAG##v}', '1.2.3'],
    ['${DRONE_TAG#v}', '1.2.3'],
    ['${FILE%.*}', 'archive.tar'],
    ['${FILE%%.*}', 'archive'],
    ['${FILE#*.}', 'tar.gz'],
    ['${FILE##*.}', 'gz'],
    ['${DRONE_BRANCH/\\//-}', 'feature-login-page'],
    ['${DRONE_BRANCH//-/_}', 'feature/login_page'],
    ['${DRONE_BRANCH/#feature/feat}', 'feat/login-page'],
    ['${DRONE_BRANCH/%page/view}', 'feature/login-view'],
    ['${EMPTY=fallback}', 'fallback'],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${NAME:=fallback}', 'Hello'],
    ['${NOPE:-${NAME}}', 'Hello'],
  ])('evaluates %s as %s', (expr, expected) => {
    expect(sub(expr)).toBe(expected);
  });

  it('reports an unclosed expression with its line and column', () => {
    expect(substituteVariables('a: 1\nb: ${DRONE_TAG\n', env)).toEqual({
      ok: false,
      errors: [{ line: 2, col: 4, message: expect.stringContaining('bad substitution `${DRONE_TAG`') }],
    });
  });

  it('reports an expression without a name', () => {
    expect(substituteVariables('${}', env)).toMatchObject({ ok: false, errors: [{ line: 1, col: 1 }] });
  });
});

describe('substitutionEnvironment', () => {
  it('holds build parameters and Drone metadata, metadata winning', () => {
    const vars = substitutionEnvironment({ repo, build: { ...build, params: { DEPLOY: 'yes', DRONE_BRANCH: 'x' } }, system });
    expect(vars).toMatchObject({ DEPLOY: 'yes', DRONE_BRANCH: 'main', DRONE_REPO: 'octocat/hello-world' });
  });

  it('is the same for a build as created and the same build running, failing, with stages', () => {
    const created = { ...build, status: 'pending' as const, started: 0, finished: 0 };
    const running = { ...build, status: 'failure' as const, started: build.created + 5, finished: build.created + 9, stages: [{ ...stage, status: 'failure' as const }] };
    const vars = substitutionEnvironment({ repo, build: running, system });
    expect(vars).toEqual(substitutionEnvironment({ repo, build: created, system }));
    expect(vars).toMatchObject({ DRONE_BUILD_STATUS: 'success', DRONE_BUILD_STARTED: String(build.created), DRONE_BUILD_NUMBER: String(build.number) });
    expect(vars).not.toHaveProperty('DRONE_FAILED_STAGES');
    expect(vars).not.toHaveProperty('DRONE_STAGE_NAME');
  });
});

describe('substitution patterns from untrusted files', () => {
  // A backtracking matcher takes longer than the universe for these; the automaton reads each value once per start.
  it('matches star-heavy patterns without backtracking', () => {
    const env = { V: 'a'.repeat(5_000), W: 'a'.repeat(60) };
    expect(substituteVariables(`\${V//${'*?'.repeat(20)}/x}`, env)).toEqual({ ok: true, text: 'x' });
    expect(substituteVariables(`\${W#${'*a'.repeat(30)}*b}`, env)).toEqual({ ok: true, text: env.W });
    expect(substituteVariables(`\${W%%${'a*'.repeat(30)}b*}`, env)).toEqual({ ok: true, text: env.W });
  });

  it('refuses a pattern whose matching would cost too much for its value, at the line and column', () => {
    const result = substituteVariables(`image: x\ncommands: [\${V//a*b/x}]`, { V: 'a'.repeat(20_000) });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors[0]).toMatchObject({ line: 2, col: 12, message: expect.stringContaining('too costly') });
  });

  it('reads an unclosed [ as itself, as bash does', () => {
    expect(substituteVariables('${V#[a}', { V: '[abc' })).toEqual({ ok: true, text: 'bc' });
  });
});
