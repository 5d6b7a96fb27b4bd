import { describe, expect, it } from 'vitest';
import type { Hook } from '../../../core/domain.ts';
import { bitbucketPullRequestPayload, bitbucketPushPayload, type BitbucketRepoInfo } from '../../../test/fakes/bitbucket-payloads.ts';
import { readCorpusBytes, readCorpusJson } from '../../../test/fakes/corpus.ts';
import { identifyBitbucketRepo, parseBitbucketHook, sameCommit } from './webhook.ts';
import { HookError, type HookResult } from '../hook-delivery.ts';

const repo: BitbucketRepoInfo = { uuid: '{11111111-2222-3333-4444-555555555555}', fullName: 'mona/app', private: true, htmlUrl: 'https://bitbucket.org/mona/app', defaultBranch: 'main' };
const sha = '0123456789abcdef0123456789abcdef01234567';

function deliver(event: string, body: unknown, extra: Record<string, string> = {}): HookResult {
  const raw = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
  return parseBitbucketHook({ 'X-Event-Key': event, 'X-Request-UUID': 'req-1', ...extra }, raw);
}

function built(result: HookResult): Hook {
  if (result.kind !== 'hook') throw new Error(`expected a hook, got ignored: ${result.reason}`);
  return result.hook;
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

describe('go-scm Bitbucket cases (normalised results in .golden files)', () => {
  const index = readCorpusJson<{ cases: { event_header: string; payload: string; golden: string; parsed_type: string }[] }>('bitbucket-webhooks/index.json');
  const builds: Record<string, { event: Hook['event']; action?: string; requireNewHead?: boolean }> = {
    'webhooks/push.json': { event: 'push' },
    'webhooks/push_tag_create.json': { event: 'tag' },
    'webhooks/push_branch_create.json': { event: 'push' },
    'webhooks/pr_created.json': { event: 'pull_request', action: 'opened' },
    'webhooks/pr_updated.json': { event: 'pull_request', action: 'synchronized', requireNewHead: true },
  };

  for (const c of index.cases) {
    const build = builds[c.payload];
    it(`${c.payload} (${c.event_header}) ${build ? `builds a ${build.event}` : 'is ignored'}`, () => {
      const result = parseBitbucketHook({ 'X-Event-Key': c.event_header, 'X-Request-UUID': 'r' }, readCorpusBytes(`bitbucket-webhooks/${c.payload}`));
      if (!build) {
        expect(result.kind).toBe('ignored');
        return;
      }
      expect(result.kind === 'hook' && result.requireNewHead).toBe(build.requireNewHead ?? false);
      const hook = built(result);
      const golden = readCorpusJson(`bitbucket-webhooks/${c.golden}`);
      expect(hook.event).toBe(build.event);
      expect(hook.action).toBe(build.action ?? '');
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
          before: golden.Before ?? '',
          after: golden.After,
          message: golden.Commit.Message,
          link: golden.Commit.Link,
          author: { login: golden.Commit.Author.Login, name: golden.Commit.Author.Name, email: golden.Commit.Author.Email, avatar: golden.Commit.Author.Avatar },
          timestamp: Math.floor(Date.parse(golden.Commit.Author.Date) / 1000),
        });
      } else {
        const pr = golden.PullRequest;
        expect(hook).toMatchObject({
          pullRequest: pr.Number,
          title: pr.Title,
          after: pr.Sha,
          ref: `refs/heads/${pr.Source}`,
          source: pr.Source,
          target: pr.Target,
          sourceRepo: pr.Fork,
          fork: false,
          link: pr.Link,
          author: { login: pr.Author.Login, name: pr.Author.Name, avatar: pr.Author.Avatar },
          timestamp: Math.floor(Date.parse(pr.Updated) / 1000),
        });
      }
    });

    it(`${c.payload}: identifies the repository by uuid and slug`, () => {
      const id = identifyBitbucketRepo({ 'X-Event-Key': c.event_header, 'X-Request-UUID': 'r' }, readCorpusBytes(`bitbucket-webhooks/${c.payload}`));
      const payload = readCorpusJson(`bitbucket-webhooks/${c.payload}`);
      const privacy = typeof payload.repository.is_private === 'boolean' ? { private: payload.repository.is_private, visibility: payload.repository.is_private ? 'private' : 'public' } : undefined;
      expect(id).toEqual({ provider: 'bitbucket', event: c.event_header, deliveryId: 'r', repo: { uid: payload.repository.uuid, slug: payload.repository.full_name, ...(privacy && { privacy }) } });
    });
  }

  it('keeps the 12-character hashes of pull request payloads as Bitbucket sent them', () => {
    const hook = built(deliver('pullrequest:created', readCorpusBytes('bitbucket-webhooks/webhooks/pr_created.json')));
    expect(hook.after).toBe('507a576e59b3');
    expect(hook.before).toBe('7d1a175411ef');
  });

  it('ignores deleting a branch or a tag', () => {
    expect(deliver('repo:push', readCorpusBytes('bitbucket-webhooks/webhooks/push_branch_delete.json'))).toEqual({ kind: 'ignored', reason: 'push deletes develop: deletions are not built' });
    expect(deliver('repo:push', readCorpusBytes('bitbucket-webhooks/webhooks/push_tag_delete.json'))).toEqual({ kind: 'ignored', reason: 'push deletes feature/x: deletions are not built' });
  });
});

describe('abstruse’s captured Bitbucket deliveries (real header sets)', () => {
  const dir = 'bitbucket-webhooks/abstruse/tests/e2e/webhooks/bitbucket';
  const headers = (name: string) => readCorpusJson<Record<string, string | number>>(`${dir}/${name}.headers.json`);

  it('PushEvent: builds the pushed branch under the delivery’s X-Request-UUID', () => {
    const hook = built(parseBitbucketHook(headers('PushEvent.header'), readCorpusBytes(`${dir}/PushEvent.body.json`)));
    expect(hook).toMatchObject({
      deliveryId: '69c56047-577b-46f9-a1dd-9c4e27273bc1',
      event: 'push',
      ref: 'refs/heads/test',
      before: 'c465eec831e2719a18f025361c2d4e061ca764db',
      after: '47f058cef3a3fe785b93e7fcda061bb32bf6655e',
      author: { login: 'Izak88', name: 'Izak Lipnik', email: 'izak.lipnik@gmail.com' },
      repo: { slug: 'Izak88/d3-bundle', uid: '{a6fa13bf-643a-45f6-a0b2-7324954878de}' },
    });
  });

  const pr: [string, 'hook' | 'ignored', boolean][] = [
    ['PullRequestEvent.headerPullRequestCreated', 'hook', false],
    ['PullRequestEvent.headerPullRequestUpdated', 'hook', true],
    ['PullRequestEvent.headerPullRequestDeclined', 'ignored', false],
    ['PullRequestEvent.headerPullRequestMerged', 'ignored', false],
  ];
  for (const [name, kind, requireNewHead] of pr) {
    it(`${name}: ${kind === 'hook' ? (requireNewHead ? 'builds only if the head moved' : 'builds') : 'is ignored'}`, () => {
      const result = parseBitbucketHook(headers(name), readCorpusBytes(`${dir}/PullRequestEvent.body.json`));
      expect(result.kind).toBe(kind);
      if (result.kind === 'hook') {
        expect(result.requireNewHead).toBe(requireNewHead);
        expect(result.hook).toMatchObject({ pullRequest: 1, source: 'test', target: 'master', after: '47f058cef3a3', fork: false, deliveryId: '4cf2df45-9eb5-421a-a525-7606aeb0957d' });
      }
    });
  }
});

describe('atlantis’ Bitbucket Cloud pull request bodies', () => {
  const dir = 'bitbucket-webhooks/atlantis/server/events/testdata';

  it('created: builds a fork’s pull request from the fork’s branch', () => {
    const hook = built(deliver('pullrequest:created', readCorpusBytes(`${dir}/bitbucket-cloud-pull-event-created.json`)));
    expect(hook).toMatchObject({
      action: 'opened',
      pullRequest: 16,
      fork: true,
      sourceRepo: 'lkysow-fork/atlantis-example',
      ref: 'refs/heads/Luke/maintf-edited-online-with-bitbucket-1560433073473',
      target: 'main',
      after: '1e69a602caef',
      author: { login: 'Luke' },
      repo: { slug: 'lkysow/atlantis-example', private: false },
    });
  });

  it('updated: builds only if the head moved since the last build', () => {
    const result = deliver('pullrequest:updated', readCorpusBytes(`${dir}/bitbucket-cloud-pull-event-updated.json`));
    expect(result.kind === 'hook' && result.requireNewHead).toBe(true);
    expect(built(result)).toMatchObject({ action: 'synchronized', pullRequest: 1, after: '315f27602bd8', fork: false });
  });

  it('takes the login from the display name when neither username nor nickname is sent', () => {
    expect(built(deliver('pullrequest:updated', readCorpusBytes(`${dir}/bitbucket-cloud-pull-event-updated.json`))).sender).toBe('Luke');
  });

  for (const [file, event] of [
    ['bitbucket-cloud-pull-event-fulfilled.json', 'pullrequest:fulfilled'],
    ['bitbucket-cloud-pull-event-rejected.json', 'pullrequest:rejected'],
    ['bitbucket-cloud-comment-event.json', 'pullrequest:comment_created'],
  ]) {
    it(`${file} (${event}) is ignored`, () => {
      expect(deliver(event, readCorpusBytes(`${dir}/${file}`)).kind).toBe('ignored');
    });
  }

  it('ignores a pullrequest:updated whose pull request is no longer open', () => {
    expect(deliver('pullrequest:updated', readCorpusBytes(`${dir}/bitbucket-cloud-pull-event-fulfilled.json`))).toEqual({ kind: 'ignored', reason: 'pull request #16 is merged' });
  });
});

describe('Woodpecker’s Bitbucket parser fixtures', () => {
  const dir = 'bitbucket-webhooks/woodpecker/server/forge/bitbucket/fixtures';

  it('HookPush: builds the pushed branch', () => {
    expect(built(deliver('repo:push', readCorpusBytes(`${dir}/HookPush.json`)))).toMatchObject({ event: 'push', ref: 'refs/heads/main', after: 'c14c1bb05dfb1fdcdf06b31485fff61b0ea44277', author: { login: 'Martin Herren' } });
  });

  it('HookPull: builds a payload without repository uuid or dates, identified by slug alone', () => {
    const body = readCorpusBytes(`${dir}/HookPull.json`);
    expect(built(deliver('pullrequest:created', body))).toMatchObject({ pullRequest: 1, source: 'branch2', target: 'main', after: 'd3022fc0ca3d', author: { login: 'emmap1' }, repo: { uid: '', slug: 'user_name/repo_name' } });
    expect(identifyBitbucketRepo({ 'X-Event-Key': 'pullrequest:created' }, body).repo).toEqual({ uid: '', slug: 'user_name/repo_name', privacy: { private: true, visibility: 'private' } });
  });

  it('HookPullRequestDeclined and HookPullRequestMerged are ignored', () => {
    expect(deliver('pullrequest:rejected', readCorpusBytes(`${dir}/HookPullRequestDeclined.json`)).kind).toBe('ignored');
    expect(deliver('pullrequest:fulfilled', readCorpusBytes(`${dir}/HookPullRequestMerged.json`)).kind).toBe('ignored');
  });
});

describe('Bitbucket pushes with several changes', () => {
  it('builds the first change that creates or moves a branch or tag, skipping deletions before it', () => {
    const base = bitbucketPushPayload({ repo, after: sha, branch: 'main', before: 'f'.repeat(40) });
    const deletion = bitbucketPushPayload({ repo, after: 'e'.repeat(40), branch: 'old', deleted: true }).push.changes[0];
    const tag = bitbucketPushPayload({ repo, after: sha, tag: 'v1.0.0' }).push.changes[0];
    base.push.changes = [deletion, tag, base.push.changes[0]];
    expect(built(deliver('repo:push', base))).toMatchObject({ event: 'tag', ref: 'refs/tags/v1.0.0', source: 'v1.0.0', target: '', before: '' });
  });

  it('ignores a push with no changes at all', () => {
    const body = bitbucketPushPayload({ repo, after: sha });
    body.push.changes = [];
    expect(deliver('repo:push', body)).toEqual({ kind: 'ignored', reason: 'push changes no branch or tag' });
  });
});

describe('Bitbucket payload builders round-trip through the parser', () => {
  it('a branch push carries the commit message, author and date', () => {
    const hook = built(deliver('repo:push', bitbucketPushPayload({ repo, after: sha, before: 'f'.repeat(40), commit: { message: 'Fix\n', authorName: 'Mona', authorEmail: 'm@x.io', timestamp: '2024-01-02T03:04:05Z' }, actor: { nickname: 'mona' } })));
    expect(hook).toMatchObject({ event: 'push', ref: 'refs/heads/main', target: 'main', message: 'Fix\n', author: { name: 'Mona', email: 'm@x.io', login: 'mona' }, sender: 'mona', timestamp: 1704164645, repo: { uid: repo.uuid, cloneUrl: 'https://bitbucket.org/mona/app.git' } });
  });

  it('a pull request from a fork names the fork', () => {
    const fork = { ...repo, uuid: '{99999999-2222-3333-4444-555555555555}', fullName: 'eve/app', htmlUrl: 'https://bitbucket.org/eve/app' };
    const hook = built(deliver('pullrequest:created', bitbucketPullRequestPayload({ repo, id: 7, source: { branch: 'patch', hash: sha, repo: fork } })));
    expect(hook).toMatchObject({ fork: true, sourceRepo: 'eve/app', after: sha.slice(0, 12), pullRequest: 7, ref: 'refs/heads/patch' });
  });
});

describe('sameCommit', () => {
  it('matches a 12-character hash with the full hash it abbreviates', () => {
    expect(sameCommit(sha.slice(0, 12), sha)).toBe(true);
    expect(sameCommit(sha, sha.slice(0, 12).toUpperCase())).toBe(true);
  });

  it('tells different commits apart', () => {
    expect(sameCommit('507a576e59b3', '0704fc5beccc')).toBe(false);
  });

  it('does not match on a prefix too short to mean anything', () => {
    expect(sameCommit('', sha)).toBe(false);
    expect(sameCommit('0123', sha)).toBe(false);
  });

  it('lets the server skip a title-only pullrequest:updated: same head as the last build', () => {
    const created = built(deliver('pullrequest:created', readCorpusBytes('bitbucket-webhooks/webhooks/pr_created.json')));
    const updated = built(deliver('pullrequest:updated', readCorpusBytes('bitbucket-webhooks/webhooks/pr_updated.json')));
    expect(sameCommit(created.after, updated.after)).toBe(false);
    const retitled = bitbucketPullRequestPayload({ repo, id: 1, source: { branch: 'develop', hash: sha }, title: 'New title' });
    const again = built(deliver('pullrequest:updated', retitled));
    expect(sameCommit(again.after, sha)).toBe(true);
  });
});

describe('malformed Bitbucket deliveries and delivery ids', () => {
  it('refuses a delivery without X-Event-Key', () => {
    expect(thrown(() => parseBitbucketHook({}, Buffer.from('{}'))).message).toMatch(/X-Event-Key/);
  });

  it('refuses a body that is not JSON', () => {
    expect(thrown(() => deliver('repo:push', Buffer.from('not json'))).status).toBe(400);
  });

  it('names the missing field of a pull request', () => {
    const body = bitbucketPullRequestPayload({ repo, id: 1, source: { branch: 'x', hash: sha } });
    delete body.pullrequest.source.commit;
    expect(thrown(() => deliver('pullrequest:created', body)).message).toMatch(/Bitbucket pullrequest:created delivery is missing or has a malformed pullrequest\.source\.commit/);
  });

  it('refuses a repository full_name that is not workspace/slug', () => {
    const body = bitbucketPushPayload({ repo, after: sha });
    body.repository.full_name = 'no-slash';
    expect(thrown(() => deliver('repo:push', body)).message).toMatch(/repository\.full_name/);
  });

  it('falls back to the hook uuid and a hash of the body without X-Request-UUID', () => {
    const body = Buffer.from(JSON.stringify(bitbucketPushPayload({ repo, after: sha })));
    const id = built(parseBitbucketHook({ 'X-Event-Key': 'repo:push', 'X-Hook-UUID': 'hook-9' }, body)).deliveryId;
    expect(id).toMatch(/^hook-9:sha256:[0-9a-f]{64}$/);
    expect(built(parseBitbucketHook({ 'X-Event-Key': 'repo:push', 'X-Hook-UUID': 'hook-9' }, body)).deliveryId).toBe(id);
  });
});
