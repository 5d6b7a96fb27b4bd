import { describe, expect, it } from 'vitest';
import type { Scm } from '../providers/scm.ts';
import { ScmError } from '../providers/scm.ts';
import { detectLanguage, MARKERS } from './detect-language.ts';

/** An Scm whose repository holds these files at `main`; `throws` makes reading a path fail. */
function scmWith(files: string[], opts: { throws?: Record<string, ScmError> } = {}) {
  const asked: { ref: string; path: string; token: string }[] = [];
  const scm = {
    async file(token: string, _slug: string, ref: string, path: string) {
      asked.push({ ref, path, token });
      const failure = opts.throws?.[path];
      if (failure) throw failure;
      return ref === 'main' && files.includes(path) ? 'content' : null;
    },
  } as unknown as Scm;
  return { scm, asked };
}

const detect = (files: string[]) => detectLanguage(scmWith(files).scm, 'token', 'octo/app', 'main');

describe('detectLanguage', () => {
  it.each([
    ['package.json', 'node'],
    ['go.mod', 'go'],
    ['requirements.txt', 'python'],
    ['pyproject.toml', 'python'],
    ['setup.py', 'python'],
    ['pom.xml', 'java-maven'],
    ['build.gradle', 'java-gradle'],
    ['build.gradle.kts', 'java-gradle'],
    ['Cargo.toml', 'rust'],
    ['Gemfile', 'ruby'],
    ['composer.json', 'php'],
    ['mix.exs', 'elixir'],
    ['global.json', 'dotnet'],
  ])('recognises %s as %s', async (file, language) => {
    expect(await detect([file, 'README.md'])).toBe(language);
  });

  it('says generic when no marker file is there, as in an empty repository', async () => {
    expect(await detect([])).toBe('generic');
    expect(await detect(['README.md', 'Makefile'])).toBe('generic');
  });

  it('prefers any other language to package.json, which often sits beside a backend for front-end tooling', async () => {
    expect(await detect(['package.json', 'Gemfile'])).toBe('ruby');
    expect(await detect(['package.json', 'composer.json'])).toBe('php');
    expect(await detect(['package.json', 'requirements.txt'])).toBe('python');
    expect(await detect(['package.json', 'go.mod'])).toBe('go');
  });

  it('prefers build files that define the whole project to package manifests', async () => {
    expect(await detect(['requirements.txt', 'Cargo.toml'])).toBe('rust');
    expect(await detect(['Gemfile', 'mix.exs'])).toBe('elixir');
    expect(await detect(['pom.xml', 'build.gradle'])).toBe('java-maven');
  });

  it('asks for every marker file at the given ref with the given token', async () => {
    const { scm, asked } = scmWith([]);
    await detectLanguage(scm, 'tok', 'octo/app', 'main');
    expect(asked.map((a) => a.path).sort()).toEqual(MARKERS.flatMap((m) => m.files).sort());
    expect(new Set(asked.map((a) => `${a.ref} ${a.token}`))).toEqual(new Set(['main tok']));
  });

  it('asks for all marker files at once rather than one after another', async () => {
    // No answer comes until every question has been asked: one after another, this would never end.
    const all = MARKERS.flatMap((m) => m.files).length;
    let asked = 0;
    let allAsked: () => void = () => {};
    const everyone = new Promise<void>((resolve) => (allAsked = resolve));
    const scm = {
      async file() {
        if (++asked === all) allAsked();
        await everyone;
        return null;
      },
    } as unknown as Scm;
    await detectLanguage(scm, '', 'octo/app', 'main');
    expect(asked).toBe(all);
  });

  it('does not take a directory named like a marker for the marker', async () => {
    const { scm } = scmWith(['Gemfile'], { throws: { 'go.mod': new ScmError('go.mod in octo/app at main is a dir, not a file', 422, 'github') } });
    expect(await detectLanguage(scm, '', 'octo/app', 'main')).toBe('ruby');
  });

  it('fails with the provider error when the provider cannot be asked', async () => {
    const { scm } = scmWith(['Gemfile'], { throws: { 'go.mod': new ScmError('GitHub did not answer', 502, 'github') } });
    await expect(detectLanguage(scm, '', 'octo/app', 'main')).rejects.toThrow(/GitHub did not answer/);
  });
});
