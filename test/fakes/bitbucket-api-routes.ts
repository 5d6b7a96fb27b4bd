// The HTTP surface of the Bitbucket Cloud stand-in: OAuth 2 under /site/oauth2 on the
// web host, REST 2.0 under /api (standing in for api.bitbucket.org), answered from the
// fake's state, then from go-scm's recorded fixtures. bitbucket-api.ts owns the state
// and the handle tests use.
import { randomBytes, randomUUID } from 'node:crypto';
import type { BitbucketFake, FakeBitbucketRepo, RecordedBitbucketHook, RecordedBitbucketStatus } from './bitbucket-api.ts';
import { clone, readCorpusJson } from './corpus.ts';
import { basicCredentials, bearerToken, fixtureFallback, inMemoryCommit, json, parseFormBody, parseJsonBody, Router, type FakeRequest, type FakeResponse } from './fake-http.ts';
import { gitChangedFiles, gitCommitInfo, gitReadFile, gitResolveCommit, type CommitInfo, type FileChange } from './local-git-repo.ts';

export const BITBUCKET_API_PREFIX = '/api';
const API = BITBUCKET_API_PREFIX;
const STATES = ['INPROGRESS', 'SUCCESSFUL', 'FAILED', 'STOPPED'];

export interface BitbucketRouteContext {
  state: BitbucketFake['state'];
  clientId: string;
  clientSecret: string;
  maxPageLen: number;
  /** Where authorize sends the user when the request names no redirect_uri. */
  callbackUrl?: string;
  /** The server's own URL, known once it listens. */
  baseUrl(): string;
  findRepo(slug: string): FakeBitbucketRepo | undefined;
}

/** Bitbucket's error body. */
export function bitbucketError(status: number, message: string, extra: Record<string, unknown> = {}): FakeResponse {
  return json(status, { type: 'error', error: { message, ...extra } });
}

export function bitbucketRoutes(ctx: BitbucketRouteContext): Router {
  const { state, clientId, clientSecret, maxPageLen, findRepo } = ctx;
  const { hooks, statuses } = state;
  const error = bitbucketError;
  const userFixture = readCorpusJson('go-scm-api/bitbucket/user.json');
  const repoFixture = readCorpusJson('go-scm-api/bitbucket/repo.json');
  const hookFixture = readCorpusJson('go-scm-api/bitbucket/hook.json');
  const statusFixture = readCorpusJson('go-scm-api/bitbucket/status.json');
  const commitFixture = readCorpusJson('go-scm-api/bitbucket/commit.json');
  const branchFixture = readCorpusJson('go-scm-api/bitbucket/branch.json');
  const codes = new Map<string, { redirectUri: string; explicit: boolean }>();
  const workspaceUuids = new Map<string, string>();
  const canSee = (r: FakeBitbucketRepo) => r.permission !== 'none' || !r.private;
  const workspaceUuid = (slug: string) => {
    if (!workspaceUuids.has(slug)) workspaceUuids.set(slug, `{${randomUUID()}}`);
    return workspaceUuids.get(slug)!;
  };

  function userJson(): any {
    return {
      ...clone(userFixture),
      username: undefined,
      nickname: state.user.nickname,
      display_name: state.user.displayName,
      uuid: state.user.uuid,
      account_id: state.user.accountId,
      links: { ...userFixture.links, avatar: { href: state.user.avatarUrl }, html: { href: `${ctx.baseUrl()}/${state.user.nickname}/` } },
    };
  }

  function repoJson(r: FakeBitbucketRepo): any {
    const body = JSON.parse(JSON.stringify(repoFixture).split(repoFixture.full_name).join(r.fullName));
    const [ws, slug] = r.fullName.split('/');
    return Object.assign(body, {
      uuid: r.uuid,
      full_name: r.fullName,
      name: slug,
      slug,
      is_private: r.private,
      mainbranch: { type: 'branch', name: r.defaultBranch },
      workspace: { type: 'workspace', slug: ws, name: ws, uuid: workspaceUuid(ws) },
      links: {
        ...body.links,
        html: { href: r.htmlUrl },
        clone: [
          { name: 'https', href: r.cloneUrl },
          { name: 'ssh', href: r.sshUrl },
        ],
      },
    });
  }

  /** Bitbucket's pages: values, pagelen, page, size, and an absolute `next` link while more remain. */
  function paginate(req: FakeRequest, items: unknown[], defaultLen = 10): any {
    const pagelen = Math.min(Math.max(Number(req.query.get('pagelen') ?? defaultLen) || defaultLen, 1), maxPageLen);
    const page = Math.max(Number(req.query.get('page') ?? 1) || 1, 1);
    const out: any = { pagelen, size: items.length, page, values: items.slice((page - 1) * pagelen, page * pagelen) };
    if (page * pagelen < items.length) {
      const next = new URLSearchParams(req.query);
      next.set('page', String(page + 1));
      next.set('pagelen', String(pagelen));
      out.next = `${ctx.baseUrl()}${req.path}?${next}`;
    }
    return out;
  }

  function visibleRepo(req: FakeRequest): FakeBitbucketRepo | undefined {
    const r = findRepo(`${req.params.ws}/${req.params.slug}`);
    return r && canSee(r) ? r : undefined;
  }

  function repoNotFound(req: FakeRequest): FakeResponse {
    return error(404, `Repository ${req.params.ws}/${req.params.slug} not found`);
  }

  const router = new Router();

  // --- OAuth 2 --------------------------------------------------------------
  router.on('GET', '/site/oauth2/authorize', (req) => {
    if (req.query.get('client_id') !== clientId) return { status: 400, body: 'Invalid client_id' };
    if (req.query.get('response_type') !== 'code') return { status: 400, body: 'unsupported_response_type: only "code" is supported' };
    const given = req.query.get('redirect_uri');
    const redirectUri = given ?? ctx.callbackUrl;
    if (!redirectUri) return { status: 400, body: 'No redirect_uri given and the consumer has no callback URL' };
    const code = randomBytes(10).toString('hex');
    const st = req.query.get('state') ?? '';
    codes.set(code, { redirectUri, explicit: Boolean(given) });
    state.authorizations.push({ code, redirectUri, state: st });
    // As if the user clicked "Grant access".
    const target = new URL(redirectUri);
    target.searchParams.set('code', code);
    if (st) target.searchParams.set('state', st);
    return { status: 302, headers: { Location: target.toString() } };
  });

  router.on('POST', '/site/oauth2/access_token', (req) => {
    const form = parseFormBody(req);
    const creds = basicCredentials(req) ?? { user: form.get('client_id') ?? '', password: form.get('client_secret') ?? '' };
    if (creds.user !== clientId || creds.password !== clientSecret) {
      return json(401, { error: 'invalid_client', error_description: 'Invalid OAuth client credentials' });
    }
    const grant = form.get('grant_type');
    if (grant === 'refresh_token') {
      if (form.get('refresh_token') !== state.refreshToken) return json(400, { error: 'invalid_grant', error_description: 'Invalid refresh_token' });
      return json(200, tokenBody('refresh_token'));
    }
    if (grant !== 'authorization_code') return json(400, { error: 'unsupported_grant_type', error_description: `Unsupported grant type: ${grant}` });
    const issued = codes.get(form.get('code') ?? '');
    if (!issued) return json(400, { error: 'invalid_grant', error_description: 'The specified code is not valid.' });
    const redirectUri = form.get('redirect_uri');
    if (issued.explicit && redirectUri !== issued.redirectUri) {
      return json(400, { error: 'invalid_grant', error_description: 'The redirect_uri does not match the one used in the authorization request.' });
    }
    codes.delete(form.get('code') ?? '');
    return json(200, tokenBody('authorization_code'));
  });

  function tokenBody(kind: string): Record<string, unknown> {
    return { access_token: state.token, scopes: 'account repository webhook pullrequest', expires_in: 7200, refresh_token: state.refreshToken, token_type: 'bearer', state: kind };
  }

  // --- REST 2.0 -------------------------------------------------------------
  router.any((req) => {
    if (!req.path.startsWith(`${API}/`)) return undefined;
    const token = bearerToken(req);
    if (token === state.token) return undefined;
    return error(401, token ? 'Token is invalid, expired, or not supported for this endpoint.' : 'This API is only accessible with the following authentication types: apppassword, session, api_token');
  });

  router.on('GET', `${API}/2.0/user`, () => json(200, userJson()));

  router.on('GET', `${API}/2.0/user/emails`, (req) =>
    json(200, paginate(req, [{ email: state.user.email, is_primary: true, is_confirmed: true, type: 'email', links: {} }])),
  );

  function workspaces(): string[] {
    const slugs = new Set<string>([state.user.nickname, ...state.workspaces]);
    for (const r of state.repos) if (r.permission !== 'none') slugs.add(r.fullName.split('/')[0]);
    return [...slugs];
  }

  router.on('GET', `${API}/2.0/user/workspaces`, (req) =>
    json(
      200,
      paginate(
        req,
        workspaces().map((slug) => ({
          type: 'workspace_access',
          workspace: { type: 'workspace', slug, name: slug, uuid: workspaceUuid(slug), links: { html: { href: `${ctx.baseUrl()}/${slug}/` } } },
          permission: workspacePermission(slug),
          last_accessed: new Date().toISOString(),
        })),
      ),
    ),
  );

  function workspacePermission(slug: string): 'owner' | 'member' {
    return slug === state.user.nickname || state.workspaceOwners.includes(slug) ? 'owner' : 'member';
  }

  // Bitbucket filters this list with its query language; the stand-in reads the one filter Harrier sends.
  router.on('GET', `${API}/2.0/user/permissions/workspaces`, (req) => {
    let slugs = workspaces();
    const q = req.query.get('q');
    if (q) {
      const m = /^workspace\.slug\s*=\s*"([^"]*)"$/.exec(q.trim());
      if (!m) return error(400, `Invalid query: ${q}`);
      slugs = slugs.filter((s) => s === m[1]);
    }
    const values = slugs.map((slug) => ({
      type: 'workspace_membership',
      permission: workspacePermission(slug),
      user: { type: 'user', display_name: state.user.displayName, uuid: state.user.uuid, nickname: state.user.nickname, account_id: state.user.accountId },
      workspace: { type: 'workspace', slug, name: slug, uuid: workspaceUuid(slug) },
    }));
    return json(200, paginate(req, values));
  });

  router.on('GET', `${API}/2.0/user/permissions/repositories`, () =>
    error(410, 'This API is no longer available. See CHANGE-2770: use /2.0/user/workspaces/{workspace}/permissions/repositories.'),
  );

  router.on('GET', `${API}/2.0/user/workspaces/:ws/permissions/repositories`, (req) => {
    if (!workspaces().includes(req.params.ws)) return error(404, `No workspace with identifier '${req.params.ws}'.`);
    let list = state.repos.filter((r) => r.fullName.split('/')[0] === req.params.ws && r.permission !== 'none');
    const q = req.query.get('q');
    if (q) {
      const m = /^repository\.(full_name|name|uuid)\s*=\s*"([^"]*)"$/.exec(q.trim());
      if (!m) return error(400, `Invalid query: ${q}`);
      const [, field, value] = m;
      list = list.filter((r) => (field === 'full_name' ? r.fullName : field === 'name' ? r.fullName.split('/')[1] : r.uuid) === value);
    }
    const values = list.map((r) => ({
      type: 'repository_permission',
      user: { type: 'user', display_name: state.user.displayName, uuid: state.user.uuid, nickname: state.user.nickname, account_id: state.user.accountId },
      repository: { type: 'repository', name: r.fullName.split('/')[1], full_name: r.fullName, uuid: r.uuid },
      permission: r.permission,
    }));
    return json(200, paginate(req, values));
  });

  router.on('GET', `${API}/2.0/repositories/:ws`, (req) => {
    const role = req.query.get('role');
    const rank = { none: 0, read: 1, write: 2, admin: 3 } as const;
    const need = role === 'admin' ? 3 : role === 'contributor' ? 2 : role === 'member' ? 1 : 0;
    const list = state.repos.filter((r) => r.fullName.split('/')[0] === req.params.ws && canSee(r) && rank[r.permission] >= need);
    if (list.length === 0 && !workspaces().includes(req.params.ws)) return undefined;
    return json(200, paginate(req, list.map(repoJson)));
  });

  router.on('GET', `${API}/2.0/repositories/:ws/:slug`, (req) => {
    const r = visibleRepo(req);
    return r ? json(200, repoJson(r)) : undefined;
  });

  router.on('GET', `${API}/2.0/repositories/:ws/:slug/src/:commit/*path`, async (req) => {
    const r = visibleRepo(req);
    if (!r) return undefined;
    if (r.fromFixture && r.files.size === 0) return undefined;
    const { commit, path } = req.params;
    const inMemory = r.files.get(`${commit}:${path}`) ?? r.files.get(path);
    if (inMemory !== undefined) return { status: 200, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: inMemory };
    if (!r.gitDir) return error(404, `No such file or directory: ${path}`);
    // Like Bitbucket, an abbreviated hash (as pull request hooks carry) names its commit.
    const file = await gitReadFile(r.gitDir, commit, path);
    if (file.found === 'no-ref') return error(404, `Commit not found: ${commit}`);
    if (file.found === 'no-file') return error(404, `No such file or directory: ${path}`);
    return { status: 200, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: file.content };
  });

  /** The commit `rev` names in the repository: from its git repository, or its in-memory files' one commit. */
  async function commitInfo(r: FakeBitbucketRepo, rev: string, branch: boolean): Promise<CommitInfo | undefined> {
    if (r.gitDir) return (await gitCommitInfo(r.gitDir, branch ? `refs/heads/${rev}` : rev)) ?? undefined;
    if (branch && rev !== r.defaultBranch) return undefined;
    return inMemoryCommit(r.files, r.defaultBranch, rev, { name: state.user.displayName, email: state.user.email });
  }

  // A branch's target is its head commit in full, as commit/{hash} answers it.
  router.on('GET', `${API}/2.0/repositories/:ws/:slug/refs/branches/*name`, async (req) => {
    const r = visibleRepo(req);
    if (!r) return undefined;
    const name = req.params.name;
    if (r.fromFixture && r.files.size === 0) return undefined; // the recorded fixture answers
    const info = await commitInfo(r, name, true);
    if (!info) return error(404, `Branch "${name}" not found`);
    const body = clone(branchFixture);
    body.name = name;
    body.links = { commits: { href: `${ctx.baseUrl()}${API}/2.0/repositories/${r.fullName}/commits/${name}` }, self: { href: `${ctx.baseUrl()}${API}/2.0/repositories/${r.fullName}/refs/branches/${name}` }, html: { href: `${r.htmlUrl}/branch/${name}` } };
    body.target = commitJson(r, info);
    return json(200, body);
  });

  router.on('GET', `${API}/2.0/repositories/:ws/:slug/commit/:commit`, async (req) => {
    const r = visibleRepo(req);
    if (!r) return undefined;
    if (r.fromFixture && r.files.size === 0) return undefined;
    const info = await commitInfo(r, req.params.commit, false);
    if (!info) return error(404, `Commit not found: ${req.params.commit}`);
    return json(200, commitJson(r, info));
  });

  /** The commit as Bitbucket answers it, from the recorded one. */
  function commitJson(r: FakeBitbucketRepo, info: CommitInfo): any {
    const body = clone(commitFixture);
    const api = `${ctx.baseUrl()}${API}/2.0/repositories/${r.fullName}`;
    body.hash = info.sha;
    body.repository = { ...body.repository, full_name: r.fullName, name: r.fullName.split('/')[1], uuid: r.uuid, links: { self: { href: api }, html: { href: r.htmlUrl } } };
    body.links = { self: { href: `${api}/commit/${info.sha}` }, html: { href: `${r.htmlUrl}/commits/${info.sha}` }, statuses: { href: `${api}/commit/${info.sha}/statuses` } };
    body.author = { type: 'author', raw: `${info.authorName} <${info.authorEmail}>`, ...accountOf(info.authorEmail) };
    body.summary = { ...body.summary, raw: info.message, html: '' };
    body.message = info.message;
    body.date = info.timestamp;
    body.parents = info.parent ? [{ type: 'commit', hash: info.parent, links: { self: { href: `${api}/commit/${info.parent}` }, html: { href: `${r.htmlUrl}/commits/${info.parent}` } } }] : [];
    return body;
  }

  /** Bitbucket adds the account an email belongs to, and leaves `user` out for an email no account has: here, the signed-in user's. */
  function accountOf(email: string): { user?: any } {
    const { user } = state;
    if (user.email.toLowerCase() !== email.toLowerCase()) return {};
    return {
      user: {
        type: 'user',
        display_name: user.displayName,
        nickname: user.nickname,
        uuid: user.uuid,
        account_id: user.accountId,
        links: { self: { href: `${ctx.baseUrl()}${API}/2.0/users/${user.uuid}` }, avatar: { href: user.avatarUrl }, html: { href: `${ctx.baseUrl()}/${user.uuid}/` } },
      },
    };
  }

  /** One entry of a diffstat, shaped as go-scm's recorded diffstat.json. */
  function diffstatJson(r: FakeBitbucketRepo, from: string, to: string, c: FileChange): any {
    const side = (path: string, commit: string) => ({
      path,
      type: 'commit_file',
      links: { self: { href: `${ctx.baseUrl()}${API}/2.0/repositories/${r.fullName}/src/${commit}/${path}` } },
    });
    return {
      type: 'diffstat',
      status: c.status,
      lines_added: c.status === 'removed' ? 0 : 1,
      lines_removed: c.status === 'added' ? 0 : 1,
      old: c.status === 'added' ? null : side(c.previousPath ?? c.path, from),
      new: c.status === 'removed' ? null : side(c.path, to),
    };
  }

  // "a..b" diffs a from its merge base with b (Bitbucket's topic diff); one commit diffs it with its parent.
  router.on('GET', `${API}/2.0/repositories/:ws/:slug/diffstat/:spec`, async (req) => {
    const r = visibleRepo(req);
    if (!r || !r.gitDir) return undefined;
    const [to, from] = req.params.spec.split('..');
    const changes = await gitChangedFiles(r.gitDir, from ?? null, to);
    if (!changes) return error(404, `Commit not found: ${req.params.spec}`);
    return json(200, paginate(req, changes.map((c) => diffstatJson(r, from ?? `${to}^`, to, c)), 500));
  });

  router.on('GET', `${API}/2.0/repositories/:ws/:slug/pullrequests/:id/diffstat`, async (req) => {
    const r = visibleRepo(req);
    if (!r || !r.gitDir) return undefined;
    const pull = state.pulls.find((p) => p.repo === r.fullName && String(p.id) === req.params.id);
    if (!pull) return error(404, `Pull request ${req.params.id} not found`);
    const changes = (await gitChangedFiles(r.gitDir, pull.destinationHash, pull.sourceHash)) ?? [];
    return json(200, paginate(req, changes.map((c) => diffstatJson(r, pull.destinationHash, pull.sourceHash, c)), 500));
  });

  router.on('GET', `${API}/2.0/repositories/:ws/:slug/hooks`, (req) => {
    const r = visibleRepo(req);
    if (!r) return undefined;
    if (r.permission !== 'admin') return error(403, 'You need admin access to this repository to manage webhooks.');
    return json(200, paginate(req, hooks.items.filter((h) => h.repo === r.fullName && !h.deleted).map(hookJson)));
  });

  router.on('POST', `${API}/2.0/repositories/:ws/:slug/hooks`, (req) => {
    const r = visibleRepo(req);
    if (!r) return undefined;
    if (r.permission !== 'admin') return error(403, 'You need admin access to this repository to manage webhooks.');
    const body = parseJsonBody(req);
    if (!body) return error(400, 'Bad request: the body is not a JSON object');
    const fields: Record<string, string[]> = {};
    if (typeof body.url !== 'string' || !/^https?:\/\//.test(body.url)) fields.url = ['Enter a valid URL.'];
    if (!Array.isArray(body.events) || body.events.length === 0) fields.events = ['This field is required.'];
    if (Object.keys(fields).length) return error(400, 'Bad request', { fields });
    const hook: RecordedBitbucketHook = {
      uuid: `{${randomUUID()}}`,
      repo: r.fullName,
      url: body.url,
      secret: typeof body.secret === 'string' ? body.secret : '',
      description: String(body.description ?? ''),
      events: body.events.map(String),
      active: body.active !== false,
      deleted: false,
    };
    hooks.push(hook);
    return json(201, hookJson(hook));
  });

  function hookJson(h: RecordedBitbucketHook): any {
    return Object.assign(clone(hookFixture), {
      uuid: h.uuid,
      url: h.url,
      description: h.description,
      events: h.events,
      active: h.active,
      secret_set: Boolean(h.secret),
      links: { self: { href: `${ctx.baseUrl()}${API}/2.0/repositories/${h.repo}/hooks/${encodeURIComponent(h.uuid)}` } },
      subject: { ...hookFixture.subject, full_name: h.repo, name: h.repo.split('/')[1] },
    });
  }

  router.on('DELETE', `${API}/2.0/repositories/:ws/:slug/hooks/:uid`, (req) => {
    const r = visibleRepo(req);
    if (!r) return undefined;
    if (r.permission !== 'admin') return error(403, 'You need admin access to this repository to manage webhooks.');
    const wanted = req.params.uid.replace(/^\{|\}$/g, '');
    const hook = hooks.items.find((h) => h.repo === r.fullName && !h.deleted && h.uuid.replace(/^\{|\}$/g, '') === wanted);
    if (!hook) return error(404, 'Webhook not found');
    hook.deleted = true;
    hook.active = false;
    return { status: 204 };
  });

  router.on('POST', `${API}/2.0/repositories/:ws/:slug/commit/:commit/statuses/build`, async (req) => {
    const r = visibleRepo(req);
    if (!r) return undefined;
    if (r.permission === 'read' || r.permission === 'none') return error(403, 'You need write access to this repository to report build statuses.');
    const body = parseJsonBody(req);
    if (!body) return error(400, 'Bad request: the body is not a JSON object');
    const fields: Record<string, string[]> = {};
    if (!STATES.includes(body.state)) fields.state = [`"${body.state}" is not a valid choice.`];
    if (typeof body.key !== 'string' || !body.key) fields.key = ['This field is required.'];
    if (typeof body.url !== 'string' || !body.url) fields.url = ['This field is required.'];
    if (Object.keys(fields).length) return error(400, 'Bad request', { fields });
    let fullSha = req.params.commit;
    if (r.gitDir) {
      const resolved = await gitResolveCommit(r.gitDir, req.params.commit);
      if (!resolved) return error(404, `Commit not found: ${req.params.commit}`);
      fullSha = resolved;
    }
    const status: RecordedBitbucketStatus = {
      repo: r.fullName,
      sha: req.params.commit,
      fullSha,
      state: body.state,
      key: body.key,
      name: String(body.name ?? ''),
      url: body.url,
      description: String(body.description ?? ''),
      at: Date.now(),
    };
    statuses.push(status);
    return json(201, { ...clone(statusFixture), state: status.state, key: status.key, name: status.name, url: status.url, description: status.description, commit: { ...statusFixture.commit, hash: fullSha } });
  });

  router.on('GET', `${API}/2.0/repositories/:ws/:slug/commit/:commit/statuses`, (req) => {
    const r = visibleRepo(req);
    if (!r) return undefined;
    const c = req.params.commit;
    const list = statuses.items.filter((s) => s.repo === r.fullName && (s.fullSha.startsWith(c) || s.sha === c)).reverse();
    return json(200, paginate(req, list.map((s) => ({ ...clone(statusFixture), state: s.state, key: s.key, name: s.name, url: s.url, description: s.description }))));
  });

  // Repositories the fake does not hold may still have recorded fixtures; after those, Bitbucket's 404.
  router.any(fixtureFallback('bitbucket', API));
  for (const method of ['GET', 'POST', 'PUT', 'DELETE']) {
    router.on(method, `${API}/2.0/repositories/:ws/:slug`, repoNotFound);
    router.on(method, `${API}/2.0/repositories/:ws/:slug/*rest`, repoNotFound);
  }

  return router;
}
