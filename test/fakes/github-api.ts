// A local stand-in for GitHub, laid out as GitHub Enterprise Server is: the web host
// at `url` (OAuth) and the REST API under `${url}/api/v3`. It keeps state a CI
// server's end-to-end test needs: one signed-in user and token, repositories (the
// corpus's and the test's own, backed by real git repositories), hooks created,
// commit statuses posted. Anything it does not model is answered from go-scm's
// recorded fixtures, then with GitHub's 404.
import { createHash, randomBytes } from 'node:crypto';
import { clone, readCorpusJson } from './corpus.ts';
import {
  bearerToken,
  fixtureFallback,
  json,
  parseFormBody,
  parseJsonBody,
  Router,
  startFakeServer,
  WatchedList,
  type FakeRequest,
  type FakeResponse,
  type RecordedRequest,
} from './fake-http.ts';
import { deliverGithubHook, githubPullRequestPayload, githubPushPayload, githubTagPushPayload, type GithubPullRequestOptions } from './github-payloads.ts';
import { gitCommitInfo, gitResolveCommit, gitShowFile } from './local-git-repo.ts';

const API = '/api/v3';
const DOCS = 'https://docs.github.com/rest';
const STATES = ['pending', 'success', 'failure', 'error'];

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
    repos: FakeGithubRepo[];
    hooks: WatchedList<RecordedGithubHook>;
    statuses: WatchedList<RecordedGithubStatus>;
    requests: WatchedList<RecordedRequest>;
    /** Redirects handed out by the authorize page, newest last. */
    authorizations: { code: string; redirectUri: string; state: string; scope: string }[];
  };
  addRepo(opts: AddGithubRepoOptions): FakeGithubRepo;
  repo(slug: string): FakeGithubRepo | undefined;
  setFile(slug: string, path: string, content: string, sha?: string): void;
  waitForStatus(pred?: (s: RecordedGithubStatus) => boolean, timeoutMs?: number): Promise<RecordedGithubStatus>;
  waitForHook(pred?: (h: RecordedGithubHook) => boolean, timeoutMs?: number): Promise<RecordedGithubHook>;
  waitForRequest(pred?: (r: RecordedRequest) => boolean, timeoutMs?: number): Promise<RecordedRequest>;
  /** Sends a signed delivery to every active hook of the repository, as GitHub would. */
  deliver(slug: string, event: string, payload: unknown): Promise<Response[]>;
  /** Pushes a commit of the repository's git repo: builds the push payload and delivers it. */
  push(slug: string, opts: { after: string; ref?: string; before?: string }): Promise<Response[]>;
  pushTag(slug: string, opts: { tag: string; after: string }): Promise<Response[]>;
  pullRequest(slug: string, opts: Omit<GithubPullRequestOptions, 'repo'>): Promise<Response[]>;
  close(): Promise<void>;
}

export async function startGithubFake(opts: GithubFakeOptions = {}): Promise<GithubFake> {
  const userFixture = readCorpusJson('go-scm-api/github/user.json');
  const repoFixture = readCorpusJson('go-scm-api/github/repo.json');
  const hookFixture = readCorpusJson('go-scm-api/github/hook.json');
  const statusFixture = readCorpusJson('go-scm-api/github/status.json');
  const contentFixture = readCorpusJson('go-scm-api/github/content.json');
  const commitFixture = readCorpusJson('go-scm-api/github/commit.json');

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
  const codes = new Map<string, { redirectUri: string; scope: string }>();
  let nextHookId = 1;
  let baseUrl = '';

  const state: GithubFake['state'] = {
    user,
    token: opts.token ?? `gho_${randomBytes(16).toString('hex')}`,
    refreshToken: `ghr_${randomBytes(16).toString('hex')}`,
    repos: [],
    hooks,
    statuses,
    requests: undefined as unknown as WatchedList<RecordedRequest>,
    authorizations: [],
  };

  const findRepo = (slug: string) => state.repos.find((r) => r.fullName.toLowerCase() === slug.toLowerCase());

  function repoJson(r: FakeGithubRepo): any {
    const body = clone(repoFixture);
    delete body.parent;
    delete body.source;
    delete body.organization;
    const [owner, name] = r.fullName.split('/');
    const renamed = JSON.parse(JSON.stringify(body).split('octocat/Hello-World').join(r.fullName));
    return Object.assign(renamed, {
      id: r.id,
      name,
      full_name: r.fullName,
      owner: { ...renamed.owner, login: owner, html_url: `${baseUrl}/${owner}` },
      private: r.private,
      visibility: r.visibility,
      fork: false,
      archived: false,
      html_url: r.htmlUrl,
      clone_url: r.cloneUrl,
      ssh_url: r.sshUrl,
      default_branch: r.defaultBranch,
      permissions: { ...r.permissions },
    });
  }

  function notFound(): FakeResponse {
    return json(404, { message: 'Not Found', documentation_url: DOCS });
  }

  /** GitHub's API answers 401 before anything else when the token is missing or wrong. */
  function authorized(req: FakeRequest): FakeResponse | undefined {
    const token = bearerToken(req);
    if (!token) return json(401, { message: 'Requires authentication', documentation_url: DOCS });
    if (token !== state.token) return json(401, { message: 'Bad credentials', documentation_url: DOCS });
    return undefined;
  }

  /** The repository if the user can see it; GitHub says 404, not 403, for repositories you cannot see. */
  function visibleRepo(req: FakeRequest): FakeGithubRepo | undefined {
    const r = findRepo(`${req.params.owner}/${req.params.repo}`);
    return r && (r.permissions.pull || !r.private) ? r : undefined;
  }

  async function readFile(r: FakeGithubRepo, ref: string, path: string): Promise<{ found: 'file'; content: Buffer } | { found: 'no-ref' } | { found: 'no-file' }> {
    const inMemory = r.files.get(`${ref}:${path}`) ?? r.files.get(path);
    if (inMemory !== undefined) return { found: 'file', content: Buffer.from(inMemory) };
    if (!r.gitDir) return { found: 'no-file' };
    if (!(await gitResolveCommit(r.gitDir, ref || r.defaultBranch))) return { found: 'no-ref' };
    const content = await gitShowFile(r.gitDir, ref || r.defaultBranch, path);
    return content ? { found: 'file', content } : { found: 'no-file' };
  }

  const router = new Router();

  // --- OAuth web flow -------------------------------------------------------
  router.on('GET', '/login/oauth/authorize', (req) => {
    if (req.query.get('client_id') !== clientId) return { status: 404, body: 'Not Found: unknown OAuth client_id' };
    const redirectUri = req.query.get('redirect_uri') ?? '';
    if (!/^https?:\/\//.test(redirectUri)) return { status: 400, body: 'The redirect_uri is missing or not an http(s) URL' };
    const code = randomBytes(10).toString('hex');
    const scope = req.query.get('scope') ?? '';
    const st = req.query.get('state') ?? '';
    codes.set(code, { redirectUri, scope });
    state.authorizations.push({ code, redirectUri, state: st, scope });
    // As if the user clicked "Authorize".
    const target = new URL(redirectUri);
    target.searchParams.set('code', code);
    if (st) target.searchParams.set('state', st);
    return { status: 302, headers: { Location: target.toString() } };
  });

  router.on('POST', '/login/oauth/access_token', (req) => {
    const form = parseFormBody(req);
    const wantsJson = String(req.headers.accept ?? '').includes('json');
    // GitHub answers OAuth errors with 200 and an error field.
    const answer = (body: Record<string, unknown>): FakeResponse =>
      wantsJson
        ? json(200, body)
        : { status: 200, headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(Object.entries(body).map(([k, v]): [string, string] => [k, String(v)])).toString() };
    if (form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret) {
      return answer({ error: 'incorrect_client_credentials', error_description: 'The client_id and/or client_secret passed are incorrect.' });
    }
    if (form.get('grant_type') === 'refresh_token') {
      if (form.get('refresh_token') !== state.refreshToken) {
        return answer({ error: 'bad_refresh_token', error_description: 'The refresh token passed is incorrect or expired.' });
      }
      return answer(tokenBody('repo'));
    }
    const code = form.get('code') ?? '';
    const issued = codes.get(code);
    if (!issued) return answer({ error: 'bad_verification_code', error_description: 'The code passed is incorrect or expired.' });
    const redirectUri = form.get('redirect_uri');
    if (redirectUri && redirectUri !== issued.redirectUri) {
      return answer({ error: 'redirect_uri_mismatch', error_description: 'The redirect_uri MUST match the registered callback URL for this application.' });
    }
    codes.delete(code);
    return answer(tokenBody(issued.scope));
  });

  function tokenBody(scope: string): Record<string, unknown> {
    const body: Record<string, unknown> = { access_token: state.token, token_type: 'bearer', scope };
    if (opts.expiringTokens) Object.assign(body, { expires_in: 28800, refresh_token: state.refreshToken, refresh_token_expires_in: 15811200 });
    return body;
  }

  // --- REST API -------------------------------------------------------------
  router.any((req) => (req.path.startsWith(`${API}/`) ? authorized(req) : undefined));

  router.on('GET', `${API}/user`, () =>
    json(200, {
      ...clone(userFixture),
      id: user.id,
      login: user.login,
      name: user.name,
      email: user.email,
      avatar_url: user.avatarUrl,
      html_url: `${baseUrl}/${user.login}`,
    }),
  );

  router.on('GET', `${API}/user/emails`, () =>
    json(200, [{ email: user.primaryEmail, primary: true, verified: true, visibility: user.email ? 'public' : 'private' }]),
  );

  router.on('GET', `${API}/user/repos`, (req) => {
    const perPage = Math.min(Math.max(Number(req.query.get('per_page') ?? 30) || 30, 1), maxPerPage);
    const page = Math.max(Number(req.query.get('page') ?? 1) || 1, 1);
    const visible = state.repos.filter((r) => r.permissions.pull);
    const slice = visible.slice((page - 1) * perPage, page * perPage);
    const last = Math.max(Math.ceil(visible.length / perPage), 1);
    const link = (p: number) => `<${baseUrl}${API}/user/repos?per_page=${perPage}&page=${p}>`;
    const links: string[] = [];
    if (page < last) links.push(`${link(page + 1)}; rel="next"`, `${link(last)}; rel="last"`);
    if (page > 1) links.push(`${link(1)}; rel="first"`, `${link(page - 1)}; rel="prev"`);
    return json(200, slice.map(repoJson), links.length ? { Link: links.join(', ') } : undefined);
  });

  router.on('GET', `${API}/repos/:owner/:repo`, (req) => {
    const r = visibleRepo(req);
    return r ? json(200, repoJson(r)) : undefined;
  });

  router.on('GET', `${API}/repos/:owner/:repo/contents/*path`, async (req) => {
    const r = visibleRepo(req);
    if (!r) return undefined;
    if (r.fromFixture && r.files.size === 0) return undefined; // the recorded fixture answers
    const ref = req.query.get('ref') ?? '';
    const file = await readFile(r, ref, req.params.path);
    if (file.found === 'no-ref') return json(404, { message: `No commit found for the ref ${ref}`, documentation_url: DOCS });
    if (file.found === 'no-file') return notFound();
    if (String(req.headers.accept ?? '').includes('application/vnd.github.raw')) {
      return { status: 200, headers: { 'Content-Type': 'application/vnd.github.raw; charset=utf-8' }, body: file.content };
    }
    return json(200, contentJson(r, req.params.path, ref, file.content));
  });

  function contentJson(r: FakeGithubRepo, path: string, ref: string, content: Buffer): any {
    const body = clone(contentFixture);
    const sha = createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
    const tooLarge = content.length > 1024 * 1024;
    return Object.assign(body, {
      name: path.split('/').pop(),
      path,
      sha,
      size: content.length,
      url: `${baseUrl}${API}/repos/${r.fullName}/contents/${path}?ref=${ref}`,
      html_url: `${r.htmlUrl}/blob/${ref}/${path}`,
      // GitHub wraps base64 at 60 columns and omits the content of files over 1 MB.
      content: tooLarge ? '' : (content.toString('base64').match(/.{1,60}/g) ?? []).join('\n') + (content.length ? '\n' : ''),
      encoding: tooLarge ? 'none' : 'base64',
    });
  }

  router.on('GET', `${API}/repos/:owner/:repo/commits/:ref`, async (req) => {
    const r = visibleRepo(req);
    if (!r) return undefined;
    if (!r.gitDir) return undefined;
    const info = await gitCommitInfo(r.gitDir, req.params.ref);
    if (!info) return json(422, { message: `No commit found for SHA: ${req.params.ref}`, documentation_url: DOCS });
    const body = clone(commitFixture);
    body.sha = info.sha;
    body.commit = { ...body.commit, message: info.message, author: { name: info.authorName, email: info.authorEmail, date: info.timestamp } };
    body.html_url = `${r.htmlUrl}/commit/${info.sha}`;
    return json(200, body);
  });

  router.on('GET', `${API}/repos/:owner/:repo/hooks`, (req) => {
    const r = visibleRepo(req);
    if (!r || !r.permissions.admin) return notFound();
    return json(200, hooks.items.filter((h) => h.repo === r.fullName && !h.deleted).map((h) => hookJson(h)));
  });

  router.on('POST', `${API}/repos/:owner/:repo/hooks`, (req) => {
    const r = visibleRepo(req);
    // Managing hooks takes admin rights; GitHub hides the endpoint from everyone else.
    if (!r || !r.permissions.admin) return notFound();
    const body = parseJsonBody(req);
    if (!body) return json(400, { message: 'Problems parsing JSON', documentation_url: DOCS });
    const config = body.config ?? {};
    if (typeof config.url !== 'string' || !/^https?:\/\//.test(config.url)) {
      return json(422, { message: 'Validation Failed', errors: [{ resource: 'Hook', code: 'custom', message: 'Config must contain a valid URL.' }], documentation_url: DOCS });
    }
    if (hooks.items.some((h) => h.repo === r.fullName && !h.deleted && h.url === config.url)) {
      return json(422, { message: 'Validation Failed', errors: [{ resource: 'Hook', code: 'custom', message: 'Hook already exists on this repository' }], documentation_url: DOCS });
    }
    const hook: RecordedGithubHook = {
      id: nextHookId++,
      repo: r.fullName,
      url: config.url,
      secret: String(config.secret ?? ''),
      contentType: String(config.content_type ?? 'form'),
      events: Array.isArray(body.events) ? body.events.map(String) : ['push'],
      active: body.active !== false,
      insecureSsl: String(config.insecure_ssl ?? '0'),
      deleted: false,
    };
    hooks.push(hook);
    return json(201, hookJson(hook));
  });

  function hookJson(h: RecordedGithubHook): any {
    return Object.assign(clone(hookFixture), {
      id: h.id,
      url: `${baseUrl}${API}/repos/${h.repo}/hooks/${h.id}`,
      test_url: `${baseUrl}${API}/repos/${h.repo}/hooks/${h.id}/test`,
      ping_url: `${baseUrl}${API}/repos/${h.repo}/hooks/${h.id}/pings`,
      name: 'web',
      events: h.events,
      active: h.active,
      // GitHub never echoes the secret back, only that there is one.
      config: { url: h.url, content_type: h.contentType, insecure_ssl: h.insecureSsl, ...(h.secret ? { secret: '********' } : {}) },
    });
  }

  router.on('DELETE', `${API}/repos/:owner/:repo/hooks/:id`, (req) => {
    const r = visibleRepo(req);
    if (!r || !r.permissions.admin) return notFound();
    const hook = hooks.items.find((h) => h.repo === r.fullName && String(h.id) === req.params.id && !h.deleted);
    if (!hook) return notFound();
    hook.deleted = true;
    hook.active = false;
    return { status: 204 };
  });

  router.on('POST', `${API}/repos/:owner/:repo/statuses/:sha`, (req) => {
    const r = visibleRepo(req);
    if (!r || !r.permissions.push) return notFound();
    const body = parseJsonBody(req);
    if (!body) return json(400, { message: 'Problems parsing JSON', documentation_url: DOCS });
    if (!STATES.includes(body.state)) {
      return json(422, { message: 'Validation Failed', errors: [{ resource: 'Status', field: 'state', code: 'custom', message: `state is not included in the list` }], documentation_url: DOCS });
    }
    if (typeof body.description === 'string' && body.description.length > 140) {
      return json(422, { message: 'Validation Failed', errors: [{ resource: 'Status', field: 'description', code: 'custom', message: 'description is too long (maximum is 140 characters)' }], documentation_url: DOCS });
    }
    const status: RecordedGithubStatus = {
      repo: r.fullName,
      sha: req.params.sha,
      state: body.state,
      targetUrl: String(body.target_url ?? ''),
      description: String(body.description ?? ''),
      context: String(body.context ?? 'default'),
      at: Date.now(),
    };
    statuses.push(status);
    const out = Object.assign(clone(statusFixture), {
      state: status.state,
      target_url: status.targetUrl,
      description: status.description,
      context: status.context,
      id: statuses.items.length,
      url: `${baseUrl}${API}/repos/${r.fullName}/statuses/${status.sha}`,
    });
    return json(201, out);
  });

  router.on('GET', `${API}/repos/:owner/:repo/statuses/:sha`, (req) => {
    const r = visibleRepo(req);
    if (!r) return undefined;
    const list = statuses.items.filter((s) => s.repo === r.fullName && s.sha === req.params.sha).reverse();
    return json(200, list.map((s) => ({ ...clone(statusFixture), state: s.state, target_url: s.targetUrl, description: s.description, context: s.context })));
  });

  router.any(fixtureFallback('github', API));

  const server = await startFakeServer(router, (req) =>
    req.path.startsWith(`${API}/`) ? notFound() : { status: 404, body: 'Not Found' },
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

  async function deliver(slug: string, event: string, payload: unknown): Promise<Response[]> {
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
      return deliver(slug, 'push', githubPushPayload({ repo: r, after: o.after, ref: o.ref, before: o.before, commit, sender: { login: user.login, id: user.id } }));
    },
    async pushTag(slug, o) {
      const r = findRepo(slug);
      if (!r) throw new Error(`pushTag: no repository ${slug} in the fake`);
      const commit = await commitOf(r, o.after);
      return deliver(slug, 'push', githubTagPushPayload({ repo: r, tag: o.tag, after: o.after, commit, sender: { login: user.login, id: user.id } }));
    },
    async pullRequest(slug, o) {
      const r = findRepo(slug);
      if (!r) throw new Error(`pullRequest: no repository ${slug} in the fake`);
      return deliver(slug, 'pull_request', githubPullRequestPayload({ author: { login: user.login, id: user.id }, ...o, repo: r }));
    },
    close: server.close,
  };
}
