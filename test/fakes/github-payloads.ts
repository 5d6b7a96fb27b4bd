// Realistic GitHub webhook deliveries for tests: a corpus payload (a real delivery)
// with its repository, commit and refs swapped for the test's own, then signed and
// POSTed the way GitHub's Hookshot does it.
import { createHmac, randomUUID } from 'node:crypto';
import { clone, readCorpusJson } from './corpus.ts';
import type { CommitInfo } from './local-git-repo.ts';
import { postDelivery, type DeliveredResponse } from './delivered.ts';

export const ZERO_SHA = '0000000000000000000000000000000000000000';

/** What a payload needs to know about a repository; FakeGithubRepo has all of it. */
export interface GithubRepoInfo {
  id: number;
  fullName: string;
  private: boolean;
  defaultBranch: string;
  cloneUrl: string;
  sshUrl: string;
  htmlUrl: string;
}

export interface GithubActor {
  login: string;
  id?: number;
  avatarUrl?: string;
}

const PUSH_FIXTURE = 'go-scm-github/webhooks/push.json';
const PULL_REQUEST_FIXTURE = 'github-webhooks/pull_request.opened.json';

let pushFixture: any;
let pullRequestFixture: any;

/** The fixture's repository object, renamed to `repo` in every URL it carries. */
function repositoryObject(template: any, repo: GithubRepoInfo): any {
  const renamed = JSON.parse(JSON.stringify(template).split(template.full_name).join(repo.fullName));
  const [owner, name] = repo.fullName.split('/');
  Object.assign(renamed, {
    id: repo.id,
    name,
    full_name: repo.fullName,
    private: repo.private,
    visibility: repo.private ? 'private' : 'public',
    html_url: repo.htmlUrl,
    clone_url: repo.cloneUrl,
    ssh_url: repo.sshUrl,
    git_url: repo.cloneUrl.replace(/^https?:/, 'git:'),
    default_branch: repo.defaultBranch,
  });
  if ('master_branch' in renamed) renamed.master_branch = repo.defaultBranch;
  renamed.owner = { ...renamed.owner, login: owner, name: owner };
  return renamed;
}

function actorObject(template: any, actor: GithubActor): any {
  return {
    ...template,
    login: actor.login,
    id: actor.id ?? template.id,
    avatar_url: actor.avatarUrl ?? `https://avatars.example.com/${actor.login}.png`,
    html_url: `https://github.com/${actor.login}`,
  };
}

export interface GithubPushOptions {
  repo: GithubRepoInfo;
  /** The pushed commit. */
  after: string;
  /** Default: refs/heads/<default branch>. */
  ref?: string;
  /** Default: the commit's parent when `commit` names one, else all zeros (a new ref). */
  before?: string;
  /** The commit's message, author and date; LocalGitRepo.info(sha) gives one. */
  commit?: Partial<CommitInfo> & { authorLogin?: string };
  sender?: GithubActor;
  /** A deletion: after becomes all zeros and there is no head commit. */
  deleted?: boolean;
}

export function githubPushPayload(opts: GithubPushOptions): any {
  pushFixture ??= readCorpusJson(PUSH_FIXTURE);
  const body = clone(pushFixture);
  const ref = opts.ref ?? `refs/heads/${opts.repo.defaultBranch}`;
  const before = opts.before ?? (opts.commit?.parent ? opts.commit.parent : ZERO_SHA);
  const after = opts.deleted ? ZERO_SHA : opts.after;
  const sender = opts.sender ?? { login: opts.commit?.authorLogin ?? opts.repo.fullName.split('/')[0] };
  const shortName = ref.replace(/^refs\/(heads|tags)\//, '');
  const commit = {
    ...body.head_commit,
    id: after,
    tree_id: body.head_commit.tree_id,
    message: opts.commit?.message?.replace(/\n$/, '') ?? `Update ${shortName}`,
    timestamp: opts.commit?.timestamp ?? new Date().toISOString(),
    url: `${opts.repo.htmlUrl}/commit/${after}`,
    author: {
      name: opts.commit?.authorName ?? sender.login,
      email: opts.commit?.authorEmail ?? `${sender.login}@users.noreply.github.com`,
      username: opts.commit?.authorLogin ?? sender.login,
    },
    committer: { name: 'GitHub', email: 'noreply@github.com', username: 'web-flow' },
  };
  Object.assign(body, {
    ref,
    before,
    after,
    created: before === ZERO_SHA && !opts.deleted,
    deleted: Boolean(opts.deleted),
    forced: false,
    base_ref: ref.startsWith('refs/tags/') ? `refs/heads/${opts.repo.defaultBranch}` : null,
    compare: before === ZERO_SHA ? `${opts.repo.htmlUrl}/compare/${shortName}` : `${opts.repo.htmlUrl}/compare/${before.slice(0, 12)}...${after.slice(0, 12)}`,
    commits: opts.deleted || ref.startsWith('refs/tags/') ? [] : [commit],
    head_commit: opts.deleted ? null : commit,
    repository: repositoryObject(body.repository, opts.repo),
    pusher: { name: sender.login, email: commit.author.email },
    sender: actorObject(body.sender, sender),
  });
  return body;
}

/** A tag push as GitHub sends it: ref refs/tags/<tag>, created, before all zeros. */
export function githubTagPushPayload(opts: Omit<GithubPushOptions, 'ref' | 'before'> & { tag: string }): any {
  return githubPushPayload({ ...opts, ref: `refs/tags/${opts.tag}`, before: ZERO_SHA });
}

/** The `create` event GitHub sends beside a tag's or branch's push. */
export function githubCreatePayload(opts: { repo: GithubRepoInfo; ref: string; refType: 'tag' | 'branch'; sender?: GithubActor }): any {
  pushFixture ??= readCorpusJson(PUSH_FIXTURE);
  const sender = opts.sender ?? { login: opts.repo.fullName.split('/')[0] };
  return {
    ref: opts.ref,
    ref_type: opts.refType,
    master_branch: opts.repo.defaultBranch,
    description: null,
    pusher_type: 'user',
    repository: repositoryObject(pushFixture.repository, opts.repo),
    sender: actorObject(pushFixture.sender, sender),
  };
}

export interface GithubPullRequestOptions {
  /** The repository the pull request is opened against. */
  repo: GithubRepoInfo;
  number: number;
  action?: 'opened' | 'synchronize' | 'reopened' | 'closed' | 'edited' | 'labeled' | 'ready_for_review';
  /** `repo` set to another repository makes the pull request come from a fork. */
  head: { ref: string; sha: string; repo?: GithubRepoInfo };
  base?: { ref?: string; sha?: string };
  title?: string;
  body?: string;
  author?: GithubActor;
  sender?: GithubActor;
  merged?: boolean;
}

export function githubPullRequestPayload(opts: GithubPullRequestOptions): any {
  pullRequestFixture ??= readCorpusJson(PULL_REQUEST_FIXTURE);
  const template = pullRequestFixture;
  const fromFullName = template.repository.full_name;
  const body = JSON.parse(JSON.stringify(template).split(fromFullName).join(opts.repo.fullName));
  const author = opts.author ?? { login: opts.repo.fullName.split('/')[0] };
  const sender = opts.sender ?? author;
  const headRepo = opts.head.repo ?? opts.repo;
  const pr = body.pull_request;
  const now = new Date().toISOString();
  const closed = opts.action === 'closed';
  const n = opts.number;
  const rewriteNumber = (s: string) => s.replace(/\/(pull|pulls|issues)\/\d+/g, `/$1/${n}`);
  for (const key of ['url', 'html_url', 'diff_url', 'patch_url', 'issue_url', 'commits_url', 'review_comments_url', 'comments_url']) {
    if (typeof pr[key] === 'string') pr[key] = rewriteNumber(pr[key]);
  }
  pr.html_url = `${opts.repo.htmlUrl}/pull/${n}`;
  Object.assign(pr, {
    number: n,
    id: 100_000 + n,
    state: closed ? 'closed' : 'open',
    title: opts.title ?? `Change ${opts.head.ref}`,
    body: opts.body ?? '',
    user: actorObject(pr.user, author),
    created_at: now,
    updated_at: now,
    closed_at: closed ? now : null,
    merged_at: closed && opts.merged ? now : null,
    merged: Boolean(closed && opts.merged),
    statuses_url: `${opts.repo.htmlUrl}/statuses/${opts.head.sha}`,
  });
  const headOwner = headRepo.fullName.split('/')[0];
  pr.head = {
    ...pr.head,
    label: `${headOwner}:${opts.head.ref}`,
    ref: opts.head.ref,
    sha: opts.head.sha,
    user: actorObject(pr.head.user, { login: headOwner }),
    repo: repositoryObject(template.pull_request.head.repo, headRepo),
  };
  const baseOwner = opts.repo.fullName.split('/')[0];
  pr.base = {
    ...pr.base,
    label: `${baseOwner}:${opts.base?.ref ?? opts.repo.defaultBranch}`,
    ref: opts.base?.ref ?? opts.repo.defaultBranch,
    sha: opts.base?.sha ?? pr.base.sha,
    repo: repositoryObject(template.pull_request.base.repo, opts.repo),
  };
  body.action = opts.action ?? 'opened';
  body.number = n;
  body.repository = repositoryObject(template.repository, opts.repo);
  body.sender = actorObject(body.sender, sender);
  return body;
}

export function signGithubBody(body: Buffer | string, secret: string): { sha256: string; sha1: string } {
  return {
    sha256: `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
    sha1: `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`,
  };
}

export interface DeliverOptions {
  deliveryId?: string;
  /** Extra or overriding headers. */
  headers?: Record<string, string>;
  /** Send no signature headers at all. */
  unsigned?: boolean;
}

/** POSTs a delivery the way GitHub does: raw JSON, X-GitHub-Event, X-GitHub-Delivery, both signatures. */
export async function deliverGithubHook(url: string, event: string, body: unknown, secret: string, opts: DeliverOptions = {}): Promise<DeliveredResponse> {
  const raw = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const signature = signGithubBody(raw, secret);
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'User-Agent': 'GitHub-Hookshot/harrier-fake',
    'X-GitHub-Event': event,
    'X-GitHub-Delivery': opts.deliveryId ?? randomUUID(),
    'X-GitHub-Hook-ID': '1',
    ...(opts.unsigned ? {} : { 'X-Hub-Signature-256': signature.sha256, 'X-Hub-Signature': signature.sha1 }),
    ...opts.headers,
  };
  return postDelivery(url, headers, raw);
}
