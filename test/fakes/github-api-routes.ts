// The HTTP surface of the GitHub stand-in: OAuth on the web host, REST v3 under
// /api/v3 (as GitHub Enterprise Server lays it out), answered from the fake's state,
// then from go-scm's recorded fixtures. github-api.ts owns the state and the handle tests use.
import { createHash, randomBytes } from 'node:crypto';
import { clone, readCorpusJson } from './corpus.ts';
import { bearerToken, fixtureFallback, inMemoryCommit, json, parseFormBody, parseJsonBody, Router, type FakeRequest, type FakeResponse } from './fake-http.ts';
import type { FakeGithubRepo, GithubFake, RecordedGithubHook, RecordedGithubStatus } from './github-api.ts';
import { deliverGithubHook } from './github-payloads.ts';
import { gitChangedFiles, gitCommitInfo, gitReadFile, type CommitInfo, type FileChange } from './local-git-repo.ts';

export const GITHUB_API_PREFIX = '/api/v3';
const API = GITHUB_API_PREFIX;
const DOCS = 'https://docs.github.com/rest';
const STATES = ['pending', 'success', 'failure', 'error'];
/** GitHub lists at most 300 files of a compare or a commit, and 3000 of a pull request. */
export const GITHUB_FAKE_DIFF_FILES = 300;
export const GITHUB_FAKE_PULL_FILES = 3000;

export interface GithubRouteContext {
  state: GithubFake['state'];
  clientId: string;
  clientSecret: string;
  maxPerPage: number;
  expiringTokens: boolean;
  pingOnCreate: boolean;
  /** The server's own URL, known once it listens. */
  baseUrl(): string;
  findRepo(slug: string): FakeGithubRepo | undefined;
}

export function githubNotFound(): FakeResponse {
  return json(404, { message: 'Not Found', documentation_url: DOCS });
}

export function githubRoutes(ctx: GithubRouteContext): Router {
  const { state, clientId, clientSecret, maxPerPage, findRepo } = ctx;
  const { hooks, statuses } = state;
  const userFixture = readCorpusJson('go-scm-api/github/user.json');
  const repoFixture = readCorpusJson('go-scm-api/github/repo.json');
  const hookFixture = readCorpusJson('go-scm-api/github/hook.json');
  const statusFixture = readCorpusJson('go-scm-api/github/status.json');
  const contentFixture = readCorpusJson('go-scm-api/github/content.json');
  const commitFixture = readCorpusJson('go-scm-api/github/commit.json');
  const compareFixture = readCorpusJson('go-scm-api/github/compare.json');
  const codes = new Map<string, { redirectUri: string; scope: string }>();
  let nextHookId = 1;

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
      owner: { ...renamed.owner, login: owner, html_url: `${ctx.baseUrl()}/${owner}` },
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

  const notFound = githubNotFound;

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
    return gitReadFile(r.gitDir, ref || r.defaultBranch, path);
  }

  const router = new Router();
  // Before anything answers: what the test makes happen while the caller waits (GithubFake.state.meanwhile).
  router.any(async (req) => {
    await state.meanwhile?.(req);
    return undefined;
  });

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
    if (ctx.expiringTokens) Object.assign(body, { expires_in: 28800, refresh_token: state.refreshToken, refresh_token_expires_in: 15811200 });
    return body;
  }

  // --- REST API -------------------------------------------------------------
  router.any((req) => (req.path.startsWith(`${API}/`) ? authorized(req) : undefined));

  router.on('GET', `${API}/user`, () =>
    json(200, {
      ...clone(userFixture),
      id: state.user.id,
      login: state.user.login,
      name: state.user.name,
      email: state.user.email,
      avatar_url: state.user.avatarUrl,
      html_url: `${ctx.baseUrl()}/${state.user.login}`,
    }),
  );

  router.on('GET', `${API}/user/emails`, () =>
    json(200, [{ email: state.user.primaryEmail, primary: true, verified: true, visibility: state.user.email ? 'public' : 'private' }]),
  );

  // One page is enough for the organisations a test names.
  router.on('GET', `${API}/user/orgs`, () =>
    json(
      200,
      state.orgs.map((login, i) => ({ login, id: 9_000 + i, url: `${ctx.baseUrl()}${API}/orgs/${login}`, description: '' })),
    ),
  );

  // The caller's membership; GitHub answers 404 for an organisation the user is not in, and for a user account.
  router.on('GET', `${API}/user/memberships/orgs/:org`, (req) => {
    const org = state.orgs.find((o) => o.toLowerCase() === req.params.org.toLowerCase());
    if (!org) return notFound();
    const admin = state.orgAdmins.some((o) => o.toLowerCase() === org.toLowerCase());
    return json(200, {
      url: `${ctx.baseUrl()}${API}/orgs/${org}/memberships/${state.user.login}`,
      state: 'active',
      role: admin ? 'admin' : 'member',
      organization: { login: org, id: 9_000 + state.orgs.indexOf(org) },
      user: { login: state.user.login, id: state.user.id },
    });
  });

  router.on('GET', `${API}/user/repos`, (req) => {
    const perPage = Math.min(Math.max(Number(req.query.get('per_page') ?? 30) || 30, 1), maxPerPage);
    const page = Math.max(Number(req.query.get('page') ?? 1) || 1, 1);
    const visible = state.repos.filter((r) => r.permissions.pull);
    const slice = visible.slice((page - 1) * perPage, page * perPage);
    const last = Math.max(Math.ceil(visible.length / perPage), 1);
    const link = (p: number) => `<${ctx.baseUrl()}${API}/user/repos?per_page=${perPage}&page=${p}>`;
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
    if (state.failContents > 0) {
      state.failContents--;
      return json(502, { message: 'Server Error', documentation_url: DOCS });
    }
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
      url: `${ctx.baseUrl()}${API}/repos/${r.fullName}/contents/${path}?ref=${ref}`,
      html_url: `${r.htmlUrl}/blob/${ref}/${path}`,
      // GitHub wraps base64 at 60 columns and omits the content of files over 1 MB.
      content: tooLarge ? '' : (content.toString('base64').match(/.{1,60}/g) ?? []).join('\n') + (content.length ? '\n' : ''),
      encoding: tooLarge ? 'none' : 'base64',
    });
  }

  router.on('GET', `${API}/repos/:owner/:repo/commits/:ref`, async (req) => {
    const r = visibleRepo(req);
    if (!r) return undefined;
    if (r.fromFixture && r.files.size === 0) return undefined; // the recorded fixture answers
    const { ref } = req.params;
    const info = r.gitDir ? await gitCommitInfo(r.gitDir, ref) : inMemoryCommit(r.files, r.defaultBranch, ref, { name: state.user.name, email: state.user.primaryEmail });
    if (!info) return json(422, { message: `No commit found for SHA: ${ref}`, documentation_url: DOCS });
    if (String(req.headers.accept ?? '').includes('application/vnd.github.sha')) {
      // The hash alone, as Scm.commitHash asks.
      return { status: 200, headers: { 'Content-Type': 'application/vnd.github.sha; charset=utf-8' }, body: info.sha };
    }
    return json(200, await commitJson(r, info));
  });

  /** The commit as GET /repos/{owner}/{repo}/commits/{ref} answers it, from the recorded one. */
  async function commitJson(r: FakeGithubRepo, info: CommitInfo): Promise<any> {
    const body = clone(commitFixture);
    const person = { name: info.authorName, email: info.authorEmail, date: info.timestamp };
    body.sha = info.sha;
    body.commit = { ...body.commit, message: info.message, author: person, committer: person };
    body.url = `${ctx.baseUrl()}${API}/repos/${r.fullName}/commits/${info.sha}`;
    body.html_url = `${r.htmlUrl}/commit/${info.sha}`;
    body.author = accountOf(info.authorEmail);
    body.committer = body.author;
    body.parents = info.parent ? [{ sha: info.parent, url: `${ctx.baseUrl()}${API}/repos/${r.fullName}/commits/${info.parent}`, html_url: `${r.htmlUrl}/commit/${info.parent}` }] : [];
    const changes = r.gitDir ? ((await gitChangedFiles(r.gitDir, null, info.sha)) ?? []) : [];
    body.files = changes.slice(0, GITHUB_FAKE_DIFF_FILES).map((c) => fileJson(r, info.sha, c));
    return body;
  }

  /** GitHub names the account an email belongs to, and null for an email no account has: here, the signed-in user's emails. */
  function accountOf(email: string): any {
    const { user } = state;
    const mine = [user.email, user.primaryEmail].some((e) => e && e.toLowerCase() === email.toLowerCase());
    if (!mine) return null;
    return { ...clone(commitFixture.author), login: user.login, id: user.id, avatar_url: user.avatarUrl, url: `${ctx.baseUrl()}${API}/users/${user.login}`, html_url: `${ctx.baseUrl()}/${user.login}` };
  }

  /** A changed file as compare, commit and pull request files list it. */
  function fileJson(r: FakeGithubRepo, sha: string, c: FileChange): any {
    return {
      sha: createHash('sha1').update(`${sha}:${c.path}`).digest('hex'),
      filename: c.path,
      status: c.status,
      additions: 1,
      deletions: c.status === 'added' ? 0 : 1,
      changes: c.status === 'added' ? 1 : 2,
      blob_url: `${r.htmlUrl}/blob/${sha}/${c.path}`,
      raw_url: `${r.htmlUrl}/raw/${sha}/${c.path}`,
      contents_url: `${ctx.baseUrl()}${API}/repos/${r.fullName}/contents/${c.path}?ref=${sha}`,
      ...(c.previousPath ? { previous_filename: c.previousPath } : {}),
    };
  }

  // Compare diffs `head` from its merge base with `base`, as GitHub's three-dot compare does.
  router.on('GET', `${API}/repos/:owner/:repo/compare/:spec`, async (req) => {
    const r = visibleRepo(req);
    if (!r || !r.gitDir) return undefined;
    const m = /^(.+?)\.\.\.(.+)$/.exec(req.params.spec);
    if (!m) return notFound();
    const [, base, head] = m;
    const changes = await gitChangedFiles(r.gitDir, base, head);
    if (!changes) return notFound();
    const body = clone(compareFixture);
    body.url = `${ctx.baseUrl()}${API}/repos/${r.fullName}/compare/${req.params.spec}`;
    body.html_url = `${r.htmlUrl}/compare/${req.params.spec}`;
    body.files = changes.slice(0, GITHUB_FAKE_DIFF_FILES).map((c) => fileJson(r, head, c));
    return json(200, body);
  });

  router.on('GET', `${API}/repos/:owner/:repo/pulls/:number/files`, async (req) => {
    const r = visibleRepo(req);
    if (!r || !r.gitDir) return undefined;
    const pull = state.pulls.find((p) => p.repo === r.fullName && String(p.number) === req.params.number);
    if (!pull) return notFound();
    const changes = ((await gitChangedFiles(r.gitDir, pull.baseSha, pull.headSha)) ?? []).slice(0, GITHUB_FAKE_PULL_FILES);
    const perPage = Math.min(Math.max(Number(req.query.get('per_page') ?? 30) || 30, 1), 100);
    const page = Math.max(Number(req.query.get('page') ?? 1) || 1, 1);
    const last = Math.max(Math.ceil(changes.length / perPage), 1);
    const link = (p: number) => `<${ctx.baseUrl()}${req.path}?per_page=${perPage}&page=${p}>`;
    const links: string[] = [];
    if (page < last) links.push(`${link(page + 1)}; rel="next"`, `${link(last)}; rel="last"`);
    if (page > 1) links.push(`${link(1)}; rel="first"`, `${link(page - 1)}; rel="prev"`);
    const slice = changes.slice((page - 1) * perPage, page * perPage).map((c) => fileJson(r, pull.headSha, c));
    return json(200, slice, links.length ? { Link: links.join(', ') } : undefined);
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
    if (ctx.pingOnCreate) {
      const ping = { zen: 'Keep it logically awesome.', hook_id: hook.id, hook: hookJson(hook), repository: repoJson(r), sender: { login: state.user.login, id: state.user.id } };
      // Like GitHub, a ping nobody answers is not the creator's problem.
      void deliverGithubHook(hook.url, 'ping', ping, hook.secret).catch(() => undefined);
    }
    return json(201, hookJson(hook));
  });

  function hookJson(h: RecordedGithubHook): any {
    return Object.assign(clone(hookFixture), {
      id: h.id,
      url: `${ctx.baseUrl()}${API}/repos/${h.repo}/hooks/${h.id}`,
      test_url: `${ctx.baseUrl()}${API}/repos/${h.repo}/hooks/${h.id}/test`,
      ping_url: `${ctx.baseUrl()}${API}/repos/${h.repo}/hooks/${h.id}/pings`,
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
      url: `${ctx.baseUrl()}${API}/repos/${r.fullName}/statuses/${status.sha}`,
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

  return router;
}
