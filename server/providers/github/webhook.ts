// GitHub deliveries -> Hook. Builds: a branch push, a tag push, a pull request opened,
// synchronized or reopened. Everything else is ignored with a reason.
//
// A tag reaches us twice, as `push` (ref refs/tags/x, created) and as `create`
// (ref_type tag); only the push is built, so a tag builds once. Deletions arrive as
// `push` with deleted: true and as `delete`; neither is built.
import { z } from 'zod';
import type { Hook, HookRepo } from '../../../core/domain.ts';
import type { ProviderWebhook } from '../provider.ts';
import { githubSignatureProblem, type GithubSignatureOptions } from './signature.ts';
import { header, HookError, parseBody, readPayload, sha256Hex, unixSeconds, type HookHeaders, type HookIdentity, type HookPrivacy, type HookResult } from '../hook-delivery.ts';

const ZERO_SHA = /^0+$/;

const Id = z.union([z.number(), z.string()]).transform(String);

const Repository = z.object({
  id: Id,
  name: z.string(),
  full_name: z.string(),
  owner: z.object({ login: z.string().optional(), name: z.string().optional() }).optional(),
  private: z.boolean().default(false),
  html_url: z.string(),
  clone_url: z.string(),
  ssh_url: z.string().default(''),
  default_branch: z.string().default(''),
});

const Actor = z.object({ login: z.string(), avatar_url: z.string().default('') });

const Commit = z.object({
  id: z.string(),
  message: z.string().default(''),
  timestamp: z.string().nullish(),
  url: z.string().nullish(),
  author: z.object({ name: z.string().default(''), email: z.string().default(''), username: z.string().nullish() }).nullish(),
});

const Push = z.object({
  ref: z.string(),
  before: z.string(),
  after: z.string(),
  deleted: z.boolean().default(false),
  compare: z.string().nullish(),
  head_commit: Commit.nullish(),
  repository: Repository,
  sender: Actor.nullish(),
});

const PullRequest = z.object({
  action: z.string(),
  pull_request: z.object({
    number: z.number(),
    title: z.string(),
    html_url: z.string(),
    updated_at: z.string().nullish(),
    user: Actor,
    head: z.object({ ref: z.string(), sha: z.string(), repo: z.object({ id: Id, full_name: z.string() }).nullish() }),
    base: z.object({ ref: z.string(), sha: z.string(), repo: z.object({ id: Id, full_name: z.string() }) }),
  }),
  repository: Repository,
  sender: Actor.nullish(),
});

/** GitHub's pull request actions that change the code to build, in Harrier's words. */
const PULL_REQUEST_ACTIONS: Record<string, string> = {
  opened: 'opened',
  synchronize: 'synchronized',
  reopened: 'reopened',
};

export function githubEvent(headers: HookHeaders): string {
  const event = header(headers, 'X-GitHub-Event');
  if (!event) throw new HookError('GitHub delivery has no X-GitHub-Event header');
  return event;
}

/** X-GitHub-Delivery, the same on GitHub's redeliveries; a hash of the body if a proxy dropped it. */
export function githubDeliveryId(headers: HookHeaders, body: Buffer | Uint8Array): string {
  return header(headers, 'X-GitHub-Delivery') || `sha256:${sha256Hex(body)}`;
}

export function identifyGithubRepo(headers: HookHeaders, body: Buffer | Uint8Array): HookIdentity {
  const event = githubEvent(headers);
  const payload = parseBody(body, 'GitHub');
  const repo = payload.repository as { id?: unknown; full_name?: unknown; private?: unknown; visibility?: unknown } | undefined;
  let identity: HookIdentity['repo'] = null;
  if (repo && typeof repo === 'object') {
    if ((typeof repo.id !== 'number' && typeof repo.id !== 'string') || typeof repo.full_name !== 'string') {
      throw new HookError(`GitHub ${event} delivery has a repository without an id and full_name`);
    }
    identity = { uid: String(repo.id), slug: repo.full_name };
    if (typeof repo.private === 'boolean') identity.privacy = githubPrivacy(repo.private, repo.visibility);
  }
  return { provider: 'github', event, deliveryId: githubDeliveryId(headers, body), repo: identity };
}

/** As server/providers/github/api.ts reads a repository: GitHub's visibility when it names one, else from the private flag. */
function githubPrivacy(isPrivate: boolean, visibility: unknown): HookPrivacy {
  const named = visibility === 'public' || visibility === 'private' || visibility === 'internal' ? visibility : undefined;
  // A payload's visibility that contradicts its private flag is not trusted over the flag.
  const consistent = named && (named === 'public') === !isPrivate ? named : undefined;
  return { private: isPrivate, visibility: consistent ?? (isPrivate ? 'private' : 'public') };
}

export function parseGithubHook(headers: HookHeaders, body: Buffer | Uint8Array): HookResult {
  const event = githubEvent(headers);
  const payload = parseBody(body, 'GitHub');
  const deliveryId = githubDeliveryId(headers, body);
  switch (event) {
    case 'push':
      return parsePush(payload, deliveryId);
    case 'pull_request':
      return parsePullRequest(payload, deliveryId);
    case 'ping':
      return { kind: 'ignored', reason: 'ping: GitHub is checking that the hook answers; nothing to build' };
    case 'create':
      return { kind: 'ignored', reason: `create of ${describeRef(payload)}: it is built from its push delivery, so it builds once` };
    case 'delete':
      return { kind: 'ignored', reason: `delete of ${describeRef(payload)}: deletions are not built` };
    default:
      return { kind: 'ignored', reason: `GitHub event "${event}" does not start builds` };
  }
}

function describeRef(payload: Record<string, unknown>): string {
  return `${typeof payload.ref_type === 'string' ? payload.ref_type : 'ref'} "${typeof payload.ref === 'string' ? payload.ref : ''}"`;
}

function parsePush(payload: unknown, deliveryId: string): HookResult {
  const push = readPayload(Push, payload, 'GitHub push delivery');
  if (push.deleted || ZERO_SHA.test(push.after)) {
    return { kind: 'ignored', reason: `push deletes ${push.ref}: deletions are not built` };
  }
  const isTag = push.ref.startsWith('refs/tags/');
  if (!isTag && !push.ref.startsWith('refs/heads/')) {
    return { kind: 'ignored', reason: `push to ${push.ref}: only branches and tags are built` };
  }
  const name = push.ref.replace(/^refs\/(heads|tags)\//, '');
  const commit = push.head_commit;
  const sender = push.sender;
  const login = commit?.author?.username || sender?.login || '';
  const hook: Hook = {
    provider: 'github',
    deliveryId,
    event: isTag ? 'tag' : 'push',
    action: '',
    repo: hookRepo(push.repository),
    ref: push.ref,
    target: isTag ? '' : name,
    source: name,
    sourceRepo: push.repository.full_name,
    fork: false,
    before: push.before,
    after: push.after,
    message: commit?.message ?? '',
    title: '',
    link: push.compare || commit?.url || push.repository.html_url,
    pullRequest: 0,
    author: {
      login,
      name: commit?.author?.name ?? '',
      email: commit?.author?.email ?? '',
      // The payload has no avatar for the commit's author, only for whoever pushed.
      avatar: sender && sender.login === login ? sender.avatar_url : '',
    },
    sender: sender?.login ?? '',
    timestamp: unixSeconds(commit?.timestamp),
  };
  return { kind: 'hook', hook, requireNewHead: false };
}

function parsePullRequest(payload: Record<string, unknown>, deliveryId: string): HookResult {
  const action = typeof payload.action === 'string' ? payload.action : '';
  const normalised = PULL_REQUEST_ACTIONS[action];
  if (!normalised) {
    const reason = action === 'closed' ? 'the pull request was closed' : `pull request action "${action}" does not change its code`;
    return { kind: 'ignored', reason };
  }
  const event = readPayload(PullRequest, payload, `GitHub pull_request ${action} delivery`);
  const pr = event.pull_request;
  const headRepo = pr.head.repo;
  const hook: Hook = {
    provider: 'github',
    deliveryId,
    event: 'pull_request',
    action: normalised,
    repo: hookRepo(event.repository),
    ref: `refs/pull/${pr.number}/head`,
    target: pr.base.ref,
    source: pr.head.ref,
    // A fork that was deleted since leaves head.repo null; its pull request ref still builds.
    sourceRepo: headRepo?.full_name ?? '',
    fork: !headRepo || headRepo.id !== pr.base.repo.id,
    before: pr.base.sha,
    after: pr.head.sha,
    message: pr.title,
    title: pr.title,
    link: pr.html_url,
    pullRequest: pr.number,
    author: { login: pr.user.login, name: '', email: '', avatar: pr.user.avatar_url },
    sender: event.sender?.login ?? pr.user.login,
    timestamp: unixSeconds(pr.updated_at),
  };
  return { kind: 'hook', hook, requireNewHead: false };
}

function hookRepo(r: z.output<typeof Repository>): HookRepo {
  const [owner, name] = r.full_name.split('/');
  return {
    uid: r.id,
    namespace: r.owner?.login || r.owner?.name || owner,
    name: r.name || name,
    slug: r.full_name,
    cloneUrl: r.clone_url,
    sshUrl: r.ssh_url,
    link: r.html_url,
    defaultBranch: r.default_branch,
    private: r.private,
  };
}

/** GitHub's deliveries behind the ProviderWebhook surface; `opts` says whether SHA-1 signatures count. */
export function githubWebhook(opts: GithubSignatureOptions = {}): ProviderWebhook {
  return {
    eventHeader: 'X-GitHub-Event',
    recognizes: (headers) => Boolean(header(headers, 'X-GitHub-Event')),
    deliveryId: githubDeliveryId,
    identify: identifyGithubRepo,
    signatureProblem: (headers, body, secret, repo) => githubSignatureProblem(headers, body, secret, repo, opts),
    parse: parseGithubHook,
  };
}
