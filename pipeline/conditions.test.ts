import { describe, expect, it } from 'vitest';
import { globMatch, matchCondition, matchConditions, matchPaths, type MatchFacts } from './conditions.ts';
import type { Condition } from './types.ts';

const inc = (...include: string[]): Condition => ({ include, exclude: [] });
const exc = (...exclude: string[]): Condition => ({ include: [], exclude });

const push: MatchFacts = {
  branch: 'main',
  event: 'push',
  ref: 'refs/heads/main',
  target: '',
  cron: '',
  action: '',
  repo: 'octocat/hello',
  instance: 'ci.example.com',
  status: 'success',
};

describe('globMatch', () => {
  it.each([
    ['feature/*', 'feature/login', true],
    ['feature/*', 'feature/a/b', false],
    ['refs/tags/**', 'refs/tags/v1.0.0', true],
    ['refs/tags/**', 'refs/tags/release/v1', true],
    ['refs/heads/**', 'refs/tags/v1', false],
    ['refs/pull/*/head', 'refs/pull/12/head', true],
    ['refs/tags/v*', 'refs/tags/v1.2.3', true],
    ['release-?', 'release-1', true],
    ['{main,develop}', 'develop', true],
    ['*', '.hidden', true],
    ['main', 'main-2', false],
    ['!main', 'develop', false],
  ])('%s against %s is %s', (pattern, value, expected) => {
    expect(globMatch(pattern, value)).toBe(expected);
  });
});

describe('matchCondition', () => {
  it('matches everything when the condition is absent or empty', () => {
    expect(matchCondition(undefined, 'x')).toBe(true);
    expect(matchCondition({ include: [], exclude: [] }, 'x')).toBe(true);
  });

  it('matches an included value and nothing else', () => {
    expect(matchCondition(inc('main', 'develop'), 'develop')).toBe(true);
    expect(matchCondition(inc('main'), 'feature/x')).toBe(false);
  });

  it('rejects an excluded value and accepts the rest', () => {
    expect(matchCondition(exc('main'), 'main')).toBe(false);
    expect(matchCondition(exc('main'), 'develop')).toBe(true);
  });

  it('lets exclude win over include', () => {
    expect(matchCondition({ include: ['feature/*'], exclude: ['feature/wip'] }, 'feature/wip')).toBe(false);
    expect(matchCondition({ include: ['feature/*'], exclude: ['feature/wip'] }, 'feature/ok')).toBe(true);
  });

  it('does not match an include against an empty value, as for branch on a tag', () => {
    expect(matchCondition(inc('main'), '')).toBe(false);
  });
});

describe('matchPaths', () => {
  it('matches when the changed files are unknown', () => {
    expect(matchPaths(inc('docs/**'), undefined)).toBe(true);
  });

  it('matches when no file changed', () => {
    expect(matchPaths(inc('docs/**'), [])).toBe(true);
  });

  it('matches when any changed file is included, across directories with **', () => {
    expect(matchPaths(inc('src/**/*.ts'), ['README.md', 'src/a/b/c.ts'])).toBe(true);
    expect(matchPaths(inc('src/**/*.ts'), ['README.md', 'docs/x.ts'])).toBe(false);
  });

  it('matches root files with **/ patterns', () => {
    expect(matchPaths(inc('**/*.go'), ['main.go'])).toBe(true);
  });

  it('skips only when every changed file is excluded', () => {
    expect(matchPaths(exc('docs/**', '*.md'), ['docs/a.md', 'README.md'])).toBe(false);
    expect(matchPaths(exc('docs/**', '*.md'), ['docs/a.md', 'main.go'])).toBe(true);
  });

  it('needs an included file that is not excluded', () => {
    const cond = { include: ['src/**'], exclude: ['src/**/*_test.go'] };
    expect(matchPaths(cond, ['src/a_test.go'])).toBe(false);
    expect(matchPaths(cond, ['src/a_test.go', 'src/a.go'])).toBe(true);
  });
});

describe('matchConditions', () => {
  it('matches a build when there are no conditions', () => {
    expect(matchConditions({}, push)).toBe(true);
  });

  it('requires every condition written to match', () => {
    expect(matchConditions({ branch: inc('main'), event: inc('push') }, push)).toBe(true);
    expect(matchConditions({ branch: inc('main'), event: inc('tag') }, push)).toBe(false);
  });

  it.each(['push', 'pull_request', 'tag', 'promote', 'rollback', 'cron', 'custom'])('matches the %s event by name', (event) => {
    expect(matchConditions({ event: inc(event) }, { ...push, event })).toBe(true);
    expect(matchConditions({ event: exc(event) }, { ...push, event })).toBe(false);
  });

  it('matches ref, repo, instance, target, cron and action', () => {
    const facts: MatchFacts = { ...push, event: 'promote', target: 'production', cron: 'nightly', action: 'opened' };
    expect(matchConditions({ ref: inc('refs/heads/*'), repo: inc('octocat/*'), instance: inc('ci.example.com') }, facts)).toBe(true);
    expect(matchConditions({ target: inc('production'), cron: inc('nightly'), action: inc('opened') }, facts)).toBe(true);
    expect(matchConditions({ target: inc('staging') }, facts)).toBe(false);
    expect(matchConditions({ repo: exc('octocat/hello') }, facts)).toBe(false);
  });

  it('evaluates status from the facts', () => {
    expect(matchConditions({ status: inc('failure') }, push)).toBe(false);
    expect(matchConditions({ status: inc('failure') }, { ...push, status: 'failure' })).toBe(true);
    expect(matchConditions({ status: inc('success', 'failure') }, push)).toBe(true);
  });

  it('evaluates paths from the changed files', () => {
    expect(matchConditions({ paths: inc('docs/**') }, { ...push, changedFiles: ['src/main.go'] })).toBe(false);
    expect(matchConditions({ paths: inc('docs/**') }, { ...push, changedFiles: ['docs/index.md'] })).toBe(true);
    expect(matchConditions({ paths: inc('docs/**') }, push)).toBe(true);
  });

  it('does not match a branch condition for a tag, which has no branch', () => {
    expect(matchConditions({ branch: inc('main') }, { ...push, event: 'tag', branch: '', ref: 'refs/tags/v1' })).toBe(false);
  });
});
