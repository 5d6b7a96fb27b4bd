// GithubScm.changedFiles against the GitHub stand-in: compare for pushes, the commit for a
// new branch, paginated files for pull requests, computed from a real git repository; the
// caps that make a list unknown; and go-scm's recorded answers for the shapes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGithubFake, type GithubFake } from '../../../test/fakes/github-api.ts';
import { LocalGitRepo } from '../../../test/fakes/local-git-repo.ts';
import { GithubScm, GITHUB_DIFF_FILE_LIMIT, GITHUB_PULL_FILE_LIMIT } from './api.ts';
import { ScmError } from '../scm.ts';

const SLUG = 'mona/paths';
const ZERO = '0'.repeat(40);
let fake: GithubFake;
let scm: GithubScm;
let git: LocalGitRepo;
let token: string;
let first: string;

/** `count` files named dir/file-N.txt, all with one content: git stores it once, where 3,000 distinct blobs took seconds to write. */
function manyFiles(dir: string, count: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [`${dir}/file-${i}.txt`, 'generated\n']));
}

beforeAll(async () => {
  fake = await startGithubFake();
  scm = new GithubScm({ clientId: fake.clientId, clientSecret: fake.clientSecret, url: fake.url, apiUrl: fake.apiUrl });
  token = fake.state.token;
  git = new LocalGitRepo();
  first = git.commit({ 'README.md': '# hi\n', 'docs/old-name.md': 'docs\n', 'src/gone.ts': 'x\n', 'src/keep.ts': 'k\n' }, 'first');
  fake.addRepo({ slug: SLUG, gitDir: git.dir });
});

afterAll(async () => {
  await fake.close();
  git.remove();
});

describe('GithubScm.changedFiles for a push', () => {
  it('lists what the compare of before...after changed: added, modified, removed, and both paths of a rename', async () => {
    const after = git.commit({ 'src/new.ts': 'n\n', 'src/keep.ts': 'kept, changed\n', 'src/gone.ts': null, 'docs/old-name.md': null, 'docs/new-name.md': 'docs\n' }, 'second');
    const files = await scm.changedFiles(token, SLUG, { event: 'push', before: first, after });
    expect(files?.sort()).toEqual(['docs/new-name.md', 'docs/old-name.md', 'src/gone.ts', 'src/keep.ts', 'src/new.ts']);
    const call = fake.state.requests.items.at(-1)!;
    expect(call.path).toBe(`/api/v3/repos/${SLUG}/compare/${first}...${after}`);
  });

  it('lists the pushed commit\'s own changes for a new branch (before is all zeros)', async () => {
    const after = git.commit({ 'branch-only.txt': 'b\n' }, 'on a new branch', 'topic');
    git.checkout('main');
    expect(await scm.changedFiles(token, SLUG, { event: 'push', before: ZERO, after })).toEqual(['branch-only.txt']);
    expect(await scm.changedFiles(token, SLUG, { event: 'push', before: '', after })).toEqual(['branch-only.txt']);
    expect(fake.state.requests.items.at(-1)!.path).toBe(`/api/v3/repos/${SLUG}/commits/${after}`);
  });

  it('calls the list unknown when GitHub may have cut it at 300 files', async () => {
    const before = git.head();
    const after = git.commit(manyFiles('bulk', GITHUB_DIFF_FILE_LIMIT + 1), 'many files');
    expect(await scm.changedFiles(token, SLUG, { event: 'push', before, after })).toBeUndefined();
    expect(await scm.changedFiles(token, SLUG, { event: 'push', before: ZERO, after })).toBeUndefined();
  });

  it('throws the provider\'s refusal for a commit GitHub does not know (the caller treats it as unknown)', async () => {
    const err = await scm.changedFiles(token, SLUG, { event: 'push', before: 'f'.repeat(40), after: git.head() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScmError);
    expect((err as ScmError).status).toBe(404);
  });
});

describe('GithubScm.changedFiles for a pull request', () => {
  it('lists the pull request\'s files from its merge base, following the pages', async () => {
    git.checkout('main');
    const base = git.head();
    git.commit(manyFiles('feature', 150), 'a wide feature', 'wide');
    const head = git.commit({ 'README.md': '# changed\n' }, 'and the readme');
    git.checkout('main');
    git.commit({ 'main-only.txt': 'm\n' }, 'main moves on');
    await fake.pullRequest(SLUG, { number: 12, head: { ref: 'wide', sha: head }, base: { ref: 'main', sha: base } });
    const files = await scm.changedFiles(token, SLUG, { event: 'pull_request', number: 12, after: head });
    expect(files).toHaveLength(151);
    expect(files).toContain('README.md');
    expect(files).not.toContain('main-only.txt');
    const pages = fake.state.requests.items.filter((r) => r.path === `/api/v3/repos/${SLUG}/pulls/12/files`);
    expect(pages.map((r) => new URLSearchParams(r.query).get('page') ?? '1')).toEqual(['1', '2']);
    expect(new URLSearchParams(pages[0].query).get('per_page')).toBe('100');
  });

  it('calls the list unknown when the pull request reaches GitHub\'s 3000-file cap', async () => {
    git.checkout('main');
    const base = git.head();
    const head = git.commit(manyFiles('huge', GITHUB_PULL_FILE_LIMIT), 'a huge change', 'huge');
    git.checkout('main');
    await fake.pullRequest(SLUG, { number: 13, head: { ref: 'huge', sha: head }, base: { sha: base } });
    expect(await scm.changedFiles(token, SLUG, { event: 'pull_request', number: 13, after: head })).toBeUndefined();
  }, 60_000);
});

describe('GithubScm.changedFiles on GitHub\'s recorded answers', () => {
  it('reads a compare answer', async () => {
    const files = await scm.changedFiles(token, 'octocat/Hello-World', {
      event: 'push',
      before: '553c2077f0edc3d5dc5d17262f6aa498e69d6f8e',
      after: '7fd1a60b01f91b314f59955a4e4d4e80d8edf11d',
    });
    expect(files).toEqual(['README']);
  });

  it('reads a commit answer', async () => {
    expect(await scm.changedFiles(token, 'octocat/Hello-World', { event: 'push', before: ZERO, after: '7fd1a60b01f91b314f59955a4e4d4e80d8edf11d' })).toEqual([
      'file1.txt',
      'file2.yaml',
    ]);
  });

  it('reads a pull request files answer, a rename with both its paths', async () => {
    const files = await scm.changedFiles(token, 'octocat/Hello-World', { event: 'pull_request', number: 1347, after: '' });
    expect(files).toEqual(['asda2', 'remove_me', 'abhinav', 'tp', 'upsert']);
  });
});
