// Realistic Bitbucket Cloud webhook deliveries for tests: go-scm's recorded payloads
// with the repository, refs and commits swapped for the test's own, signed the way
// Bitbucket signs hooks that have a secret (X-Hub-Signature: sha256=<hmac>).
import { createHmac, randomUUID } from 'node:crypto';
import { clone, readCorpusJson } from './corpus.ts';
import type { CommitInfo } from './local-git-repo.ts';
import { postDelivery, type DeliveredResponse } from './delivered.ts';

/** What a payload needs to know about a repository; FakeBitbucketRepo has all of it. */
export interface BitbucketRepoInfo {
  uuid: string;
  fullName: string;
  private: boolean;
  htmlUrl: string;
  defaultBranch: string;
}

export interface BitbucketActor {
  nickname: string;
  displayName?: string;
  uuid?: string;
  accountId?: string;
}

const PUSH_FIXTURE = 'bitbucket-webhooks/webhooks/push.json';
const PULL_REQUEST_FIXTURE = 'bitbucket-webhooks/webhooks/pr_created.json';

let pushFixture: any;
let pullRequestFixture: any;

function repositoryObject(template: any, repo: BitbucketRepoInfo): any {
  const renamed = JSON.parse(JSON.stringify(template).split(template.full_name).join(repo.fullName).split(template.uuid).join(repo.uuid));
  renamed.full_name = repo.fullName;
  renamed.name = repo.fullName.split('/')[1];
  renamed.uuid = repo.uuid;
  if ('is_private' in renamed || template.type === 'repository') renamed.is_private = repo.private;
  renamed.links = { ...renamed.links, html: { href: repo.htmlUrl } };
  return renamed;
}

/** A user as Bitbucket sends one today: no username (dropped for GDPR), a nickname and ids. */
function actorObject(template: any, actor: BitbucketActor): any {
  const out = { ...template, display_name: actor.displayName ?? actor.nickname, nickname: actor.nickname };
  out.uuid = actor.uuid ?? template.uuid;
  out.account_id = actor.accountId ?? template.account_id;
  delete out.username;
  return out;
}

function commitObject(template: any, repo: BitbucketRepoInfo, hash: string, commit: Partial<CommitInfo>, author: BitbucketActor): any {
  const name = commit.authorName ?? author.displayName ?? author.nickname;
  const email = commit.authorEmail ?? `${author.nickname}@example.com`;
  const message = commit.message ?? 'Update files\n';
  return {
    ...clone(template),
    hash,
    date: commit.timestamp ?? new Date().toISOString(),
    message,
    summary: { raw: message, markup: 'markdown', html: `<p>${message.trim()}</p>`, type: 'rendered' },
    author: { raw: `${name} <${email}>`, type: 'author', user: actorObject(template.author.user, author) },
    parents: commit.parent ? [{ type: 'commit', hash: commit.parent, links: {} }] : [],
    links: {
      self: { href: `${repo.htmlUrl.replace(/\/$/, '')}/commit/${hash}` },
      html: { href: `${repo.htmlUrl}/commits/${hash}` },
    },
  };
}

export interface BitbucketPushOptions {
  repo: BitbucketRepoInfo;
  /** The pushed commit (full hash: Bitbucket push payloads carry full ones). */
  after: string;
  /** Branch name (default: the repository's default branch); ignored when `tag` is set. */
  branch?: string;
  tag?: string;
  /** The ref's previous commit; absent means the push created the branch or tag. */
  before?: string;
  commit?: Partial<CommitInfo>;
  actor?: BitbucketActor;
  /** A deletion: `new` is null and `closed` is true. */
  deleted?: boolean;
}

export function bitbucketPushPayload(opts: BitbucketPushOptions): any {
  pushFixture ??= readCorpusJson(PUSH_FIXTURE);
  const body = clone(pushFixture);
  const change = body.push.changes[0];
  const type = opts.tag ? 'tag' : 'branch';
  const name = opts.tag ?? opts.branch ?? opts.repo.defaultBranch;
  const actor = opts.actor ?? { nickname: opts.repo.fullName.split('/')[0] };
  const target = commitObject(change.new.target, opts.repo, opts.after, opts.commit ?? {}, actor);
  const refLinks = (kind: string) => ({
    html: { href: `${opts.repo.htmlUrl}/${kind === 'tag' ? 'commits/tag' : 'branch'}/${name}` },
  });
  const before = opts.deleted ? (opts.before ?? opts.after) : opts.before;
  change.old = before ? { type, name, links: refLinks(type), target: { ...commitObject(change.old.target, opts.repo, before, {}, actor) } } : null;
  change.new = opts.deleted ? null : { type, name, links: refLinks(type), target };
  change.created = !before;
  change.closed = Boolean(opts.deleted);
  change.forced = false;
  change.truncated = false;
  change.commits = opts.deleted || type === 'tag' ? [] : [target];
  change.links = {
    html: { href: before && !opts.deleted ? `${opts.repo.htmlUrl}/branches/compare/${opts.after}..${before}` : `${opts.repo.htmlUrl}/commits/${opts.after}` },
  };
  body.repository = repositoryObject(body.repository, opts.repo);
  body.actor = actorObject(body.actor, actor);
  return body;
}

export interface BitbucketPullRequestOptions {
  /** The destination repository. */
  repo: BitbucketRepoInfo;
  id: number;
  /** Head commit: give the full hash, the payload carries its first 12 characters as Bitbucket does. */
  source: { branch: string; hash: string; repo?: BitbucketRepoInfo };
  destination?: { branch?: string; hash?: string };
  title?: string;
  description?: string;
  state?: 'OPEN' | 'MERGED' | 'DECLINED';
  author?: BitbucketActor;
}

export function bitbucketPullRequestPayload(opts: BitbucketPullRequestOptions): any {
  pullRequestFixture ??= readCorpusJson(PULL_REQUEST_FIXTURE);
  const template = pullRequestFixture;
  const body = clone(template);
  const pr = body.pullrequest;
  const author = opts.author ?? { nickname: opts.repo.fullName.split('/')[0] };
  const sourceRepo = opts.source.repo ?? opts.repo;
  const now = new Date().toISOString();
  const short = (h: string) => h.slice(0, 12);
  const prLink = `${opts.repo.htmlUrl}/pull-requests/${opts.id}`;
  Object.assign(pr, {
    id: opts.id,
    title: opts.title ?? `Change ${opts.source.branch}`,
    description: opts.description ?? '',
    summary: { raw: opts.description ?? '', markup: 'markdown', html: '', type: 'rendered' },
    state: opts.state ?? 'OPEN',
    author: actorObject(pr.author, author),
    created_on: now,
    updated_on: now,
    links: { ...pr.links, html: { href: prLink } },
  });
  pr.source = {
    branch: { name: opts.source.branch },
    commit: { hash: short(opts.source.hash), links: { self: { href: `${sourceRepo.htmlUrl}/commit/${short(opts.source.hash)}` } } },
    repository: repositoryObject(template.pullrequest.source.repository, sourceRepo),
  };
  const destHash = opts.destination?.hash ?? template.pullrequest.destination.commit.hash;
  pr.destination = {
    branch: { name: opts.destination?.branch ?? opts.repo.defaultBranch },
    commit: { hash: short(destHash), links: { self: { href: `${opts.repo.htmlUrl}/commit/${short(destHash)}` } } },
    repository: repositoryObject(template.pullrequest.destination.repository, opts.repo),
  };
  body.repository = repositoryObject(template.repository, opts.repo);
  body.actor = actorObject(body.actor, author);
  return body;
}

export function signBitbucketBody(body: Buffer | string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface BitbucketDeliverOptions {
  requestId?: string;
  hookId?: string;
  headers?: Record<string, string>;
  unsigned?: boolean;
}

/** POSTs a delivery the way Bitbucket Cloud does: X-Event-Key, X-Request-UUID, X-Hook-UUID, X-Hub-Signature. */
export async function deliverBitbucketHook(url: string, event: string, body: unknown, secret: string, opts: BitbucketDeliverOptions = {}): Promise<DeliveredResponse> {
  const raw = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'User-Agent': 'Bitbucket-Webhooks/2.0',
    'X-Event-Key': event,
    'X-Request-UUID': opts.requestId ?? randomUUID(),
    'X-Hook-UUID': opts.hookId ?? randomUUID(),
    'X-Attempt-Number': '1',
    ...(opts.unsigned || !secret ? {} : { 'X-Hub-Signature': signBitbucketBody(raw, secret) }),
    ...opts.headers,
  };
  return postDelivery(url, headers, raw);
}
