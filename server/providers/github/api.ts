// GitHub (github.com or GitHub Enterprise Server) behind the Scm surface.
// OAuth web flow on the web host (oauth.ts); REST v3 on the API host.
import type { Commit, Netrc } from '../../../core/domain.ts';
import { unixSeconds } from '../hook-delivery.ts';
import type { ProviderConfig } from '../../config.ts';
import { ApiRequester, encodePath, netrcMachine, splitSlug, type ApiCall } from '../api-request.ts';
import { githubAuthorizeUrl, githubToken } from './oauth.ts';

export { GITHUB_SCOPES } from './oauth.ts';
import { ScmError, type ChangeSet, type CommitRef, type CommitState, type CommitStatus, type Scm, type ScmRepo, type ScmToken, type ScmUser } from '../scm.ts';

export const GITHUB_HOOK_EVENTS = ['push', 'pull_request', 'create', 'delete'];

interface GithubRepo {
  id: number;
  name: string;
  full_name: string;
  owner: { login: string };
  private: boolean;
  visibility?: string;
  html_url: string;
  clone_url: string;
  ssh_url: string;
  default_branch?: string;
  permissions?: { admin?: boolean; push?: boolean; pull?: boolean };
}

interface GithubUser {
  id: number;
  login: string;
  email: string | null;
  avatar_url: string;
}

interface GithubContent {
  type: string;
  content?: string;
  encoding?: string;
  size?: number;
}

/** GET /repos/{owner}/{repo}/commits/{ref}, the parts a build takes. */
interface GithubCommit {
  sha: string;
  html_url?: string;
  commit?: { message?: string; author?: { name?: string; email?: string; date?: string } | null };
  /** The account GitHub links the author's email to; null when it links none. */
  author?: { login?: string; avatar_url?: string } | null;
}

/** A changed file in compare, commit and pull request files answers. */
interface GithubFile {
  filename: string;
  /** The old path of a renamed file. */
  previous_filename?: string;
}

/** GitHub lists at most this many files for a compare or a commit; a full list may have been cut. */
export const GITHUB_DIFF_FILE_LIMIT = 300;
/** GitHub lists at most this many files of a pull request, across all pages. */
export const GITHUB_PULL_FILE_LIMIT = 3000;

const STATES: Record<CommitState, string> = {
  pending: 'pending',
  running: 'pending',
  success: 'success',
  failure: 'failure',
  error: 'error',
  killed: 'error',
};

/** GitHub refuses descriptions longer than this with a 422. */
const MAX_DESCRIPTION = 140;

function readGithubError(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const b = body as { message?: string; errors?: { message?: string; code?: string; field?: string }[]; error_description?: string };
  const details = (b.errors ?? []).map((e) => e.message ?? [e.field, e.code].filter(Boolean).join(' ')).filter(Boolean);
  const message = b.message ?? b.error_description;
  return [message, ...details].filter(Boolean).join('; ') || undefined;
}

export class GithubScm implements Scm {
  readonly provider = 'github' as const;
  private readonly api: ApiRequester;

  constructor(protected readonly config: ProviderConfig) {
    this.api = new ApiRequester('github', 'GitHub', readGithubError, {
      Accept: 'application/vnd.github+json',
      'X-GitHub-Api-Version': '2022-11-28',
    });
  }

  get configured(): boolean {
    return Boolean(this.config.clientId && this.config.clientSecret);
  }

  authorizeUrl(state: string, redirectUri: string): string {
    return githubAuthorizeUrl(this.config, state, redirectUri);
  }

  exchange(code: string, redirectUri: string): Promise<ScmToken> {
    return githubToken(this.api, this.config, { code, redirect_uri: redirectUri });
  }

  refresh(refreshToken: string): Promise<ScmToken> {
    return githubToken(this.api, this.config, { grant_type: 'refresh_token', refresh_token: refreshToken });
  }

  async user(token: string): Promise<ScmUser> {
    const { data: u } = await this.api.json<GithubUser>({ url: this.url('/user'), token });
    return { id: String(u.id), login: u.login, email: u.email || (await this.primaryEmail(token)), avatar: u.avatar_url ?? '' };
  }

  /** /user has no email when the user keeps it private; the user:email scope still lets us read it. */
  private async primaryEmail(token: string): Promise<string> {
    const res = await this.api.send({ url: this.url('/user/emails'), token });
    if (!res.ok) return '';
    const emails = (await res.json()) as { email: string; primary?: boolean; verified?: boolean }[];
    const primary = emails.find((e) => e.primary && e.verified) ?? emails.find((e) => e.verified);
    return primary?.email ?? '';
  }

  /** GET /user/orgs needs the read:org scope, which sign-in asks for. */
  async orgs(token: string): Promise<string[]> {
    const orgs: string[] = [];
    let next: string | undefined = this.url('/user/orgs?per_page=100');
    while (next) {
      const { data, res }: { data: ({ login?: string } | null)[]; res: Response } = await this.api.json<({ login?: string } | null)[]>({ url: next, token });
      for (const o of data ?? []) if (o?.login) orgs.push(o.login);
      next = nextLink(res.headers.get('link'));
    }
    return orgs;
  }

  /** GET /user/memberships/orgs/{org}: the caller's own membership, readable with read:org. */
  async orgAdmin(token: string, org: string): Promise<boolean> {
    const call: ApiCall = { url: this.url(`/user/memberships/orgs/${enc(org)}`), token };
    const res = await this.api.send(call);
    // 404: not a member, or no such organisation (a user account has no memberships); 403: the org restricts OAuth apps.
    if (res.status === 404 || res.status === 403) return false;
    if (!res.ok) throw await this.api.failure(res, call);
    const m = (await res.json()) as { state?: string; role?: string };
    return m.state === 'active' && m.role === 'admin';
  }

  async repos(token: string): Promise<ScmRepo[]> {
    const repos: ScmRepo[] = [];
    let next: string | undefined = this.url('/user/repos?per_page=100');
    while (next) {
      const { data, res }: { data: (GithubRepo | null)[]; res: Response } = await this.api.json<(GithubRepo | null)[]>({ url: next, token });
      // GitHub has been seen to put null entries in this list; they name nothing.
      for (const r of data ?? []) if (r) repos.push(toScmRepo(r));
      next = nextLink(res.headers.get('link'));
    }
    return repos;
  }

  async repo(token: string, slug: string): Promise<ScmRepo> {
    const [owner, name] = splitSlug(slug, 'github');
    const { data } = await this.api.json<GithubRepo>({ url: this.url(`/repos/${enc(owner)}/${enc(name)}`), token });
    return toScmRepo(data);
  }

  async commitHash(token: string, slug: string, sha: string): Promise<string> {
    const [owner, name] = splitSlug(slug, 'github');
    const call: ApiCall = { url: this.url(`/repos/${enc(owner)}/${enc(name)}/commits/${enc(sha)}`), token, accept: 'application/vnd.github.sha' };
    const res = await this.api.send(call);
    if (!res.ok) throw await this.api.failure(res, call);
    return (await res.text()).trim();
  }

  async findCommit(token: string, slug: string, ref: CommitRef): Promise<Commit | null> {
    const [owner, name] = splitSlug(slug, 'github');
    const call: ApiCall = { url: this.url(`/repos/${enc(owner)}/${enc(name)}/commits/${enc('branch' in ref ? ref.branch : ref.sha)}`), token };
    const res = await this.api.send(call);
    // 404: no such branch; 409: the repository is empty; 422: the name is no commit.
    if (res.status === 404 || res.status === 409 || res.status === 422) return null;
    if (!res.ok) throw await this.api.failure(res, call);
    return toCommit((await res.json()) as GithubCommit);
  }

  async file(token: string, slug: string, sha: string, path: string): Promise<string | null> {
    const [owner, name] = splitSlug(slug, 'github');
    const url = this.url(`/repos/${enc(owner)}/${enc(name)}/contents/${encodePath(path)}?ref=${enc(sha)}`);
    const call: ApiCall = { url, token };
    const res = await this.api.send(call);
    if (res.status === 404) return null;
    if (!res.ok) throw await this.api.failure(res, call);
    const body = (await res.json()) as GithubContent | GithubContent[];
    if (Array.isArray(body) || body.type !== 'file') {
      throw new ScmError(`${path} in ${slug} at ${sha} is a ${Array.isArray(body) ? 'directory' : body.type}, not a file`, 422, 'github');
    }
    if (body.encoding === 'base64') return Buffer.from(body.content ?? '', 'base64').toString('utf8');
    // Files over 1 MB come back without content (encoding "none"); the raw media type has them.
    const raw: ApiCall = { url, token, accept: 'application/vnd.github.raw' };
    const rawRes = await this.api.send(raw);
    if (!rawRes.ok) throw await this.api.failure(rawRes, raw);
    return rawRes.text();
  }

  async createHook(token: string, slug: string, url: string, secret: string): Promise<string> {
    const [owner, name] = splitSlug(slug, 'github');
    const { data } = await this.api.json<{ id: number }>({
      method: 'POST',
      url: this.url(`/repos/${enc(owner)}/${enc(name)}/hooks`),
      token,
      json: { name: 'web', active: true, events: GITHUB_HOOK_EVENTS, config: { url, content_type: 'json', secret, insecure_ssl: '0' } },
    });
    return String(data.id);
  }

  async deleteHook(token: string, slug: string, hookId: string): Promise<void> {
    const [owner, name] = splitSlug(slug, 'github');
    const call: ApiCall = { method: 'DELETE', url: this.url(`/repos/${enc(owner)}/${enc(name)}/hooks/${enc(hookId)}`), token };
    const res = await this.api.send(call);
    // Already gone (deleted by hand on GitHub) is what we wanted.
    if (!res.ok && res.status !== 404) throw await this.api.failure(res, call);
  }

  async status(token: string, slug: string, sha: string, status: CommitStatus): Promise<void> {
    const [owner, name] = splitSlug(slug, 'github');
    await this.api.json({
      method: 'POST',
      url: this.url(`/repos/${enc(owner)}/${enc(name)}/statuses/${enc(sha)}`),
      token,
      json: {
        state: STATES[status.state],
        target_url: status.link,
        description: truncate(status.description, MAX_DESCRIPTION),
        context: status.context,
      },
    });
  }

  netrc(token: string, cloneUrl: string): Netrc {
    return { machine: netrcMachine(cloneUrl), login: token, password: 'x-oauth-basic' };
  }

  async changedFiles(token: string, slug: string, change: ChangeSet): Promise<string[] | undefined> {
    const [owner, name] = splitSlug(slug, 'github');
    const repo = `/repos/${enc(owner)}/${enc(name)}`;
    if (change.event === 'pull_request') return this.pullRequestFiles(token, `${repo}/pulls/${change.number}/files?per_page=100`);
    // A new branch has no `before` to compare with: its pushed commit's own changes count.
    const path = isZeroSha(change.before) ? `${repo}/commits/${enc(change.after)}` : `${repo}/compare/${enc(change.before)}...${enc(change.after)}`;
    const { data } = await this.api.json<{ files?: GithubFile[] }>({ url: this.url(path), token });
    const files = data?.files ?? [];
    return files.length >= GITHUB_DIFF_FILE_LIMIT ? undefined : filePaths(files);
  }

  private async pullRequestFiles(token: string, first: string): Promise<string[] | undefined> {
    const files: GithubFile[] = [];
    let next: string | undefined = this.url(first);
    while (next) {
      const { data, res }: { data: GithubFile[]; res: Response } = await this.api.json<GithubFile[]>({ url: next, token });
      files.push(...(data ?? []));
      if (files.length >= GITHUB_PULL_FILE_LIMIT) return undefined;
      next = nextLink(res.headers.get('link'));
    }
    return filePaths(files);
  }

  private url(path: string): string {
    return `${this.config.apiUrl}${path}`;
  }
}

function toScmRepo(r: GithubRepo): ScmRepo {
  const p = r.permissions ?? {};
  const visibility = r.visibility === 'internal' || r.visibility === 'private' || r.visibility === 'public' ? r.visibility : r.private ? 'private' : 'public';
  return {
    uid: String(r.id),
    namespace: r.owner?.login ?? r.full_name.split('/')[0],
    name: r.name,
    slug: r.full_name,
    cloneUrl: r.clone_url,
    sshUrl: r.ssh_url,
    link: r.html_url,
    defaultBranch: r.default_branch ?? '',
    private: r.private,
    visibility,
    perm: { read: Boolean(p.pull || p.push || p.admin), write: Boolean(p.push || p.admin), admin: Boolean(p.admin) },
  };
}

function toCommit(c: GithubCommit): Commit {
  const author = c.commit?.author;
  return {
    sha: c.sha,
    message: c.commit?.message ?? '',
    link: c.html_url ?? '',
    timestamp: unixSeconds(author?.date),
    author: { login: c.author?.login ?? '', name: author?.name ?? '', email: author?.email ?? '', avatar: c.author?.avatar_url ?? '' },
  };
}

/** The rel="next" target of a Link header, if there is one. */
export function nextLink(link: string | null): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?([^";]+)"?/.exec(part.trim());
    if (m && m[2].split(/\s+/).includes('next')) return m[1];
  }
  return undefined;
}

function isZeroSha(sha: string): boolean {
  return !sha || /^0+$/.test(sha);
}

/** Each path once, a renamed file's old path too (a move out of docs/ changes docs/). */
function filePaths(files: GithubFile[]): string[] {
  const paths = new Set<string>();
  for (const f of files) {
    if (f.previous_filename) paths.add(f.previous_filename);
    if (f.filename) paths.add(f.filename);
  }
  return [...paths];
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
