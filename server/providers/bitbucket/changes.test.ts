// BitbucketScm.changedFiles against the Bitbucket stand-in: diffstat of after..before for
// pushes, of the commit alone for a new branch, of the pull request, following `next`
// pages, computed from a real git repository; the cap that makes a list unknown; and
// go-scm's recorded diffstat answers for the shapes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBitbucketFake, type BitbucketFake } from '../../../test/fakes/bitbucket-api.ts';
import { LocalGitRepo } from '../../../test/fakes/local-git-repo.ts';
import { BITBUCKET_DIFFSTAT_FILE_LIMIT, BitbucketScm } from './api.ts';
import { ScmError } from '../scm.ts';

const SLUG = 'mona/paths';
let fake: BitbucketFake;
let scm: BitbucketScm;
let git: LocalGitRepo;
let token: string;
let first: string;

// One content for all: git stores it once, where 3,000 distinct blobs took seconds to write.
function manyFiles(dir: string, count: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [`${dir}/file-${i}.txt`, 'generated\n']));
}

beforeAll(async () => {
  fake = await startBitbucketFake();
  scm = new BitbucketScm({ clientId: fake.clientId, clientSecret: fake.clientSecret, url: fake.url, apiUrl: fake.apiUrl });
  token = fake.state.token;
  git = new LocalGitRepo();
  first = git.commit({ 'README.md': '# hi\n', 'docs/old-name.md': 'docs\n', 'src/gone.ts': 'x\n', 'src/keep.ts': 'k\n' }, 'first');
  fake.addRepo({ slug: SLUG, gitDir: git.dir });
});

afterAll(async () => {
  await fake.close();
  git.remove();
});

const diffstatCalls = () => fake.state.requests.items.filter((r) => r.path.includes('/diffstat'));

describe('BitbucketScm.changedFiles for a push', () => {
  it('lists the diffstat of after..before: added, modified, removed, and both paths of a rename', async () => {
    const after = git.commit({ 'src/new.ts': 'n\n', 'src/keep.ts': 'changed\n', 'src/gone.ts': null, 'docs/old-name.md': null, 'docs/new-name.md': 'docs\n' }, 'second');
    const files = await scm.changedFiles(token, SLUG, { event: 'push', before: first, after });
    expect(files?.sort()).toEqual(['docs/new-name.md', 'docs/old-name.md', 'src/gone.ts', 'src/keep.ts', 'src/new.ts']);
    expect(diffstatCalls().at(-1)!.path).toBe(`/api/2.0/repositories/${SLUG}/diffstat/${after}..${first}`);
  });

  it('lists the pushed commit\'s own changes for a new branch (no previous commit)', async () => {
    const after = git.commit({ 'branch-only.txt': 'b\n' }, 'on a new branch', 'topic');
    git.checkout('main');
    expect(await scm.changedFiles(token, SLUG, { event: 'push', before: '', after })).toEqual(['branch-only.txt']);
    expect(diffstatCalls().at(-1)!.path).toBe(`/api/2.0/repositories/${SLUG}/diffstat/${after}`);
  });

  it('follows the `next` pages of a long diffstat', async () => {
    const before = git.head();
    const after = git.commit(manyFiles('wide', 250), 'wide');
    const files = await scm.changedFiles(token, SLUG, { event: 'push', before, after });
    expect(files).toHaveLength(250);
    // The stand-in pages by 100, as Bitbucket may page by less than asked.
    expect(diffstatCalls().filter((r) => r.path.endsWith(`${after}..${before}`))).toHaveLength(3);
  });

  it('calls the list unknown at 3000 files, without reading further pages', async () => {
    const before = git.head();
    const after = git.commit(manyFiles('huge', BITBUCKET_DIFFSTAT_FILE_LIMIT + 50), 'huge');
    expect(await scm.changedFiles(token, SLUG, { event: 'push', before, after })).toBeUndefined();
    expect(diffstatCalls().filter((r) => r.path.endsWith(`${after}..${before}`))).toHaveLength(30);
  }, 60_000);

  it('throws the provider\'s refusal for a commit Bitbucket does not know', async () => {
    const err = await scm.changedFiles(token, SLUG, { event: 'push', before: 'f'.repeat(40), after: git.head() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScmError);
    expect((err as ScmError).status).toBe(404);
  });
});

describe('BitbucketScm.changedFiles for a pull request', () => {
  it('lists the pull request\'s diffstat from its merge base with the destination', async () => {
    git.checkout('main');
    const head = git.commit({ 'feature/a.ts': 'a\n', 'README.md': '# feature\n' }, 'feature', 'feature');
    git.checkout('main');
    git.commit({ 'main-only.txt': 'm\n' }, 'main moves on');
    await fake.pullRequest(SLUG, 'pullrequest:created', { id: 5, source: { branch: 'feature', hash: head } });
    const files = await scm.changedFiles(token, SLUG, { event: 'pull_request', number: 5, after: head.slice(0, 12) });
    expect(files?.sort()).toEqual(['README.md', 'feature/a.ts']);
    expect(diffstatCalls().at(-1)!.path).toBe(`/api/2.0/repositories/${SLUG}/pullrequests/5/diffstat`);
  });
});

describe('BitbucketScm.changedFiles on Bitbucket\'s recorded answers', () => {
  it('reads a diffstat answer: a removed file has no new path, a renamed one both', async () => {
    const files = await scm.changedFiles(token, 'atlassian/atlaskit', {
      event: 'push',
      before: 'dec26e0fe887167743c2b7e36531dedfeb6cd478',
      after: '425863f9dbe56d70c8dcdbf2e4e0805e85591fcc',
    });
    expect(files).toEqual(['CONTRIBUTING.md', 'old-folder/CONTRIBUTING.md', 'new-folder/CONTRIBUTING.md']);
  });

  it('reads a pull request diffstat answer', async () => {
    expect(await scm.changedFiles(token, 'atlassian/atlaskit', { event: 'pull_request', number: 1, after: '' })).toEqual(['CONTRIBUTING.md']);
  });
});
