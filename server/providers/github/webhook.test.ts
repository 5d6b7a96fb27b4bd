import { describe, expect, it } from 'vitest';
import type { Hook } from '../../../core/domain.ts';
import { readCorpusBytes, readCorpusJson } from '../../../test/fakes/corpus.ts';
import { githubCreatePayload, githubPullRequestPayload, githubPushPayload, githubTagPushPayload, type GithubRepoInfo } from '../../../test/fakes/github-payloads.ts';
import { identifyGithubRepo, parseGithubHook } from './webhook.ts';
import { HookError, type HookResult } from '../hook-delivery.ts';

const repo: GithubRepoInfo = {
  id: 42,
  fullName: 'mona/app',
  private: true,
  defaultBranch: 'main',
  cloneUrl: 'file:///tmp/mona-app',
  sshUrl: 'git@127.0.0.1:mona/app.git',
  htmlUrl: 'http://127.0.0.1:9/mona/app',
};
const sha = 'a'.repeat(40);

function deliver(event: string, body: unknown, extra: Record<string, string> = {}): HookResult {
  const raw = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
  return parseGithubHook({ 'x-github-event': event, 'x-github-delivery': 'delivery-1', ...extra }, raw);
}

function built(result: HookResult): Hook {
  if (result.kind !== 'hook') throw new Error(`expected a hook, got ignored: ${result.reason}`);
  return result.hook;
}

function ignoredReason(result: HookResult): string {
  if (result.kind !== 'ignored') throw new Error(`expected the delivery to be ignored, got a ${result.hook.event} hook`);
  return result.reason;
}

function thrown(fn: () => unknown): HookError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HookError);
    return err as HookError;
  }
  throw new Error('expected a HookError');
}

describe('octokit webhook examples (every file in github-webhooks/index.json)', () => {
  const index = readCorpusJson<{ file: string; header_X_GitHub_Event: string; variant: string }[]>('github-webhooks/index.json');
  // What each kind of real delivery must become.
  const expected: Record<string, { kind: 'hook'; event: Hook['event']; action?: string } | { kind: 'ignored'; reason: RegExp }> = {
    'push/tag-created': { kind: 'hook', event: 'tag' },
    'push/tag-deleted': { kind: 'ignored', reason: /deletes refs\/tags\/simple-tag: deletions are not built/ },
    'push/branch-created': { kind: 'hook', event: 'push' },
    'pull_request/opened': { kind: 'hook', event: 'pull_request', action: 'opened' },
    'pull_request/synchronize': { kind: 'hook', event: 'pull_request', action: 'synchronized' },
    'pull_request/closed': { kind: 'ignored', reason: /closed/ },
    'create/tag': { kind: 'ignored', reason: /built from its push delivery, so it builds once/ },
    'delete/tag': { kind: 'ignored', reason: /deletions are not built/ },
    'ping/repository': { kind: 'ignored', reason: /^ping/ },
    'ping/organization': { kind: 'ignored', reason: /^ping/ },
    'installation/created': { kind: 'ignored', reason: /"installation" does not start builds/ },
    'installation/deleted': { kind: 'ignored', reason: /does not start builds/ },
    'installation/new_permissions_accepted': { kind: 'ignored', reason: /does not start builds/ },
    'installation/suspend': { kind: 'ignored', reason: /does not start builds/ },
    'installation/unsuspend': { kind: 'ignored', reason: /does not start builds/ },
  };

  for (const entry of index) {
    const key = `${entry.header_X_GitHub_Event}/${entry.variant}`;
    it(`${entry.file} (${key}) is ${expected[key]?.kind ?? 'UNEXPECTED'}`, () => {
      const want = expected[key];
      expect(want, `no expectation written for ${key}`).toBeDefined();
      const body = readCorpusBytes(`github-webhooks/${entry.file}`);
      const result = parseGithubHook({ 'X-GitHub-Event': entry.header_X_GitHub_Event, 'X-GitHub-Delivery': 'd' }, body);
      if (want.kind === 'ignored') {
        expect(ignoredReason(result)).toMatch(want.reason);
        return;
      }
      const hook = built(result);
      const payload = JSON.parse(body.toString('utf8'));
      expect(hook.event).toBe(want.event);
      expect(hook.action).toBe(want.action ?? '');
      expect(hook.repo.uid).toBe(String(payload.repository.id));
      expect(hook.repo.slug).toBe(payload.repository.full_name);
      expect(hook.after).toMatch(/^[0-9a-f]{40}$/);
    });

    it(`${entry.file}: identifies the repository before verification`, () => {
      const body = readCorpusBytes(`github-webhooks/${entry.file}`);
      const payload = JSON.parse(body.toString('utf8'));
      const id = identifyGithubRepo({ 'X-GitHub-Event': entry.header_X_GitHub_Event, 'X-GitHub-Delivery': 'abc' }, body);
      expect(id.provider).toBe('github');
      expect(id.event).toBe(entry.header_X_GitHub_Event);
      expect(id.deliveryId).toBe('abc');
      const privacy = payload.repository && { private: payload.repository.private, visibility: payload.repository.private ? 'private' : 'public' };
      expect(id.repo).toEqual(payload.repository ? { uid: String(payload.repository.id), slug: payload.repository.full_name, privacy } : null);
    });
  }

  it('builds a tag once although GitHub sends it as push and as create', () => {
    const asPush = parseGithubHook({ 'X-GitHub-Event': 'push' }, readCorpusBytes('github-webhooks/push.tag-created.json'));
    const asCreate = parseGithubHook({ 'X-GitHub-Event': 'create' }, readCorpusBytes('github-webhooks/create.tag.json'));
    expect([asPush, asCreate].filter((r) => r.kind === 'hook')).toHaveLength(1);
    const tag = built(asPush);
    expect(tag).toMatchObject({ event: 'tag', ref: 'refs/tags/simple-tag', source: 'simple-tag', target: '' });
  });
});

describe('go-scm GitHub cases (normalised results in .golden files)', () => {
  const index = readCorpusJson<{ cases: { event_header: string; payload: string; golden: string; parsed_type: string }[] }>('go-scm-github/index.json');
  const builds: Record<string, { event: Hook['event']; action?: string }> = {
    'webhooks/push.json': { event: 'push' },
    'webhooks/push_tag.json': { event: 'tag' },
    'webhooks/push_branch_create.json': { event: 'push' },
    'webhooks/pr_opened.json': { event: 'pull_request', action: 'opened' },
    'webhooks/pr_sync.json': { event: 'pull_request', action: 'synchronized' },
    'webhooks/pr_reopened.json': { event: 'pull_request', action: 'reopened' },
  };

  for (const c of index.cases) {
    const build = builds[c.payload];
    it(`${c.payload} (${c.event_header}) ${build ? `builds a ${build.event}` : 'is ignored'}`, () => {
      const result = parseGithubHook({ 'X-GitHub-Event': c.event_header, 'X-GitHub-Delivery': 'f2467dea-70d6-11e8-8955-3c83993e0aef' }, readCorpusBytes(`go-scm-github/${c.payload}`));
      if (!build) {
        expect(ignoredReason(result)).toMatch(/\S/);
        return;
      }
      const hook = built(result);
      const golden = readCorpusJson(`go-scm-github/${c.golden}`);
      expect(hook.event).toBe(build.event);
      expect(hook.action).toBe(build.action ?? '');
      expect(hook.deliveryId).toBe('f2467dea-70d6-11e8-8955-3c83993e0aef');
      expect(hook.repo).toEqual({
        uid: golden.Repo.ID,
        namespace: golden.Repo.Namespace,
        name: golden.Repo.Name,
        slug: `${golden.Repo.Namespace}/${golden.Repo.Name}`,
        cloneUrl: golden.Repo.Clone,
        sshUrl: golden.Repo.CloneSSH,
        link: golden.Repo.Link,
        defaultBranch: golden.Repo.Branch,
        private: golden.Repo.Private,
      });
      expect(hook.sender).toBe(golden.Sender.Login);
      if (c.parsed_type === 'scm.PushHook') {
        expect(hook).toMatchObject({
          ref: golden.Ref,
          before: golden.Before,
          after: golden.After,
          message: golden.Commit.Message,
          link: golden.Commit.Link,
          author: { login: golden.Commit.Author.Login, name: golden.Commit.Author.Name, email: golden.Commit.Author.Email },
          timestamp: Math.floor(Date.parse(golden.Commit.Author.Date) / 1000),
        });
      } else {
        const pr = golden.PullRequest;
        expect(hook.action).toBe(golden.Action);
        expect(hook).toMatchObject({
          pullRequest: pr.Number,
          title: pr.Title,
          after: pr.Sha,
          ref: pr.Ref,
          source: pr.Source,
          target: pr.Target,
          sourceRepo: pr.Fork,
          fork: false,
          link: pr.Link,
          before: pr.Base.Sha,
          author: { login: pr.Author.Login, avatar: pr.Author.Avatar },
          timestamp: Math.floor(Date.parse(pr.Updated) / 1000),
        });
      }
    });
  }

  it('refuses a delivery without X-GitHub-Event with a 400', () => {
    const err = thrown(() => parseGithubHook({}, readCorpusBytes('go-scm-github/webhooks/push.json')));
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/X-GitHub-Event/);
  });
});

describe('abstruse’s captured GitHub deliveries (real headers and bytes)', () => {
  function headersOf(dir: string): Record<string, string> {
    const lines = readCorpusBytes(`github-webhooks/abstruse/${dir}/headers.txt`).toString('utf8').split('\n').filter(Boolean);
    return Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1)]));
  }
  const cases: [string, Partial<Hook>][] = [
    ['push', { event: 'push', ref: 'refs/heads/master', after: '76ca2c45d680d25d739ba4279da5df5107460adb', deliveryId: '68c158c8-d228-11ea-9b9f-827201ccb51d' }],
    ['branch', { event: 'push', ref: 'refs/heads/new-branch', before: '0000000000000000000000000000000000000000', deliveryId: '5caf9f78-d227-11ea-809c-e9a7311b8abc' }],
    ['tag', { event: 'tag', ref: 'refs/tags/v2.0.0', source: 'v2.0.0', deliveryId: '78024492-d227-11ea-8439-2a65180843e5' }],
    ['pull_request', { event: 'pull_request', action: 'opened', ref: 'refs/pull/2/head', source: 'new-branch', target: 'master', deliveryId: '18833c00-d228-11ea-9d45-18711679016d' }],
  ];
  for (const [dir, want] of cases) {
    it(`${dir}: parses the delivery as sent, with its headers’ own casing`, () => {
      const hook = built(parseGithubHook(headersOf(dir), readCorpusBytes(`github-webhooks/abstruse/${dir}/webhook.delivered.bin.json`)));
      expect(hook).toMatchObject({ ...want, repo: { slug: 'jkuri/d3-abstruse-test' } });
    });
  }
});

describe('GitHub push and pull request details', () => {
  it('carries the pushed commit’s message, author and date', () => {
    const hook = built(
      deliver('push', githubPushPayload({ repo, after: sha, before: 'b'.repeat(40), commit: { message: 'Fix it\n', authorName: 'Mona', authorEmail: 'mona@example.com', authorLogin: 'mona', timestamp: '2024-05-01T10:00:00Z' }, sender: { login: 'mona', avatarUrl: 'http://a/m.png' } })),
    );
    expect(hook).toMatchObject({
      event: 'push',
      ref: 'refs/heads/main',
      target: 'main',
      source: 'main',
      sourceRepo: 'mona/app',
      before: 'b'.repeat(40),
      after: sha,
      message: 'Fix it',
      author: { login: 'mona', name: 'Mona', email: 'mona@example.com', avatar: 'http://a/m.png' },
      sender: 'mona',
      timestamp: Date.parse('2024-05-01T10:00:00Z') / 1000,
      repo: { uid: '42', cloneUrl: 'file:///tmp/mona-app', private: true, defaultBranch: 'main' },
    });
  });

  it('does not give the commit author the pusher’s avatar when someone else pushed', () => {
    const hook = built(deliver('push', githubPushPayload({ repo, after: sha, commit: { authorLogin: 'alice' }, sender: { login: 'bob', avatarUrl: 'http://a/b.png' } })));
    expect(hook.author.login).toBe('alice');
    expect(hook.author.avatar).toBe('');
    expect(hook.sender).toBe('bob');
  });

  it('builds a tag push as a tag with the tag name as source and no target', () => {
    expect(built(deliver('push', githubTagPushPayload({ repo, tag: 'v1.2.0', after: sha })))).toMatchObject({ event: 'tag', ref: 'refs/tags/v1.2.0', source: 'v1.2.0', target: '' });
  });

  it('ignores the create event of a branch, which its push already builds', () => {
    expect(ignoredReason(deliver('create', githubCreatePayload({ repo, ref: 'feature', refType: 'branch' })))).toMatch(/branch "feature".*builds once/);
  });

  it('ignores a branch deletion pushed with deleted: true', () => {
    expect(ignoredReason(deliver('push', githubPushPayload({ repo, after: sha, ref: 'refs/heads/old', deleted: true })))).toMatch(/deletes refs\/heads\/old/);
  });

  it('ignores pushes to refs other than branches and tags', () => {
    expect(ignoredReason(deliver('push', githubPushPayload({ repo, after: sha, ref: 'refs/notes/commits' })))).toMatch(/only branches and tags/);
  });

  it('marks a pull request from a fork and names the fork as source repository', () => {
    const fork: GithubRepoInfo = { ...repo, id: 77, fullName: 'eve/app', cloneUrl: 'https://github.com/eve/app.git' };
    const hook = built(deliver('pull_request', githubPullRequestPayload({ repo, number: 9, head: { ref: 'patch', sha, repo: fork }, base: { ref: 'main', sha: 'c'.repeat(40) }, title: 'Patch' })));
    expect(hook).toMatchObject({ event: 'pull_request', action: 'opened', fork: true, sourceRepo: 'eve/app', ref: 'refs/pull/9/head', source: 'patch', target: 'main', after: sha, before: 'c'.repeat(40), title: 'Patch', message: 'Patch', pullRequest: 9 });
    expect(hook.repo.slug).toBe('mona/app');
  });

  it('builds a pull request whose fork was deleted, as a fork with no source repository', () => {
    const payload = githubPullRequestPayload({ repo, number: 3, head: { ref: 'gone', sha } });
    payload.pull_request.head.repo = null;
    expect(built(deliver('pull_request', payload))).toMatchObject({ fork: true, sourceRepo: '', after: sha });
  });

  it('builds a pull request from a branch of the same repository as not a fork', () => {
    expect(built(deliver('pull_request', githubPullRequestPayload({ repo, number: 4, action: 'reopened', head: { ref: 'topic', sha } })))).toMatchObject({ fork: false, sourceRepo: 'mona/app', action: 'reopened' });
  });

  for (const action of ['closed', 'edited', 'labeled', 'ready_for_review'] as const) {
    it(`ignores pull request action ${action}`, () => {
      expect(deliver('pull_request', githubPullRequestPayload({ repo, number: 5, action, head: { ref: 'x', sha } })).kind).toBe('ignored');
    });
  }

  it('never asks the server to compare heads for GitHub, whose synchronize means new commits', () => {
    const result = deliver('pull_request', githubPullRequestPayload({ repo, number: 5, action: 'synchronize', head: { ref: 'x', sha } }));
    expect(result.kind === 'hook' && result.requireNewHead).toBe(false);
  });
});

describe('malformed GitHub deliveries', () => {
  it('refuses a body that is not JSON with a 400 that says so', () => {
    const err = thrown(() => deliver('push', Buffer.from('payload=%7B%7D')));
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/not JSON.*application\/json/);
  });

  it('refuses bytes that are not UTF-8', () => {
    expect(thrown(() => deliver('push', Buffer.from([0x7b, 0xff, 0x7d]))).message).toMatch(/not valid UTF-8/);
  });

  it('refuses a JSON array', () => {
    expect(thrown(() => deliver('push', Buffer.from('[]'))).message).toMatch(/not an object/);
  });

  it('refuses an empty body', () => {
    expect(thrown(() => deliver('push', Buffer.alloc(0))).message).toMatch(/empty body/);
  });

  it('names the missing field of a push', () => {
    const payload = githubPushPayload({ repo, after: sha });
    delete payload.repository.clone_url;
    const err = thrown(() => deliver('push', payload));
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/GitHub push delivery is missing or has a malformed repository\.clone_url/);
  });

  it('names the missing field of a pull request', () => {
    const payload = githubPullRequestPayload({ repo, number: 1, head: { ref: 'x', sha } });
    delete payload.pull_request.head.sha;
    expect(thrown(() => deliver('pull_request', payload)).message).toMatch(/pull_request\.head\.sha/);
  });

  it('refuses to identify a repository that has no id', () => {
    const payload = githubPushPayload({ repo, after: sha });
    delete payload.repository.id;
    expect(thrown(() => identifyGithubRepo({ 'X-GitHub-Event': 'push' }, Buffer.from(JSON.stringify(payload)))).message).toMatch(/without an id/);
  });
});

describe('GitHub delivery ids', () => {
  it('reads X-GitHub-Delivery whatever the header’s case or form', () => {
    const body = Buffer.from(JSON.stringify(githubPushPayload({ repo, after: sha })));
    expect(built(parseGithubHook({ 'X-GITHUB-EVENT': 'push', 'x-github-delivery': ['id-1', 'id-2'] }, body)).deliveryId).toBe('id-1');
  });

  it('falls back to a hash of the body, the same for the same bytes', () => {
    const body = Buffer.from(JSON.stringify(githubPushPayload({ repo, after: sha })));
    const a = built(parseGithubHook({ 'X-GitHub-Event': 'push' }, body)).deliveryId;
    const b = built(parseGithubHook({ 'X-GitHub-Event': 'push' }, Buffer.from(body))).deliveryId;
    expect(a).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(a).toBe(b);
  });
});

describe('GitHub deliveries: the repository privacy they carry', () => {
  const identify = (event: string, body: unknown) => identifyGithubRepo({ 'X-GitHub-Event': event }, Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body)));

  it('reads a private repository from abstruse’s real pull request delivery', () => {
    const body = readCorpusBytes('github-webhooks/abstruse/pull_request/webhook.delivered.bin.json');
    expect(identify('pull_request', body).repo?.privacy).toEqual({ private: true, visibility: 'private' });
  });

  it('reads privacy from push, tag and pull request deliveries alike', () => {
    for (const isPrivate of [true, false]) {
      const r = { ...repo, private: isPrivate };
      const want = { private: isPrivate, visibility: isPrivate ? 'private' : 'public' };
      expect(identify('push', githubPushPayload({ repo: r, after: sha })).repo?.privacy).toEqual(want);
      expect(identify('push', githubTagPushPayload({ repo: r, tag: 'v1', after: sha })).repo?.privacy).toEqual(want);
      expect(identify('pull_request', githubPullRequestPayload({ repo: r, number: 1, head: { ref: 'f', sha } })).repo?.privacy).toEqual(want);
    }
  });

  it('keeps GitHub’s internal visibility, and trusts the private flag over a visibility that contradicts it', () => {
    const payload = githubPushPayload({ repo, after: sha });
    payload.repository.visibility = 'internal';
    expect(identify('push', payload).repo?.privacy).toEqual({ private: true, visibility: 'internal' });
    payload.repository.visibility = 'public';
    expect(identify('push', payload).repo?.privacy).toEqual({ private: true, visibility: 'private' });
  });

  it('says nothing about privacy when the payload has no private flag', () => {
    const payload = githubPushPayload({ repo, after: sha });
    delete payload.repository.private;
    expect(identify('push', payload).repo?.privacy).toBeUndefined();
  });
});
