// Bitbucket Cloud behind the Scm surface. OAuth 2 on the web host (bitbucket.org, oauth.ts),
// REST 2.0 on the API host (api.bitbucket.org).
//
// Listing repositories: GET /2.0/user/permissions/repositories, the one-call answer,
// was removed by Atlassian (CHANGE-2770, answers 410 Gone since 2026). Its user-scoped
// successors are used instead, per workspace the user belongs to:
//   GET /2.0/user/workspaces                                   the workspaces
//   GET /2.0/user/workspaces/{ws}/permissions/repositories     the user's permission per repo
//   GET /2.0/repositories/{ws}?role=member                     clone links, privacy, main branch
import type { Commit, Netrc, Permission } from '../../../core/domain.ts';
import type { ProviderConfig } from '../../config.ts';
import { ApiRequester, encodePath, netrcMachine, splitSlug, type ApiCall } from '../api-request.ts';
import { bitbucketAuthorizeUrl, bitbucketToken } from './oauth.ts';
import { BitbucketCommit, toCommit } from './commit.ts';
import { ScmError, type ChangeSet, type CommitRef, type CommitState, type CommitStatus, type Scm, type ScmRepo, type ScmToken, type ScmUser } from '../scm.ts';

export const BITBUCKET_HOOK_EVENTS = ['repo:push', 'pullrequest:created', 'pullrequest:updated'];

interface Link {
  href: string;
  name?: string;
}

interface BitbucketRepo {
  uuid: string;
  full_name: string;
  slug?: string;
  is_private: boolean;
  mainbranch?: { name: string } | null;
  links: { html?: Link; clone?: Link[] };
}

interface BitbucketUser {
  uuid: string;
  username?: string | null;
  nickname?: string | null;
  account_id?: string | null;
  display_name?: string | null;
  links?: { avatar?: Link };
}

interface Page<T> {
  values: T[];
  next?: string;
}

interface RepoPermission {
  permission: string;
  repository: { uuid?: string; full_name: string };
}

/** One file of a diffstat; `old` is null for an added file, `new` for a removed one. */
interface DiffStat {
  status?: string;
  old?: { path: string } | null;
  new?: { path: string } | null;
}

/**
 * Bitbucket pages a diffstat without a cap of its own; past this many files Harrier stops
 * reading and calls the list unknown, as GitHub's pull request limit makes it there.
 */
export const BITBUCKET_DIFFSTAT_FILE_LIMIT = 3000;

const STATES: Record<CommitState, string> = {
  pending: 'INPROGRESS',
  running: 'INPROGRESS',
  success: 'SUCCESSFUL',
  failure: 'FAILED',
  error: 'FAILED',
  killed: 'STOPPED',
};

function readBitbucketError(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const b = body as { error?: { message?: string; detail?: unknown } | string; error_description?: string };
  if (typeof b.error === 'string') return b.error_description ? `${b.error}: ${b.error_description}` : b.error;
  if (!b.error) return undefined;
  const detail = typeof b.error.detail === 'string' ? b.error.detail : b.error.detail ? JSON.stringify(b.error.detail) : '';
  return [b.error.message, detail].filter(Boolean).join('; ') || undefined;
}

export class BitbucketScm implements Scm {
  readonly provider = 'bitbucket' as const;
  private readonly api: ApiRequester;

  constructor(protected readonly config: ProviderConfig) {
    this.api = new ApiRequester('bitbucket', 'Bitbucket', readBitbucketError, { Accept: 'application/json' });
  }

  get configured(): boolean {
    return Boolean(this.config.clientId && this.config.clientSecret);
  }

  authorizeUrl(state: string, redirectUri: string): string {
    return bitbucketAuthorizeUrl(this.config, state, redirectUri);
  }

  exchange(code: string, redirectUri: string): Promise<ScmToken> {
    return bitbucketToken(this.api, this.config, { grant_type: 'authorization_code', code, redirect_uri: redirectUri });
  }

  refresh(refreshToken: string): Promise<ScmToken> {
    return bitbucketToken(this.api, this.config, { grant_type: 'refresh_token', refresh_token: refreshToken });
  }

  async user(token: string): Promise<ScmUser> {
    const { data: u } = await this.api.json<BitbucketUser>({ url: this.url('/2.0/user'), token });
    return {
      id: u.uuid,
      // Bitbucket dropped usernames from its API for GDPR; the nickname took their place.
      login: u.username || u.nickname || u.account_id || u.uuid,
      email: await this.primaryEmail(token),
      avatar: u.links?.avatar?.href ?? '',
    };
  }

  private async primaryEmail(token: string): Promise<string> {
    const res = await this.api.send({ url: this.url('/2.0/user/emails'), token });
    if (!res.ok) return '';
    const page = (await res.json()) as Page<{ email: string; is_primary?: boolean; is_confirmed?: boolean }>;
    const emails = page.values ?? [];
    return (emails.find((e) => e.is_primary) ?? emails.find((e) => e.is_confirmed))?.email ?? '';
  }

  /** Workspaces the user is a member of; Bitbucket's stand-in for organisations. */
  async orgs(token: string): Promise<string[]> {
    const access = await this.all<{ workspace?: { slug?: string } }>(this.url('/2.0/user/workspaces?pagelen=100'), token);
    return access.map((a) => a.workspace?.slug ?? '').filter(Boolean);
  }

  /** The caller's permission on the workspace, from /2.0/user/permissions/workspaces filtered to its slug. */
  async orgAdmin(token: string, org: string): Promise<boolean> {
    const q = new URLSearchParams({ q: `workspace.slug="${org}"` });
    const call: ApiCall = { url: this.url(`/2.0/user/permissions/workspaces?${q}`), token };
    const res = await this.api.send(call);
    if (!res.ok) throw await this.api.failure(res, call);
    const page = (await res.json()) as Page<{ permission?: string; workspace?: { slug?: string } }>;
    return (page.values ?? []).some((p) => p.workspace?.slug === org && p.permission === 'owner');
  }

  async repos(token: string): Promise<ScmRepo[]> {
    const workspaces = await this.all<{ workspace: { slug: string } }>(this.url('/2.0/user/workspaces?pagelen=100'), token);
    const repos: ScmRepo[] = [];
    for (const { workspace } of workspaces) {
      const ws = encodeURIComponent(workspace.slug);
      const listed = await this.allOrNothing<BitbucketRepo>(this.url(`/2.0/repositories/${ws}?role=member&pagelen=100`), token);
      if (listed.length === 0) continue;
      const perms = await this.allOrNothing<RepoPermission>(this.url(`/2.0/user/workspaces/${ws}/permissions/repositories?pagelen=100`), token);
      const byRepo = new Map<string, string>();
      for (const p of perms) byRepo.set(p.repository.uuid ?? p.repository.full_name, p.permission);
      for (const r of listed) repos.push(toScmRepo(r, byRepo.get(r.uuid) ?? byRepo.get(r.full_name)));
    }
    return repos;
  }

  async repo(token: string, slug: string): Promise<ScmRepo> {
    const [ws, name] = splitSlug(slug, 'bitbucket');
    const { data } = await this.api.json<BitbucketRepo>({ url: this.url(`/2.0/repositories/${enc(ws)}/${enc(name)}`), token });
    const q = new URLSearchParams({ q: `repository.full_name="${data.full_name}"` });
    const res = await this.api.send({ url: this.url(`/2.0/user/workspaces/${enc(ws)}/permissions/repositories?${q}`), token });
    const perm = res.ok ? ((await res.json()) as Page<RepoPermission>).values?.[0]?.permission : undefined;
    return toScmRepo(data, perm);
  }

  /** A branch's `target` is its head commit in full, so a branch takes one call as a hash does. */
  async findCommit(token: string, slug: string, ref: CommitRef): Promise<Commit | null> {
    const [ws, name] = splitSlug(slug, 'bitbucket');
    const repo = `/2.0/repositories/${enc(ws)}/${enc(name)}`;
    const call: ApiCall = { url: this.url('branch' in ref ? `${repo}/refs/branches/${enc(ref.branch)}` : `${repo}/commit/${enc(ref.sha)}`), token };
    const res = await this.api.send(call);
    if (res.status === 404) return null;
    if (!res.ok) throw await this.api.failure(res, call);
    const body = (await res.json()) as { target?: unknown };
    const read = BitbucketCommit.safeParse('branch' in ref ? body.target : body);
    if (!read.success) throw new ScmError(`Bitbucket answered ${call.url} without a commit: ${read.error.issues[0].path.join('.')} ${read.error.issues[0].message}`, 502, 'bitbucket');
    return toCommit(read.data, `${this.config.url}/${slug}`);
  }

  async commitHash(token: string, slug: string, sha: string): Promise<string> {
    const [ws, name] = splitSlug(slug, 'bitbucket');
    const { data } = await this.api.json<{ hash?: string }>({ url: this.url(`/2.0/repositories/${enc(ws)}/${enc(name)}/commit/${enc(sha)}`), token });
    if (!data.hash) throw new ScmError(`Bitbucket named no hash for commit ${sha} of ${slug}`, 502, 'bitbucket');
    return data.hash;
  }

  async file(token: string, slug: string, sha: string, path: string): Promise<string | null> {
    const [ws, name] = splitSlug(slug, 'bitbucket');
    // Bitbucket resolves the 12-character hashes its pull request hooks carry here.
    const call: ApiCall = { url: this.url(`/2.0/repositories/${enc(ws)}/${enc(name)}/src/${enc(sha)}/${encodePath(path)}`), token, accept: '*/*' };
    const res = await this.api.send(call);
    if (res.status === 404) return null;
    if (!res.ok) throw await this.api.failure(res, call);
    return res.text();
  }

  async createHook(token: string, slug: string, url: string, secret: string): Promise<string> {
    const [ws, name] = splitSlug(slug, 'bitbucket');
    const { data } = await this.api.json<{ uuid: string }>({
      method: 'POST',
      url: this.url(`/2.0/repositories/${enc(ws)}/${enc(name)}/hooks`),
      token,
      json: { description: 'harrier', url, active: true, secret, events: BITBUCKET_HOOK_EVENTS },
    });
    return data.uuid;
  }

  async deleteHook(token: string, slug: string, hookId: string): Promise<void> {
    const [ws, name] = splitSlug(slug, 'bitbucket');
    const call: ApiCall = { method: 'DELETE', url: this.url(`/2.0/repositories/${enc(ws)}/${enc(name)}/hooks/${enc(hookId)}`), token };
    const res = await this.api.send(call);
    if (!res.ok && res.status !== 404) throw await this.api.failure(res, call);
  }

  async status(token: string, slug: string, sha: string, status: CommitStatus): Promise<void> {
    const [ws, name] = splitSlug(slug, 'bitbucket');
    await this.api.json({
      method: 'POST',
      url: this.url(`/2.0/repositories/${enc(ws)}/${enc(name)}/commit/${enc(sha)}/statuses/build`),
      token,
      json: { state: STATES[status.state], key: status.context, name: status.context, url: status.link, description: status.description },
    });
  }

  netrc(token: string, cloneUrl: string): Netrc {
    return { machine: netrcMachine(cloneUrl), login: 'x-token-auth', password: token };
  }

  async changedFiles(token: string, slug: string, change: ChangeSet): Promise<string[] | undefined> {
    const [ws, name] = splitSlug(slug, 'bitbucket');
    const repo = `/2.0/repositories/${enc(ws)}/${enc(name)}`;
    // A range is "new..old" in Bitbucket's spec; a single commit is diffed with its parent (a new branch).
    const path =
      change.event === 'pull_request'
        ? `${repo}/pullrequests/${change.number}/diffstat`
        : change.before && !/^0+$/.test(change.before)
          ? `${repo}/diffstat/${enc(change.after)}..${enc(change.before)}`
          : `${repo}/diffstat/${enc(change.after)}`;
    const paths = new Set<string>();
    let next: string | undefined = this.url(`${path}?pagelen=500`);
    let files = 0;
    while (next) {
      const { data }: { data: Page<DiffStat> } = await this.api.json<Page<DiffStat>>({ url: next, token });
      for (const d of data.values ?? []) {
        files++;
        if (d.old?.path) paths.add(d.old.path);
        if (d.new?.path) paths.add(d.new.path);
      }
      if (files >= BITBUCKET_DIFFSTAT_FILE_LIMIT) return undefined;
      next = data.next || undefined;
    }
    return [...paths];
  }

  /** Every value of a paginated list, following Bitbucket's absolute `next` links. */
  private async all<T>(first: string, token: string): Promise<T[]> {
    const out: T[] = [];
    let next: string | undefined = first;
    while (next) {
      const { data }: { data: Page<T> } = await this.api.json<Page<T>>({ url: next, token });
      out.push(...(data.values ?? []));
      next = data.next || undefined;
    }
    return out;
  }

  /** Like all(), but a workspace the token may not read (403, 404) lists as empty instead of failing the sync. */
  private async allOrNothing<T>(first: string, token: string): Promise<T[]> {
    try {
      return await this.all<T>(first, token);
    } catch (err) {
      if (err instanceof ScmError && (err.status === 403 || err.status === 404)) return [];
      throw err;
    }
  }

  private url(path: string): string {
    return `${this.config.apiUrl}${path}`;
  }
}

function toScmRepo(r: BitbucketRepo, permission: string | undefined): ScmRepo {
  const [namespace, slugName] = r.full_name.split('/');
  const link = r.links?.html?.href ?? '';
  const clone = r.links?.clone ?? [];
  const https = clone.find((c) => c.name === 'https') ?? clone.find((c) => c.name === 'http');
  return {
    uid: r.uuid,
    namespace,
    name: r.slug ?? slugName,
    slug: r.full_name,
    cloneUrl: https ? withoutUser(https.href) : link ? `${link}.git` : '',
    sshUrl: clone.find((c) => c.name === 'ssh')?.href ?? '',
    link,
    defaultBranch: r.mainbranch?.name ?? '',
    private: r.is_private,
    visibility: r.is_private ? 'private' : 'public',
    perm: toPermission(permission),
  };
}

/** A repository the user can list but holds no explicit permission on (a public one) is readable. */
function toPermission(permission: string | undefined): Permission {
  switch (permission) {
    case 'admin':
      return { read: true, write: true, admin: true };
    case 'write':
      return { read: true, write: true, admin: false };
    default:
      return { read: true, write: false, admin: false };
  }
}

/** Bitbucket's https clone link names the requesting user (https://user@bitbucket.org/...); git must not see that. */
function withoutUser(href: string): string {
  try {
    const u = new URL(href);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return href;
  }
}

function enc(s: string): string {
  return encodeURIComponent(s);
}
