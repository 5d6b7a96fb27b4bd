import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from './command-io.ts';
import { localFacts, parseRemote, workingCopyRoot } from './local-facts.ts';
import { gitWorkdir, removeWorkdir } from './testing/git-workdir.ts';

const made: string[] = [];
afterAll(() => made.forEach(removeWorkdir));

const base = { configPath: '.drone.yml', event: 'push', trusted: false, params: {} };

describe('local facts for harrier exec', () => {
  it('reads the commit, branch, author and message from git', () => {
    const repo = gitWorkdir({ 'a.txt': 'a' }, 'feature/x');
    made.push(repo.dir);
    fs.mkdirSync(path.join(repo.dir, 'sub'));
    expect(workingCopyRoot(path.join(repo.dir, 'sub'))).toBe(fs.realpathSync(repo.dir));
    const { repo: r, build, fromGit } = localFacts({ ...base, root: repo.dir, params: { GREETING: 'hi' } });
    expect(fromGit).toBe(true);
    expect(r.slug).toBe(repo.slug);
    expect(build).toMatchObject({
      after: repo.sha, target: 'feature/x', source: 'feature/x', ref: 'refs/heads/feature/x', event: 'push',
      author_name: 'Octo Cat', author_email: 'octo@example.com', author_login: 'octo', message: 'first commit', params: { GREETING: 'hi' },
    });
  });

  it('names the repository after its origin remote', () => {
    const repo = gitWorkdir({ 'a.txt': 'a' });
    made.push(repo.dir);
    repo.git('remote', 'add', 'origin', 'git@github.com:octo/hello.git');
    expect(localFacts({ ...base, root: repo.dir }).repo).toMatchObject({ slug: 'octo/hello', link: 'https://github.com/octo/hello', scm: 'github' });
  });

  it('uses placeholders outside a git repository', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'harrier-nogit-'));
    made.push(dir);
    const { build, fromGit } = localFacts({ ...base, root: dir, branch: 'dev' });
    expect(fromGit).toBe(false);
    expect(build).toMatchObject({ after: '0'.repeat(40), target: 'dev', ref: 'refs/heads/dev' });
    expect(localFacts({ ...base, root: dir }).build.target).toBe('main');
  });

  it('takes the tag at HEAD for --event tag, and refuses when there is none', () => {
    const repo = gitWorkdir({ 'a.txt': 'a' });
    made.push(repo.dir);
    expect(() => localFacts({ ...base, root: repo.dir, event: 'tag' })).toThrow(UsageError);
    repo.git('tag', 'v1.2.3');
    expect(localFacts({ ...base, root: repo.dir, event: 'tag' }).build.ref).toBe('refs/tags/v1.2.3');
  });

  it('refuses an unknown event', () => {
    expect(() => localFacts({ ...base, root: os.tmpdir(), event: 'pushed' })).toThrow('--event pushed is not an event Harrier knows');
  });

  it('parses clone URLs of the usual shapes', () => {
    expect(parseRemote('https://github.com/octo/hello.git')).toMatchObject({ namespace: 'octo', name: 'hello' });
    expect(parseRemote('ssh://git@bitbucket.org:22/team/app')).toMatchObject({ namespace: 'team', name: 'app', scm: 'bitbucket' });
    expect(parseRemote('https://gitlab.example.com/group/sub/app.git')).toMatchObject({ namespace: 'group/sub', name: 'app' });
    expect(parseRemote('/srv/git/app.git')).toBeUndefined();
    expect(parseRemote('file:///srv/git/app.git')).toBeUndefined();
  });
});
