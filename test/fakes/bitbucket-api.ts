// A local stand-in for Bitbucket Cloud: the web host at `url` (OAuth 2 under /site/oauth2)
// and the REST 2.0 API under `${url}/api` (apiUrl), as bitbucket.org and
// api.bitbucket.org are split. It keeps the state an end-to-end test needs: one
// user and token, workspaces and repositories (the corpus's and the test's own,
// backed by real git repositories), hooks, commit statuses. Anything it does not
// model is answered from go-scm's recorded fixtures, then with Bitbucket's 404.
// The routes live in bitbucket-api-routes.ts.
import { randomBytes, randomUUID } from 'node:crypto';
import { BITBUCKET_API_PREFIX as API, bitbucketError, bitbucketRoutes } from './bitbucket-api-routes.ts';
import { bitbucketPullRequestPayload, bitbucketPushPayload, deliverBitbucketHook, type BitbucketPullRequestOptions } from './bitbucket-payloads.ts';
import { readCorpusJson } from './corpus.ts';
import { startFakeServer, WatchedList, type RecordedRequest } from './fake-http.ts';
import { gitCommitInfo, gitResolveCommit } from './local-git-repo.ts';
import type { DeliveredResponse } from './delivered.ts';

export type BitbucketPermission = 'admin' | 'write' | 'read' | 'none';

export interface BitbucketFakeUser {
  uuid: string;
  accountId: string;
  nickname: string;
  displayName: string;
  email: string;
  avatarUrl: string;
}

export interface BitbucketFakeOptions {
  clientId?: string;
  clientSecret?: string;
  token?: string;
  user?: Partial<BitbucketFakeUser>;
  /** Where authorize sends the user when the request names no redirect_uri (the consumer's callback URL). */
  callbackUrl?: string;
  /** List the corpus's repository (atlassian/stash-example-plugin). Default true. */
  fixtureRepos?: boolean;
  /** The most any list returns per page (Bitbucket: 100); lower it to exercise pagination. */
  maxPageLen?: number;
  /** Workspaces the user belongs to beyond their own and those of their repositories. Default none. */
  workspaces?: string[];
  /** Workspaces (own or among `workspaces`) where the user's permission is `owner`; their own always is. Default none. */
  workspaceOwners?: string[];
}

export interface AddBitbucketRepoOptions {
  /** workspace/repo_slug */
  slug: string;
  gitDir?: string;
  /** Default: file://<gitDir>. */
  cloneUrl?: string;
  /** In-memory files, keyed "path" (any commit) or "sha:path". Checked before gitDir. */
  files?: Record<string, string>;
  private?: boolean;
  defaultBranch?: string;
  permission?: BitbucketPermission;
  uuid?: string;
}

export interface FakeBitbucketRepo {
  uuid: string;
  fullName: string;
  private: boolean;
  defaultBranch: string;
  cloneUrl: string;
  sshUrl: string;
  htmlUrl: string;
  permission: BitbucketPermission;
  gitDir?: string;
  files: Map<string, string>;
  fromFixture: boolean;
}

export interface RecordedBitbucketHook {
  uuid: string;
  repo: string;
  url: string;
  secret: string;
  description: string;
  events: string[];
  active: boolean;
  deleted: boolean;
}

export interface RecordedBitbucketStatus {
  repo: string;
  /** The hash as the client sent it (may be abbreviated). */
  sha: string;
  /** The full hash, when the repository has a git repo to resolve it in. */
  fullSha: string;
  state: string;
  key: string;
  name: string;
  url: string;
  description: string;
  at: number;
}

/** A pull request the fake announced, so its diffstat can be computed from the git repository. */
export interface RecordedBitbucketPull {
  repo: string;
  id: number;
  /** Head of the destination branch when the pull request was announced. */
  destinationHash: string;
  sourceHash: string;
}

export interface BitbucketFake {
  /** Web host: /site/oauth2/authorize and /site/oauth2/access_token. */
  url: string;
  /** API base, for HARRIER_BITBUCKET_API_URL; calls go to `${apiUrl}/2.0/...`. */
  apiUrl: string;
  clientId: string;
  clientSecret: string;
  state: {
    user: BitbucketFakeUser;
    token: string;
    refreshToken: string;
    /** Workspaces the user belongs to beyond their own and those of their repositories; change it between sign-ins. */
    workspaces: string[];
    /** Workspaces the user owns besides their own; in every other workspace they are a `member`. */
    workspaceOwners: string[];
    repos: FakeBitbucketRepo[];
    hooks: WatchedList<RecordedBitbucketHook>;
    statuses: WatchedList<RecordedBitbucketStatus>;
    pulls: RecordedBitbucketPull[];
    requests: WatchedList<RecordedRequest>;
    authorizations: { code: string; redirectUri: string; state: string }[];
  };
  addRepo(opts: AddBitbucketRepoOptions): FakeBitbucketRepo;
  repo(slug: string): FakeBitbucketRepo | undefined;
  setFile(slug: string, path: string, content: string, sha?: string): void;
  waitForStatus(pred?: (s: RecordedBitbucketStatus) => boolean, timeoutMs?: number): Promise<RecordedBitbucketStatus>;
  waitForHook(pred?: (h: RecordedBitbucketHook) => boolean, timeoutMs?: number): Promise<RecordedBitbucketHook>;
  waitForRequest(pred?: (r: RecordedRequest) => boolean, timeoutMs?: number): Promise<RecordedRequest>;
  /** Sends a signed delivery to every active hook of the repository subscribed to the event. */
  deliver(slug: string, event: string, payload: unknown): Promise<DeliveredResponse[]>;
  /** Announces a commit of the repository's git repo; `created` marks a new branch (no previous commit). */
  push(slug: string, opts: { after: string; branch?: string; tag?: string; before?: string; created?: boolean }): Promise<DeliveredResponse[]>;
  pullRequest(slug: string, event: 'pullrequest:created' | 'pullrequest:updated' | 'pullrequest:fulfilled' | 'pullrequest:rejected', opts: Omit<BitbucketPullRequestOptions, 'repo'>): Promise<DeliveredResponse[]>;
  close(): Promise<void>;
}

export async function startBitbucketFake(opts: BitbucketFakeOptions = {}): Promise<BitbucketFake> {
  const userFixture = readCorpusJson('go-scm-api/bitbucket/user.json');
  const repoFixture = readCorpusJson('go-scm-api/bitbucket/repo.json');

  const clientId = opts.clientId ?? 'harrier-bitbucket-key';
  const clientSecret = opts.clientSecret ?? 'harrier-bitbucket-secret';
  const user: BitbucketFakeUser = {
    uuid: userFixture.uuid,
    accountId: userFixture.account_id,
    nickname: userFixture.username,
    displayName: userFixture.display_name,
    email: 'brad@example.com',
    avatarUrl: userFixture.links.avatar.href,
    ...opts.user,
  };
  const maxPageLen = opts.maxPageLen ?? 100;
  const hooks = new WatchedList<RecordedBitbucketHook>('Bitbucket hook');
  const statuses = new WatchedList<RecordedBitbucketStatus>('Bitbucket commit status');

  const state: BitbucketFake['state'] = {
    user,
    token: opts.token ?? randomBytes(24).toString('base64url'),
    refreshToken: randomBytes(12).toString('base64url'),
    workspaces: [...(opts.workspaces ?? [])],
    workspaceOwners: [...(opts.workspaceOwners ?? [])],
    repos: [],
    hooks,
    statuses,
    pulls: [],
    requests: undefined as unknown as WatchedList<RecordedRequest>,
    authorizations: [],
  };

  const findRepo = (slug: string) => state.repos.find((r) => r.fullName.toLowerCase() === slug.toLowerCase());
  let baseUrl = '';
  const router = bitbucketRoutes({ state, clientId, clientSecret, maxPageLen, callbackUrl: opts.callbackUrl, baseUrl: () => baseUrl, findRepo });

  const server = await startFakeServer(router, (req) =>
    req.path.startsWith(`${API}/`) ? bitbucketError(404, `Resource not found: ${req.path.slice(API.length)}`) : { status: 404, body: 'Not Found' },
  );
  baseUrl = server.url;
  state.requests = server.requests;

  function addRepo(o: AddBitbucketRepoOptions): FakeBitbucketRepo {
    const [ws, slug] = o.slug.split('/');
    if (!ws || !slug) throw new Error(`addRepo: "${o.slug}" is not workspace/slug`);
    if (findRepo(o.slug)) throw new Error(`addRepo: ${o.slug} already exists in the fake`);
    const r: FakeBitbucketRepo = {
      uuid: o.uuid ?? `{${randomUUID()}}`,
      fullName: o.slug,
      private: o.private ?? true,
      defaultBranch: o.defaultBranch ?? 'main',
      cloneUrl: o.cloneUrl ?? (o.gitDir ? `file://${o.gitDir}` : `${baseUrl}/${o.slug}.git`),
      sshUrl: `git@127.0.0.1:${o.slug}.git`,
      htmlUrl: `${baseUrl}/${o.slug}`,
      permission: o.permission ?? 'admin',
      gitDir: o.gitDir,
      files: new Map(Object.entries(o.files ?? {})),
      fromFixture: false,
    };
    state.repos.push(r);
    return r;
  }

  if (opts.fixtureRepos !== false) {
    const https = repoFixture.links.clone.find((c: any) => c.name === 'https');
    const ssh = repoFixture.links.clone.find((c: any) => c.name === 'ssh');
    state.repos.push({
      uuid: repoFixture.uuid,
      fullName: repoFixture.full_name,
      private: repoFixture.is_private,
      defaultBranch: repoFixture.mainbranch.name,
      cloneUrl: https.href,
      sshUrl: ssh.href,
      htmlUrl: repoFixture.links.html.href,
      permission: 'admin',
      files: new Map(),
      fromFixture: true,
    });
  }

  async function deliver(slug: string, event: string, payload: unknown): Promise<DeliveredResponse[]> {
    const r = findRepo(slug);
    if (!r) throw new Error(`deliver: no repository ${slug} in the fake`);
    const targets = hooks.items.filter((h) => h.repo === r.fullName && h.active && !h.deleted && h.events.includes(event));
    return Promise.all(targets.map((h) => deliverBitbucketHook(h.url, event, payload, h.secret, { hookId: h.uuid })));
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
      const commit = r.gitDir ? ((await gitCommitInfo(r.gitDir, o.after)) ?? undefined) : undefined;
      const actor = { nickname: user.nickname, displayName: user.displayName, uuid: user.uuid, accountId: user.accountId };
      return deliver(slug, 'repo:push', bitbucketPushPayload({ repo: r, after: o.after, branch: o.branch, tag: o.tag, before: o.created || o.tag ? undefined : (o.before ?? commit?.parent), commit, actor }));
    },
    async pullRequest(slug, event, o) {
      const r = findRepo(slug);
      if (!r) throw new Error(`pullRequest: no repository ${slug} in the fake`);
      const destinationHash = o.destination?.hash ?? (r.gitDir ? await gitResolveCommit(r.gitDir, o.destination?.branch ?? r.defaultBranch) : null);
      if (destinationHash) {
        state.pulls = state.pulls.filter((p) => !(p.repo === r.fullName && p.id === o.id));
        state.pulls.push({ repo: r.fullName, id: o.id, destinationHash, sourceHash: o.source.hash });
      }
      const author = { nickname: user.nickname, displayName: user.displayName, uuid: user.uuid, accountId: user.accountId };
      return deliver(slug, event, bitbucketPullRequestPayload({ author, ...o, repo: r }));
    },
    close: server.close,
  };
}
