// A local stand-in for GitHub, laid out as GitHub Enterprise Server is: the web host
// at `url` (OAuth) and the REST API under `${url}/api/v3`. It keeps state a CI
// server's end-to-end test needs: one signed-in user and token, repositories (the
// corpus's and the test's own, backed by real git repositories), hooks created,
// commit statuses posted. Anything it does not model is answered from go-scm's
// recorded fixtures, then with GitHub's 404. The routes live in github-api-routes.ts.
import { randomBytes } from 'node:crypto';
import { readCorpusJson } from './corpus.ts';
import { startFakeServer, WatchedList, type FakeRequest, type RecordedRequest } from './fake-http.ts';
import { GITHUB_API_PREFIX as API, githubNotFound, githubRoutes } from './github-api-routes.ts';
import { deliverGithubHook, githubPullRequestPayload, githubPushPayload, githubTagPushPayload, type GithubPullRequestOptions } from './github-payloads.ts';
import { gitCommitInfo, gitResolveCommit } from './local-git-repo.ts';
import type { DeliveredResponse } from './delivered.ts';

export interface GithubFakeUser {
  id: number;
  login: string;
  name: string;
  /** null: the user keeps the email private, so only /user/emails tells it. */
  email: string | null;
  /** What /user/emails lists as primary. */
  primaryEmail: string;
  avatarUrl: string;
}

export interface GithubFakeOptions {
  clientId?: string;
  clientSecret?: string;
  token?: string;
  user?: Partial<GithubFakeUser>;
  /** List the corpus's repositories (octocat/Hello-World) beside the test's own. Default true. */
  fixtureRepos?: boolean;
  /** The most /user/repos returns per page (GitHub: 100); lower it to exercise pagination. */
  maxPerPage?: number;
  /** Issue expiring tokens with a refresh token, as a GitHub App with expiring user tokens does. */
  expiringTokens?: boolean;
  /** Send a `ping` delivery to every new hook, as GitHub does right after creating one. Default false. */
  pingOnCreate?: boolean;
  /** Organisations the user belongs to (GET /user/orgs). Default none. */
  orgs?: string[];
  /** Organisations among `orgs` where the user's membership role is `admin`. Default none. */
  orgAdmins?: string[];
}

export interface AddGithubRepoOptions {
  /** owner/name */
  slug: string;
  /** Local git repository whose commits the contents API serves. */
  gitDir?: string;
  /** Default: file://<gitDir>. */
  cloneUrl?: string;
  /** In-memory files, keyed "path" (any commit) or "sha:path". Checked before gitDir. */
  files?: Record<string, string>;
  private?: boolean;
  visibility?: 'public' | 'private' | 'internal';
  defaultBranch?: string;
  permissions?: { admin: boolean; push: boolean; pull: boolean };
  id?: number;
}

export interface FakeGithubRepo {
  id: number;
  fullName: string;
  private: boolean;
  visibility: 'public' | 'private' | 'internal';
  defaultBranch: string;
  cloneUrl: string;
  sshUrl: string;
  htmlUrl: string;
  permissions: { admin: boolean; push: boolean; pull: boolean };
  gitDir?: string;
  files: Map<string, string>;
  /** Corpus repositories serve their contents from the fixtures only. */
  fromFixture: boolean;
}

export interface RecordedGithubHook {
  id: number;
  repo: string;
  url: string;
  secret: string;
  contentType: string;
  events: string[];
  active: boolean;
  insecureSsl: string;
  deleted: boolean;
}

export interface RecordedGithubStatus {
  repo: string;
  sha: string;
  state: string;
  targetUrl: string;
  description: string;
  context: string;
  at: number;
}

/** A pull request the fake announced, so its files can be listed from the git repository. */
export interface RecordedGithubPull {
  repo: string;
  number: number;
  /** Head of the base branch when the pull request was announced. */
  baseSha: string;
  headSha: string;
}

export interface GithubFake {
  /** Web host: OAuth authorize and access_token. */
  url: string;
  /** REST API base, for HARRIER_GITHUB_API_URL. */
  apiUrl: string;
  clientId: string;
  clientSecret: string;
  state: {
    user: GithubFakeUser;
    /** The one valid access token; change it to simulate a revoked token. */
    token: string;
    refreshToken: string;
    /** Logins of the organisations the user belongs to; change it between sign-ins. */
    orgs: string[];
    /** Organisations among `orgs` the user administers (membership role `admin`); the rest are `member`. */
    orgAdmins: string[];
    repos: FakeGithubRepo[];
    hooks: WatchedList<RecordedGithubHook>;
    statuses: WatchedList<RecordedGithubStatus>;
    pulls: RecordedGithubPull[];
    requests: WatchedList<RecordedRequest>;
    /** Redirects handed out by the authorize page, newest last. */
    authorizations: { code: string; redirectUri: string; state: string; scope: string }[];
    /** The next this many contents calls answer 502, as GitHub does when it is having a bad day. */
    failContents: number;
    /**
     * Run for each request before it is answered: something that happens elsewhere while the
     * caller waits for GitHub (another server storing a build), in the order a test needs it.
     */
    meanwhile?: (req: FakeRequest) => Promise<void>;
  };
  addRepo(opts: AddGithubRepoOptions): FakeGithubRepo;
  repo(slug: string): FakeGithubRepo | undefined;
  setFile(slug: string, path: string, content: string, sha?: string): void;
  waitForStatus(pred?: (s: RecordedGithubStatus) => boolean, timeoutMs?: number): Promise<RecordedGithubStatus>;
  waitForHook(pred?: (h: RecordedGithubHook) => boolean, timeoutMs?: number): Promise<RecordedGithubHook>;
  waitForRequest(pred?: (r: RecordedRequest) => boolean, timeoutMs?: number): Promise<RecordedRequest>;
  /** Sends a signed delivery to every active hook of the repository, as GitHub would. */
  deliver(slug: string, event: string, payload: unknown): Promise<DeliveredResponse[]>;
  /** Pushes a commit of the repository's git repo: builds the push payload and delivers it. */
  push(slug: string, opts: { after: string; ref?: string; before?: string }): Promise<DeliveredResponse[]>;
  pushTag(slug: string, opts: { tag: string; after: string }): Promise<DeliveredResponse[]>;
  pullRequest(slug: string, opts: Omit<GithubPullRequestOptions, 'repo'>): Promise<DeliveredResponse[]>;
  close(): Promise<void>;
}

export async function startGithubFake(opts: GithubFakeOptions = {}): Promise<GithubFake> {
  const userFixture = readCorpusJson('go-scm-api/github/user.json');

  const clientId = opts.clientId ?? 'harrier-github-client';
  const clientSecret = opts.clientSecret ?? 'harrier-github-secret';
  const user: GithubFakeUser = {
    id: userFixture.id,
    login: userFixture.login,
    name: userFixture.name,
    email: userFixture.email,
    primaryEmail: userFixture.email,
    avatarUrl: userFixture.avatar_url,
    ...opts.user,
  };
  if (opts.user?.email && !opts.user.primaryEmail) user.primaryEmail = opts.user.email;
  const maxPerPage = opts.maxPerPage ?? 100;
  const hooks = new WatchedList<RecordedGithubHook>('GitHub hook');
  const statuses = new WatchedList<RecordedGithubStatus>('GitHub commit status');

  const state: GithubFake['state'] = {
    user,
    token: opts.token ?? `gho_${randomBytes(16).toString('hex')}`,
    refreshToken: `ghr_${randomBytes(16).toString('hex')}`,
    orgs: [...(opts.orgs ?? [])],
    orgAdmins: [...(opts.orgAdmins ?? [])],
    repos: [],
    hooks,
    statuses,
    pulls: [],
    requests: undefined as unknown as WatchedList<RecordedRequest>,
    authorizations: [],
    failContents: 0,
  };

  const findRepo = (slug: string) => state.repos.find((r) => r.fullName.toLowerCase() === slug.toLowerCase());
  let baseUrl = '';
  const router = githubRoutes({
    state,
    clientId,
    clientSecret,
    maxPerPage,
    expiringTokens: Boolean(opts.expiringTokens),
    pingOnCreate: Boolean(opts.pingOnCreate),
    baseUrl: () => baseUrl,
    findRepo,
  });

  const server = await startFakeServer(router, (req) =>
    req.path.startsWith(`${API}/`) ? githubNotFound() : { status: 404, body: 'Not Found' },
  );
  baseUrl = server.url;
  state.requests = server.requests;

  function addRepo(o: AddGithubRepoOptions): FakeGithubRepo {
    const [owner, name] = o.slug.split('/');
    if (!owner || !name) throw new Error(`addRepo: "${o.slug}" is not owner/name`);
    if (findRepo(o.slug)) throw new Error(`addRepo: ${o.slug} already exists in the fake`);
    const r: FakeGithubRepo = {
      id: o.id ?? 500_000 + state.repos.length,
      fullName: o.slug,
      private: o.private ?? o.visibility !== 'public',
      visibility: o.visibility ?? (o.private === false ? 'public' : 'private'),
      defaultBranch: o.defaultBranch ?? 'main',
      cloneUrl: o.cloneUrl ?? (o.gitDir ? `file://${o.gitDir}` : `${baseUrl}/${o.slug}.git`),
      sshUrl: `git@127.0.0.1:${o.slug}.git`,
      htmlUrl: `${baseUrl}/${o.slug}`,
      permissions: o.permissions ?? { admin: true, push: true, pull: true },
      gitDir: o.gitDir,
      files: new Map(Object.entries(o.files ?? {})),
      fromFixture: false,
    };
    state.repos.push(r);
    return r;
  }

  if (opts.fixtureRepos !== false) {
    for (const fixture of readCorpusJson<any[]>('go-scm-api/github/repos.json')) {
      state.repos.push({
        id: fixture.id,
        fullName: fixture.full_name,
        private: fixture.private,
        visibility: fixture.visibility ?? (fixture.private ? 'private' : 'public'),
        defaultBranch: fixture.default_branch,
        cloneUrl: fixture.clone_url,
        sshUrl: fixture.ssh_url,
        htmlUrl: fixture.html_url,
        permissions: { admin: false, push: false, pull: false, ...fixture.permissions },
        files: new Map(),
        fromFixture: true,
      });
    }
  }

  async function deliver(slug: string, event: string, payload: unknown): Promise<DeliveredResponse[]> {
    const r = findRepo(slug);
    if (!r) throw new Error(`deliver: no repository ${slug} in the fake`);
    const targets = hooks.items.filter((h) => h.repo === r.fullName && h.active && !h.deleted && (h.events.includes(event) || h.events.includes('*')));
    return Promise.all(targets.map((h) => deliverGithubHook(h.url, event, payload, h.secret)));
  }

  async function commitOf(r: FakeGithubRepo, sha: string) {
    return r.gitDir ? ((await gitCommitInfo(r.gitDir, sha)) ?? undefined) : undefined;
  }

  return {
    url: server.url,
    apiUrl: `${server.url}${API}`,
    clientId,
    clientSecret,
    state,
    addRepo,
    repo: findRepo,
    setFile(slug, path, content, sha) {
      const r = findRepo(slug);
      if (!r) throw new Error(`setFile: no repository ${slug} in the fake`);
      r.files.set(sha ? `${sha}:${path}` : path, content);
    },
    waitForStatus: (pred, timeoutMs) => statuses.waitFor(pred, timeoutMs),
    waitForHook: (pred, timeoutMs) => hooks.waitFor(pred, timeoutMs),
    waitForRequest: (pred, timeoutMs) => server.requests.waitFor(pred, timeoutMs),
    deliver,
    async push(slug, o) {
      const r = findRepo(slug);
      if (!r) throw new Error(`push: no repository ${slug} in the fake`);
      const commit = await commitOf(r, o.after);
      return deliver(slug, 'push', githubPushPayload({ repo: r, after: o.after, ref: o.ref, before: o.before, commit, sender: { login: user.login, id: user.id, avatarUrl: user.avatarUrl } }));
    },
    async pushTag(slug, o) {
      const r = findRepo(slug);
      if (!r) throw new Error(`pushTag: no repository ${slug} in the fake`);
      const commit = await commitOf(r, o.after);
      return deliver(slug, 'push', githubTagPushPayload({ repo: r, tag: o.tag, after: o.after, commit, sender: { login: user.login, id: user.id, avatarUrl: user.avatarUrl } }));
    },
    async pullRequest(slug, o) {
      const r = findRepo(slug);
      if (!r) throw new Error(`pullRequest: no repository ${slug} in the fake`);
      const baseSha = o.base?.sha ?? (r.gitDir ? await gitResolveCommit(r.gitDir, o.base?.ref ?? r.defaultBranch) : null);
      if (baseSha) {
        state.pulls = state.pulls.filter((p) => !(p.repo === r.fullName && p.number === o.number));
        state.pulls.push({ repo: r.fullName, number: o.number, baseSha, headSha: o.head.sha });
      }
      return deliver(slug, 'pull_request', githubPullRequestPayload({ author: { login: user.login, id: user.id, avatarUrl: user.avatarUrl }, ...o, repo: r }));
    },
    close: server.close,
  };
}
