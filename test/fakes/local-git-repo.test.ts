import { afterAll, describe, expect, it } from 'vitest';
import { gitCommitInfo, gitResolveCommit, gitShowFile, LocalGitRepo } from './local-git-repo.ts';

const git = new LocalGitRepo({ defaultBranch: 'trunk', author: { name: 'Ada', email: 'ada@example.com' } });
const first = git.commit({ 'a.txt': 'one\n', 'dir/b.txt': 'bee\n' }, 'first');
const second = git.commit({ 'a.txt': 'two\n', 'dir/b.txt': null }, 'second\n\nwith a body');

afterAll(() => git.remove());

describe('LocalGitRepo', () => {
  it('commits on the default branch it was created with', () => {
    expect(git.git('rev-parse', '--abbrev-ref', 'HEAD')).toBe('trunk');
    expect(git.head()).toBe(second);
  });

  it('shows a file as it was at each commit, and null once deleted', async () => {
    expect((await gitShowFile(git.dir, first, 'a.txt'))?.toString()).toBe('one\n');
    expect((await gitShowFile(git.dir, second, 'a.txt'))?.toString()).toBe('two\n');
    expect(await gitShowFile(git.dir, second, 'dir/b.txt')).toBeNull();
  });

  it('answers null for a directory, an unknown commit, and an option-like revision', async () => {
    expect(await gitShowFile(git.dir, first, 'dir')).toBeNull();
    expect(await gitShowFile(git.dir, 'b'.repeat(40), 'a.txt')).toBeNull();
    expect(await gitResolveCommit(git.dir, '--all')).toBeNull();
  });

  it('resolves an abbreviated hash, a branch and a tag to the full commit', async () => {
    git.tag('v1', first, 'annotated');
    expect(await gitResolveCommit(git.dir, second.slice(0, 12))).toBe(second);
    expect(await gitResolveCommit(git.dir, 'trunk')).toBe(second);
    expect(await gitResolveCommit(git.dir, 'v1')).toBe(first);
  });

  it('reads a commit’s author, date, parent and whole message', async () => {
    const info = await gitCommitInfo(git.dir, second);
    expect(info).toMatchObject({ sha: second, authorName: 'Ada', authorEmail: 'ada@example.com', parent: first, message: 'second\n\nwith a body\n' });
    expect(Date.parse(info!.timestamp)).toBeGreaterThan(0);
  });

  it('creates a branch on first checkout and commits to it', () => {
    const topic = git.commit({ 'c.txt': 'see\n' }, 'topic work', 'topic');
    expect(git.head('topic')).toBe(topic);
    git.checkout('trunk');
    expect(git.head()).toBe(second);
  });
});
