// Bitbucket Cloud deliveries -> Hook. Builds: repo:push of a branch or tag,
// pullrequest:created, pullrequest:updated. The event is named in X-Event-Key.
//
// Two Bitbucket habits shape this file:
// - One repo:push can carry several ref changes (git push --all, --tags). The first
//   change that creates or moves a branch or tag is built; the others are dropped,
//   and deletions (new: null) never build. One delivery is one build.
// - Pull request payloads carry 12-character abbreviated hashes (push payloads carry
//   full ones). They are kept as sent in hook.after and hook.before: Bitbucket's API
//   resolves them wherever a commit is named (src, statuses), git resolves them after
//   fetching the branch, and sameCommit() compares them with full hashes.
//
// Bitbucket Cloud has no pull request refs, so a pull request's hook.ref is its source
// branch, refs/heads/<branch>, in hook.sourceRepo (the fork, for a fork's pull request).
import { z } from 'zod';
import type { Hook, HookRepo } from '../../../core/domain.ts';
import type { ProviderWebhook } from '../provider.ts';
import { bitbucketSignatureProblem } from './signature.ts';
import { Account, BitbucketCommit, Link, login, toCommit } from './commit.ts';
import { header, HookError, parseBody, readPayload, sha256Hex, unixSeconds, type HookHeaders, type HookIdentity, type HookResult } from '../hook-delivery.ts';

// Pull request deliveries carry 12-character hashes; the server compares them with sameCommit().
export { sameCommit } from '../hook-delivery.ts';

const Repository = z.object({
  uuid: z.string().nullish(),
  full_name: z.string().regex(/^[^/]+\/[^/]+$/, 'expected "workspace/slug"'),
  is_private: z.boolean().nullish(),
  mainbranch: z.object({ name: z.string() }).nullish(),
  links: z.object({ html: Link }),
});

const Ref = z.object({ type: z.string(), name: z.string(), target: BitbucketCommit });

const Push = z.object({
  push: z.object({
    changes: z.array(z.object({ old: Ref.nullish(), new: Ref.nullish(), created: z.boolean().nullish(), closed: z.boolean().nullish() })),
  }),
  repository: Repository,
  actor: Account.nullish(),
});

const Side = z.object({
  branch: z.object({ name: z.string() }),
  commit: z.object({ hash: z.string() }),
  repository: z.object({ full_name: z.string(), uuid: z.string().nullish() }).nullish(),
});

const PullRequest = z.object({
  pullrequest: z.object({
    id: z.number(),
    title: z.string(),
    state: z.string(),
    updated_on: z.string().nullish(),
    author: Account.nullish(),
    links: z.object({ html: Link }),
    source: Side,
    destination: Side,
  }),
  repository: Repository,
  actor: Account.nullish(),
});

export function bitbucketEvent(headers: HookHeaders): string {
  const event = header(headers, 'X-Event-Key');
  if (!event) throw new HookError('Bitbucket delivery has no X-Event-Key header');
  return event;
}

/**
 * X-Request-UUID names the delivery and stays the same when Bitbucket retries it. Without it,
 * the hook's uuid and the body's hash stand in: the same content sent to the same hook is one delivery.
 */
export function bitbucketDeliveryId(headers: HookHeaders, body: Buffer | Uint8Array): string {
  const request = header(headers, 'X-Request-UUID');
  if (request) return request;
  const hook = header(headers, 'X-Hook-UUID');
  return `${hook ? `${hook}:` : ''}sha256:${sha256Hex(body)}`;
}

export function identifyBitbucketRepo(headers: HookHeaders, body: Buffer | Uint8Array): HookIdentity {
  const event = bitbucketEvent(headers);
  const payload = parseBody(body, 'Bitbucket');
  const repo = payload.repository as { uuid?: unknown; full_name?: unknown; is_private?: unknown } | undefined;
  let identity: HookIdentity['repo'] = null;
  if (repo && typeof repo === 'object') {
    if (typeof repo.full_name !== 'string') throw new HookError(`Bitbucket ${event} delivery has a repository without a full_name`);
    identity = { uid: typeof repo.uuid === 'string' ? repo.uuid : '', slug: repo.full_name };
    if (typeof repo.is_private === 'boolean') identity.privacy = { private: repo.is_private, visibility: repo.is_private ? 'private' : 'public' };
  }
  return { provider: 'bitbucket', event, deliveryId: bitbucketDeliveryId(headers, body), repo: identity };
}

export function parseBitbucketHook(headers: HookHeaders, body: Buffer | Uint8Array): HookResult {
  const event = bitbucketEvent(headers);
  const payload = parseBody(body, 'Bitbucket');
  const deliveryId = bitbucketDeliveryId(headers, body);
  switch (event) {
    case 'repo:push':
      return parsePush(payload, deliveryId);
    case 'pullrequest:created':
    case 'pullrequest:updated':
      return parsePullRequest(payload, event, deliveryId);
    case 'pullrequest:fulfilled':
      return { kind: 'ignored', reason: 'the pull request was merged' };
    case 'pullrequest:rejected':
      return { kind: 'ignored', reason: 'the pull request was declined' };
    default:
      return { kind: 'ignored', reason: `Bitbucket event "${event}" does not start builds` };
  }
}

function parsePush(payload: unknown, deliveryId: string): HookResult {
  const push = readPayload(Push, payload, 'Bitbucket repo:push delivery');
  const change = push.push.changes.find((c) => c.new && (c.new.type === 'branch' || c.new.type === 'tag'));
  if (!change?.new) {
    const deleted = push.push.changes.map((c) => c.old?.name).filter(Boolean);
    return { kind: 'ignored', reason: deleted.length ? `push deletes ${deleted.join(', ')}: deletions are not built` : 'push changes no branch or tag' };
  }
  const ref = change.new;
  const isTag = ref.type === 'tag';
  const repo = hookRepo(push.repository);
  const commit = toCommit(ref.target, repo.link);
  const hook: Hook = {
    provider: 'bitbucket',
    deliveryId,
    event: isTag ? 'tag' : 'push',
    action: '',
    repo,
    ref: `${isTag ? 'refs/tags' : 'refs/heads'}/${ref.name}`,
    target: isTag ? '' : ref.name,
    source: ref.name,
    sourceRepo: repo.slug,
    fork: false,
    before: change.old?.target.hash ?? '',
    after: commit.sha,
    message: commit.message,
    title: '',
    link: commit.link,
    pullRequest: 0,
    author: commit.author,
    sender: login(push.actor),
    timestamp: commit.timestamp,
  };
  return { kind: 'hook', hook, requireNewHead: false };
}

function parsePullRequest(payload: unknown, event: string, deliveryId: string): HookResult {
  const parsed = readPayload(PullRequest, payload, `Bitbucket ${event} delivery`);
  const pr = parsed.pullrequest;
  if (pr.state !== 'OPEN') return { kind: 'ignored', reason: `pull request #${pr.id} is ${pr.state.toLowerCase()}` };
  const repo = hookRepo(parsed.repository);
  const source = pr.source.repository ?? { full_name: repo.slug, uuid: repo.uid };
  const destination = pr.destination.repository ?? { full_name: repo.slug, uuid: repo.uid };
  // Either a different name or a different uuid makes it a fork: atlantis' recorded fork
  // pull request has the destination's uuid on the fork, its name tells them apart.
  const fork =
    source.full_name.toLowerCase() !== destination.full_name.toLowerCase() || Boolean(source.uuid && destination.uuid && source.uuid !== destination.uuid);
  const author = pr.author ?? parsed.actor;
  const hook: Hook = {
    provider: 'bitbucket',
    deliveryId,
    event: 'pull_request',
    action: event === 'pullrequest:created' ? 'opened' : 'synchronized',
    repo,
    ref: `refs/heads/${pr.source.branch.name}`,
    target: pr.destination.branch.name,
    source: pr.source.branch.name,
    sourceRepo: source.full_name,
    fork,
    // Abbreviated (12 characters), as Bitbucket sends them; see the note at the top.
    before: pr.destination.commit.hash,
    after: pr.source.commit.hash,
    message: pr.title,
    title: pr.title,
    link: pr.links.html.href,
    pullRequest: pr.id,
    author: { login: login(author), name: author?.display_name ?? '', email: '', avatar: author?.links?.avatar?.href ?? '' },
    sender: login(parsed.actor),
    timestamp: unixSeconds(pr.updated_on),
  };
  return { kind: 'hook', hook, requireNewHead: event === 'pullrequest:updated' };
}

/**
 * Hook payloads carry no clone links, so they are derived from the web link the way
 * Bitbucket forms them. The server should prefer the clone URL it stored from the API.
 */
function hookRepo(r: z.output<typeof Repository>): HookRepo {
  const [namespace, name] = r.full_name.split('/');
  const link = r.links.html.href.replace(/\/+$/, '');
  let host = '';
  try {
    host = new URL(link).hostname;
  } catch {
    throw new HookError(`Bitbucket delivery's repository.links.html.href is not a URL: ${link}`);
  }
  return {
    uid: r.uuid ?? '',
    namespace,
    name,
    slug: r.full_name,
    cloneUrl: `${link}.git`,
    sshUrl: `git@${host}:${r.full_name}.git`,
    link,
    defaultBranch: r.mainbranch?.name ?? '',
    private: r.is_private ?? false,
  };
}

/** Bitbucket Cloud's deliveries behind the ProviderWebhook surface. */
export function bitbucketWebhook(): ProviderWebhook {
  return {
    eventHeader: 'X-Event-Key',
    recognizes: (headers) => Boolean(header(headers, 'X-Event-Key')),
    deliveryId: bitbucketDeliveryId,
    identify: identifyBitbucketRepo,
    signatureProblem: async (headers, body, secret, repo) => bitbucketSignatureProblem(headers, body, secret, repo),
    parse: parseBitbucketHook,
  };
}
