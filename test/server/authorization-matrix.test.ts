// Who may do what: every route of the server (API, event streams, badges, sign-in, the
// webhook, metrics and the runner RPC) called by every kind of caller, on a public and a
// private repository, each answer's status checked against the table below. Answers to a
// caller that may not read the private repository must not hold any of its data, and no
// answer may hold a secret value, a provider token or another caller's credential (the
// runner holding a stage gets its stage's secrets; that is the point of holding it).
// A route the server answers that the table does not list fails the test: add its row.
//
// The rules the table follows (Drone's, with Harrier's answers):
// - Reading a repository (its builds, logs, streams, badge, language) needs nothing on a
//   public repository and read permission on a private one; a private repository the
//   caller may not read answers 404, as if it did not exist, at every path under it.
// - Changing builds (cancel, restart, approve, decline), starting them (manual, promote,
//   rollback), retrying them and reading or changing secrets or cron jobs needs write permission; settings,
//   activation and language need admin permission; `trusted` also needs a Harrier
//   administrator. Signed out: 401; signed in below the level: 403 (404 on a private
//   repository the caller cannot read).
// - Harrier administrators manage users, runner tokens and the queue; being one gives no
//   access to a repository (hadm reads the private one as a stranger would), but the
//   runners page shows administrators every running stage.
// - A user whose provider token was refused has, on repositories, what anonymous has,
//   and 403 rather than 401 for changes (they are signed in); blocked users and expired
//   tokens get 401 everywhere under /api.
// - A session cookie changes nothing without HARRIER_HOST's Origin or the session's
//   X-CSRF-Token: a cross-site write answers 403 (xsite reads like its owner, radm).
// - Runners reach only /rpc, with the shared secret or their own runner token, and only
//   the stage they hold, with its stage token: 401 without runner credentials, 403 for a
//   runner token naming another runner or a stage token that is not the stage's, 409 for
//   a stage held by another runner.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { RPC_PREFIX, rpcPaths, type RunnerInfo } from '../../core/protocol.ts';
import { githubPushPayload } from '../fakes/github-payloads.ts';
import { createApp } from '../../server/app.ts';
import { readLogLines } from '../../server/logs/log-store.ts';
import { appRoutes } from '../support/app-routes.ts';
import { ACTORS, buildWorld, ORG, PRIVATE_READERS, REPOS, type Actor, type RepoKey, type World } from './authorization-world.ts';

// Columns: see ACTORS in authorization-world.ts. "-": not called (the note says why).
// Repository "-": the route names no repository; RPC rows are about the victim stage
// (private repository, held by holdr).
const TABLE = `
route                                                        repo anon strgr read write radm hadm xsite refsd blckd expd rown rimp rtok holdr scrap
GET    /healthz                                               -    200  200  200  200  200  200  200  200  200  200  200  200  200  200  200
GET    /.*/                                                   -    200  200  200  200  200  200  200  200  200  200  200  200  200  200  200
GET    /login/:provider                                       -    302  302  302  302  302  302  302  302  302  302  302  302  302  302  302
*      /logout                                                -    405  405  405  405  405  405  405  405  405  405  405  405  405  405  405
POST   /logout                                                -    204  204  204  204  204  204  403  204  401  401  401  401  401  401  401
POST   /hook                                                  -    401  401  401  401  401  401  401  401  401  401  401  401  401  401  401
GET    /metrics                                               -    401  401  401  401  401  401  401  401  401  401  401  401  401  401  200
GET    /api/system                                            -    200  200  200  200  200  200  200  200  401  401  401  401  401  401  401
GET    /api/user                                              -    401  200  200  200  200  200  200  200  401  401  401  401  401  401  401
GET    /api/user/csrf                                         -    401  400  400  200  400  200  200  400  401  401  401  401  401  401  401
POST   /api/user/token                                        -    401  200  200  200  200  200  403  200  401  401  401  401  401  401  401
GET    /api/user/tokens                                       -    401  200  200  200  200  200  200  200  401  401  401  401  401  401  401
POST   /api/user/tokens                                       -    401  201  201  201  201  201  403  201  401  401  401  401  401  401  401
DELETE /api/user/tokens/:id                                   -    401  404  404  404  204  404  403  404  401  401  401  401  401  401  401
GET    /api/user/repos                                        -    401  200  200  200  200  200  200  200  401  401  401  401  401  401  401
GET    /api/users                                             -    401  403  403  403  403  200  403  403  401  401  401  401  401  401  401
GET    /api/users/:login                                      -    401  403  403  403  403  200  403  403  401  401  401  401  401  401  401
PATCH  /api/users/:login                                      -    401  403  403  403  403  200  403  403  401  401  401  401  401  401  401
DELETE /api/users/:login                                      -    401  403  403  403  403  204  403  403  401  401  401  401  401  401  401
GET    /api/runners                                           -    401  200  200  200  200  200  200  200  401  401  401  401  401  401  401
GET    /api/runners/tokens                                    -    401  403  403  403  403  200  403  403  401  401  401  401  401  401  401
POST   /api/runners/tokens                                    -    401  403  403  403  403  201  403  403  401  401  401  401  401  401  401
DELETE /api/runners/tokens/:id                                -    401  403  403  403  403  200  403  403  401  401  401  401  401  401  401
GET    /api/queue                                             -    401  403  403  403  403  200  403  403  401  401  401  401  401  401  401

GET    /api/repos/:owner/:name                                pub  200  200  200  200  200  200  200  200  401  401  401  401  401  401  401
GET    /api/repos/:owner/:name                                priv 404  404  200  200  200  404  200  404  401  401  401  401  401  401  401
POST   /api/repos/:owner/:name                                pub  401  403  403  403  200  200  403  403  401  401  401  401  401  401  401
POST   /api/repos/:owner/:name                                priv 404  404  403  403  200  404  403  404  401  401  401  401  401  401  401
PATCH  /api/repos/:owner/:name                                pub  401  403  403  403  200  200  403  403  401  401  401  401  401  401  401
PATCH  /api/repos/:owner/:name                                priv 404  404  403  403  200  404  403  404  401  401  401  401  401  401  401
PATCH  /api/repos/:owner/:name [trusted]                      pub  401  403  403  403  403  200  403  403  401  401  401  401  401  401  401
PATCH  /api/repos/:owner/:name [trusted]                      priv 404  404  403  403  403  404  403  404  401  401  401  401  401  401  401
DELETE /api/repos/:owner/:name                                pub  401  403  403  403  200  200  403  403  401  401  401  401  401  401  401
DELETE /api/repos/:owner/:name                                priv 404  404  403  403  200  404  403  404  401  401  401  401  401  401  401
GET    /api/repos/:owner/:name/language                       pub  200  200  200  200  200  200  200  200  401  401  401  401  401  401  401
GET    /api/repos/:owner/:name/language                       priv 404  404  200  200  200  404  200  404  401  401  401  401  401  401  401
PATCH  /api/repos/:owner/:name/language                       pub  401  403  403  403  200  200  403  403  401  401  401  401  401  401  401
PATCH  /api/repos/:owner/:name/language                       priv 404  404  403  403  200  404  403  404  401  401  401  401  401  401  401
POST   /api/repos/:owner/:name/language/detect                pub  401  403  403  403  200  200  403  403  401  401  401  401  401  401  401
POST   /api/repos/:owner/:name/language/detect                priv 404  404  403  403  200  404  403  404  401  401  401  401  401  401  401
GET    /api/badges/:owner/:name/status.svg                    pub  200  200  200  200  200  200  200  200  401  401  401  401  401  401  401
GET    /api/badges/:owner/:name/status.svg                    priv 404  404  200  200  200  404  200  404  401  401  401  401  401  401  401
GET    /api/stream/:owner/:name                               pub  200  200  200  200  200  200  200  200  401  401  401  401  401  401  401
GET    /api/stream/:owner/:name                               priv 404  404  200  200  200  404  200  404  401  401  401  401  401  401  401
GET    /api/stream/:owner/:name/:number/:stage/:step          pub  200  200  200  200  200  200  200  200  401  401  401  401  401  401  401
GET    /api/stream/:owner/:name/:number/:stage/:step          priv 404  404  200  200  200  404  200  404  401  401  401  401  401  401  401
GET    /api/repos/:owner/:name/builds                         pub  200  200  200  200  200  200  200  200  401  401  401  401  401  401  401
GET    /api/repos/:owner/:name/builds                         priv 404  404  200  200  200  404  200  404  401  401  401  401  401  401  401
GET    /api/repos/:owner/:name/builds/latest                  pub  200  200  200  200  200  200  200  200  401  401  401  401  401  401  401
GET    /api/repos/:owner/:name/builds/latest                  priv 404  404  200  200  200  404  200  404  401  401  401  401  401  401  401
GET    /api/repos/:owner/:name/builds/:number                 pub  200  200  200  200  200  200  200  200  401  401  401  401  401  401  401
GET    /api/repos/:owner/:name/builds/:number                 priv 404  404  200  200  200  404  200  404  401  401  401  401  401  401  401
GET    /api/repos/:owner/:name/builds/:number/logs/:stage/:step pub 200 200  200  200  200  200  200  200  401  401  401  401  401  401  401
GET    /api/repos/:owner/:name/builds/:number/logs/:stage/:step priv 404 404 200  200  200  404  200  404  401  401  401  401  401  401  401
GET    /api/repos/:owner/:name/builds/:number/logs/:stage/:step [sse] pub 200 200 200 200 200 200 200 200 401 401 401  401  401  401  401
GET    /api/repos/:owner/:name/builds/:number/logs/:stage/:step [sse] priv 404 404 200 200 200 404 200 404 401 401 401  401  401  401  401
DELETE /api/repos/:owner/:name/builds/:number                 pub  401  403  403  200  200  200  403  403  401  401  401  401  401  401  401
DELETE /api/repos/:owner/:name/builds/:number                 priv 404  404  403  200  200  404  403  404  401  401  401  401  401  401  401
POST   /api/repos/:owner/:name/builds/:number                 pub  401  403  403  200  200  200  403  403  401  401  401  401  401  401  401
POST   /api/repos/:owner/:name/builds/:number                 priv 404  404  403  200  200  404  403  404  401  401  401  401  401  401  401
POST   /api/repos/:owner/:name/builds                         pub  401  403  403  200  200  200  403  403  401  401  401  401  401  401  401
POST   /api/repos/:owner/:name/builds                         priv 404  404  403  200  200  404  403  404  401  401  401  401  401  401  401
POST   /api/repos/:owner/:name/builds/:number/promote         pub  401  403  403  200  200  200  403  403  401  401  401  401  401  401  401
POST   /api/repos/:owner/:name/builds/:number/promote         priv 404  404  403  200  200  404  403  404  401  401  401  401  401  401  401
POST   /api/repos/:owner/:name/builds/:number/rollback        pub  401  403  403  200  200  200  403  403  401  401  401  401  401  401  401
POST   /api/repos/:owner/:name/builds/:number/rollback        priv 404  404  403  200  200  404  403  404  401  401  401  401  401  401  401
POST   /api/repos/:owner/:name/builds/:number/retry           pub  401  403  403  404  404  404  403  403  401  401  401  401  401  401  401
POST   /api/repos/:owner/:name/builds/:number/retry           priv 404  404  403  404  404  404  403  404  401  401  401  401  401  401  401
POST   /api/repos/:owner/:name/builds/:number/approve         pub  401  403  403  200  200  200  403  403  401  401  401  401  401  401  401
POST   /api/repos/:owner/:name/builds/:number/approve         priv 404  404  403  200  200  404  403  404  401  401  401  401  401  401  401
POST   /api/repos/:owner/:name/builds/:number/decline         pub  401  403  403  200  200  200  403  403  401  401  401  401  401  401  401
POST   /api/repos/:owner/:name/builds/:number/decline         priv 404  404  403  200  200  404  403  404  401  401  401  401  401  401  401
GET    /api/repos/:owner/:name/secrets                        pub  401  403  403  200  200  200  200  403  401  401  401  401  401  401  401
GET    /api/repos/:owner/:name/secrets                        priv 404  404  403  200  200  404  200  404  401  401  401  401  401  401  401
POST   /api/repos/:owner/:name/secrets                        pub  401  403  403  200  200  200  403  403  401  401  401  401  401  401  401
POST   /api/repos/:owner/:name/secrets                        priv 404  404  403  200  200  404  403  404  401  401  401  401  401  401  401
GET    /api/repos/:owner/:name/secrets/:secret                pub  401  403  403  200  200  200  200  403  401  401  401  401  401  401  401
GET    /api/repos/:owner/:name/secrets/:secret                priv 404  404  403  200  200  404  200  404  401  401  401  401  401  401  401
PATCH  /api/repos/:owner/:name/secrets/:secret                pub  401  403  403  200  200  200  403  403  401  401  401  401  401  401  401
PATCH  /api/repos/:owner/:name/secrets/:secret                priv 404  404  403  200  200  404  403  404  401  401  401  401  401  401  401
DELETE /api/repos/:owner/:name/secrets/:secret                pub  401  403  403  204  204  204  403  403  401  401  401  401  401  401  401
DELETE /api/repos/:owner/:name/secrets/:secret                priv 404  404  403  204  204  404  403  404  401  401  401  401  401  401  401
GET    /api/repos/:owner/:name/cron                           pub  401  403  403  200  200  200  200  403  401  401  401  401  401  401  401
GET    /api/repos/:owner/:name/cron                           priv 404  404  403  200  200  404  200  404  401  401  401  401  401  401  401
POST   /api/repos/:owner/:name/cron                           pub  401  403  403  200  200  200  403  403  401  401  401  401  401  401  401
POST   /api/repos/:owner/:name/cron                           priv 404  404  403  200  200  404  403  404  401  401  401  401  401  401  401
GET    /api/repos/:owner/:name/cron/:cron                     pub  401  403  403  200  200  200  200  403  401  401  401  401  401  401  401
GET    /api/repos/:owner/:name/cron/:cron                     priv 404  404  403  200  200  404  200  404  401  401  401  401  401  401  401
PATCH  /api/repos/:owner/:name/cron/:cron                     pub  401  403  403  200  200  200  403  403  401  401  401  401  401  401  401
PATCH  /api/repos/:owner/:name/cron/:cron                     priv 404  404  403  200  200  404  403  404  401  401  401  401  401  401  401
DELETE /api/repos/:owner/:name/cron/:cron                     pub  401  403  403  204  204  204  403  403  401  401  401  401  401  401  401
DELETE /api/repos/:owner/:name/cron/:cron                     priv 404  404  403  204  204  404  403  404  401  401  401  401  401  401  401
POST   /api/repos/:owner/:name/cron/:cron                     pub  401  403  403  200  200  200  403  403  401  401  401  401  401  401  401
POST   /api/repos/:owner/:name/cron/:cron                     priv 404  404  403  200  200  404  403  404  401  401  401  401  401  401  401
GET    /api/secrets/:namespace                                -    401  403  403  403  200  200  200  403  401  401  401  401  401  401  401
POST   /api/secrets/:namespace                                -    401  403  403  403  200  200  403  403  401  401  401  401  401  401  401
GET    /api/secrets/:namespace/:secret                        -    401  403  403  403  200  200  200  403  401  401  401  401  401  401  401
PATCH  /api/secrets/:namespace/:secret                        -    401  403  403  403  200  200  403  403  401  401  401  401  401  401  401
DELETE /api/secrets/:namespace/:secret                        -    401  403  403  403  204  204  403  403  401  401  401  401  401  401  401
GET    /api/repos/:owner/:name/deliveries                     pub  401  403  403  403  200  200  200  403  401  401  401  401  401  401  401
GET    /api/repos/:owner/:name/deliveries                     priv 404  404  403  403  200  404  200  404  401  401  401  401  401  401  401
POST   /api/repos/:owner/:name/deliveries/:id/redeliver       pub  401  403  403  403  202  202  403  403  401  401  401  401  401  401  401
POST   /api/repos/:owner/:name/deliveries/:id/redeliver       priv 404  404  403  403  202  404  403  404  401  401  401  401  401  401  401

POST   /rpc/v1/ping                                           -    401  401  401  401  401  401  401  401  401  401  200  200  403  200  401
POST   /rpc/v1/request                                        -    401  401  401  401  401  401  401  401  401  401  200  200  403  200  401
POST   /rpc/v1/stages/:stage/accept                           -    401  401  401  401  401  401  401  401  401  401  409  409  403  200  401
POST   /rpc/v1/steps/:step                                    -    401  401  401  401  401  401  401  401  401  401  409  403  403  200  401
POST   /rpc/v1/steps/:step/logs                               -    401  401  401  401  401  401  401  401  401  401  409  403  403  204  401
POST   /rpc/v1/stages/:stage                                  -    401  401  401  401  401  401  401  401  401  401  409  403  403  200  401
GET    /rpc/v1/stages/:stage/details                          -    401  401  401  401  401  401  401  401  401  401  409  403  403  200  401
POST   /rpc/v1/builds/:build/watch                            -    401  401  401  401  401  401  401  401  401  401  403  403  403   -   401
POST   /rpc/v1/stages/:stage/release                          -    401  401  401  401  401  401  401  401  401  401  409  403  403  409  401
`;
// Notes:
// - GET /.*/ is the web UI's page for any other path (here /octocat/private-repo/1): the same
//   page for everyone, which asks the API for the data. 503 instead of 200 when web/dist is not built.
// - POST /hook carries no signature here: refused whoever sends it (signed deliveries are
//   test/server/webhook-hardening.test.ts's).
// - /metrics: this server has HARRIER_METRICS_TOKEN; the scraper sends it.
// - DELETE /api/user/tokens/{id} aims at one of radm's tokens: anyone else's answer is 404.
// - Rows on secrets aim at `deploy_token` (GET, PATCH) and at a secret per actor (DELETE); rows
//   on cron jobs likewise at `nightly` (GET, PATCH, POST runs it now) and a job per actor (DELETE).
// - Organisation secret rows aim at octocat, radm's own login (the fake lists no organisation,
//   so nobody else administers it; hadm may as a Harrier administrator): `org_token` (GET,
//   PATCH) and a secret per actor (DELETE).
// - Build actions aim at a blocked build of the actor's own (cancel, approve, decline), or,
//   for actors who may not act, at one build nobody may touch; restart at build 1.
// - The holder's watch is a long poll that would answer only when the build ends (it is
//   test/server/stage-tokens.test.ts's); its release is refused because its step started.

type Expected = number | '-';
interface Row {
  key: string;
  method: string;
  path: string;
  variant: string;
  repo: RepoKey | undefined;
  expected: Record<Actor, Expected>;
}

function parseTable(text: string): Row[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const header = lines.shift()!.trim().split(/\s+/);
  if (header.slice(2).join(' ') !== ACTORS.join(' ')) throw new Error(`the table's columns must be the actors of authorization-world.ts, in order: ${ACTORS.join(' ')}`);
  return lines.map((line) => {
    const m = /^(\S+)\s+(\S+)(?:\s+\[(\w+)\])?\s+(pub|priv|-)\s+(.*)$/.exec(line.trim());
    if (!m) throw new Error(`table row not understood: ${line}`);
    const [, method, path, variant = '', repo, rest] = m;
    const cells = rest.trim().split(/\s+/);
    if (cells.length !== ACTORS.length) throw new Error(`table row has ${cells.length} cells, not ${ACTORS.length}: ${line}`);
    const expected = Object.fromEntries(ACTORS.map((a, i) => [a, cells[i] === '-' ? '-' : Number(cells[i])])) as Record<Actor, Expected>;
    return { key: `${method} ${path}${variant ? ` [${variant}]` : ''}`, method, path, variant, repo: repo === '-' ? undefined : (repo as RepoKey), expected };
  });
}

const ROWS = parseTable(TABLE);

interface Call {
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** An event stream: its status and type are read, then the stream is left. */
  stream?: boolean;
}

/** How each row is called, for one repository and actor. */
function callFor(w: World, row: Row, repo: RepoKey | undefined, actor: Actor): Call {
  const slug = repo ? REPOS[repo] : '';
  const base = `/api/repos/${slug}`;
  const builds = repo ? w.builds[repo] : undefined;
  const target = (action: 'cancel' | 'approve' | 'decline') => builds![action][actor] ?? builds!.untouchable;
  const runner = w.credentials[actor].runner ?? 'runner-other';
  const info: RunnerInfo = { name: runner, labels: {}, capacity: 2, running: w.credentials[actor].running ?? [], os: 'linux', arch: 'amd64', version: 'matrix' };
  const now = Math.floor(Date.now() / 1000);
  const calls: Record<string, () => Call> = {
    'GET /healthz': () => ({ method: 'GET', path: '/healthz' }),
    'GET /.*/': () => ({ method: 'GET', path: `/${REPOS.priv}/1` }),
    'GET /login/:provider': () => ({ method: 'GET', path: '/login/github' }),
    '* /logout': () => ({ method: 'GET', path: '/logout' }),
    'POST /logout': () => ({ method: 'POST', path: '/logout' }),
    'POST /hook': () => ({ method: 'POST', path: '/hook', headers: { 'x-github-event': 'push', 'x-github-delivery': `matrix-${actor}` }, body: unsignedPush(w) }),
    'GET /metrics': () => ({ method: 'GET', path: '/metrics' }),
    'GET /api/system': () => ({ method: 'GET', path: '/api/system' }),
    'GET /api/user': () => ({ method: 'GET', path: '/api/user' }),
    'GET /api/user/csrf': () => ({ method: 'GET', path: '/api/user/csrf' }),
    'POST /api/user/token': () => ({ method: 'POST', path: '/api/user/token' }),
    'GET /api/user/tokens': () => ({ method: 'GET', path: '/api/user/tokens' }),
    'POST /api/user/tokens': () => ({ method: 'POST', path: '/api/user/tokens', body: { name: `matrix ${actor}` } }),
    'DELETE /api/user/tokens/:id': () => ({ method: 'DELETE', path: `/api/user/tokens/${w.spareUserToken}` }),
    'GET /api/user/repos': () => ({ method: 'GET', path: '/api/user/repos' }),
    'GET /api/users': () => ({ method: 'GET', path: '/api/users' }),
    'GET /api/users/:login': () => ({ method: 'GET', path: `/api/users/${w.users.stranger}` }),
    'PATCH /api/users/:login': () => ({ method: 'PATCH', path: `/api/users/${w.users.stranger}`, body: { active: true } }),
    'DELETE /api/users/:login': () => ({ method: 'DELETE', path: `/api/users/${w.users.doomed}` }),
    'GET /api/runners': () => ({ method: 'GET', path: '/api/runners' }),
    'GET /api/runners/tokens': () => ({ method: 'GET', path: '/api/runners/tokens' }),
    'POST /api/runners/tokens': () => ({ method: 'POST', path: '/api/runners/tokens', body: { runner: `issued-by-${actor}` } }),
    'DELETE /api/runners/tokens/:id': () => ({ method: 'DELETE', path: `/api/runners/tokens/${w.spareRunnerToken}` }),
    'GET /api/queue': () => ({ method: 'GET', path: '/api/queue' }),

    'GET /api/repos/:owner/:name': () => ({ method: 'GET', path: base }),
    'POST /api/repos/:owner/:name': () => ({ method: 'POST', path: base }),
    'PATCH /api/repos/:owner/:name': () => ({ method: 'PATCH', path: base, body: { timeout: 90 } }),
    'PATCH /api/repos/:owner/:name [trusted]': () => ({ method: 'PATCH', path: base, body: { trusted: true } }),
    'DELETE /api/repos/:owner/:name': () => ({ method: 'DELETE', path: base }),
    'GET /api/repos/:owner/:name/language': () => ({ method: 'GET', path: `${base}/language` }),
    'PATCH /api/repos/:owner/:name/language': () => ({ method: 'PATCH', path: `${base}/language`, body: { language: 'go' } }),
    'POST /api/repos/:owner/:name/language/detect': () => ({ method: 'POST', path: `${base}/language/detect` }),
    'GET /api/badges/:owner/:name/status.svg': () => ({ method: 'GET', path: `/api/badges/${slug}/status.svg` }),
    'GET /api/stream/:owner/:name': () => ({ method: 'GET', path: `/api/stream/${slug}`, stream: true }),
    'GET /api/stream/:owner/:name/:number/:stage/:step': () => ({ method: 'GET', path: `/api/stream/${slug}/1/1/1`, stream: true }),
    'GET /api/repos/:owner/:name/builds': () => ({ method: 'GET', path: `${base}/builds` }),
    'GET /api/repos/:owner/:name/builds/latest': () => ({ method: 'GET', path: `${base}/builds/latest` }),
    'GET /api/repos/:owner/:name/builds/:number': () => ({ method: 'GET', path: `${base}/builds/1` }),
    'GET /api/repos/:owner/:name/builds/:number/logs/:stage/:step': () => ({ method: 'GET', path: `${base}/builds/1/logs/1/1` }),
    'GET /api/repos/:owner/:name/builds/:number/logs/:stage/:step [sse]': () => ({
      method: 'GET',
      path: `${base}/builds/1/logs/1/1`,
      headers: { accept: 'text/event-stream' },
      stream: true,
    }),
    'DELETE /api/repos/:owner/:name/builds/:number': () => ({ method: 'DELETE', path: `${base}/builds/${target('cancel')}` }),
    'POST /api/repos/:owner/:name/builds/:number': () => ({ method: 'POST', path: `${base}/builds/1` }),
    'POST /api/repos/:owner/:name/builds': () => ({ method: 'POST', path: `${base}/builds?branch=main&FROM=${actor}` }),
    'POST /api/repos/:owner/:name/builds/:number/promote': () => ({ method: 'POST', path: `${base}/builds/1/promote?target=production` }),
    'POST /api/repos/:owner/:name/builds/:number/rollback': () => ({ method: 'POST', path: `${base}/builds/1/rollback?target=production` }),
    // A build no repository has: past the permission check, the answer is 404 whatever state build 1 is in.
    'POST /api/repos/:owner/:name/builds/:number/retry': () => ({ method: 'POST', path: `${base}/builds/999999/retry` }),
    'POST /api/repos/:owner/:name/builds/:number/approve': () => ({ method: 'POST', path: `${base}/builds/${target('approve')}/approve` }),
    'POST /api/repos/:owner/:name/builds/:number/decline': () => ({ method: 'POST', path: `${base}/builds/${target('decline')}/decline` }),
    'GET /api/repos/:owner/:name/secrets': () => ({ method: 'GET', path: `${base}/secrets` }),
    'POST /api/repos/:owner/:name/secrets': () => ({ method: 'POST', path: `${base}/secrets`, body: { name: `made_by_${actor}`, data: `value of ${actor}'s secret` } }),
    'GET /api/repos/:owner/:name/secrets/:secret': () => ({ method: 'GET', path: `${base}/secrets/deploy_token` }),
    'PATCH /api/repos/:owner/:name/secrets/:secret': () => ({ method: 'PATCH', path: `${base}/secrets/deploy_token`, body: { pull_request: false } }),
    'DELETE /api/repos/:owner/:name/secrets/:secret': () => ({ method: 'DELETE', path: `${base}/secrets/del_${actor}` }),
    'GET /api/repos/:owner/:name/cron': () => ({ method: 'GET', path: `${base}/cron` }),
    'POST /api/repos/:owner/:name/cron': () => ({ method: 'POST', path: `${base}/cron`, body: { name: `made_by_${actor}`, expr: '@daily' } }),
    'GET /api/repos/:owner/:name/cron/:cron': () => ({ method: 'GET', path: `${base}/cron/nightly` }),
    'PATCH /api/repos/:owner/:name/cron/:cron': () => ({ method: 'PATCH', path: `${base}/cron/nightly`, body: {} }),
    'DELETE /api/repos/:owner/:name/cron/:cron': () => ({ method: 'DELETE', path: `${base}/cron/del_${actor}` }),
    'POST /api/repos/:owner/:name/cron/:cron': () => ({ method: 'POST', path: `${base}/cron/nightly` }),
    'GET /api/secrets/:namespace': () => ({ method: 'GET', path: `/api/secrets/${ORG}` }),
    'POST /api/secrets/:namespace': () => ({ method: 'POST', path: `/api/secrets/${ORG}`, body: { name: `made_by_${actor}`, data: `value of ${actor}'s org secret` } }),
    'GET /api/secrets/:namespace/:secret': () => ({ method: 'GET', path: `/api/secrets/${ORG}/org_token` }),
    'PATCH /api/secrets/:namespace/:secret': () => ({ method: 'PATCH', path: `/api/secrets/${ORG}/org_token`, body: { pull_request: false } }),
    'DELETE /api/secrets/:namespace/:secret': () => ({ method: 'DELETE', path: `/api/secrets/${ORG}/del_${actor}` }),
    'GET /api/repos/:owner/:name/deliveries': () => ({ method: 'GET', path: `${base}/deliveries` }),
    'POST /api/repos/:owner/:name/deliveries/:id/redeliver': () => ({ method: 'POST', path: `${base}/deliveries/${w.deliveries[repo!]}/redeliver` }),

    'POST /rpc/v1/ping': () => ({ method: 'POST', path: rpcPaths.ping, body: info }),
    'POST /rpc/v1/request': () => ({ method: 'POST', path: rpcPaths.request, body: info }),
    'POST /rpc/v1/stages/:stage/accept': () => ({
      method: 'POST',
      path: rpcPaths.accept(w.victim.stage),
      // Each runner accepts with the stage token it holds: only the holder's is the victim stage's.
      body: { machine: runner, token: w.credentials[actor].headers['x-harrier-stage-token'] ?? 'no-stage-token-at-all-0000000000000000' },
    }),
    'POST /rpc/v1/steps/:step': () => ({ method: 'POST', path: rpcPaths.updateStep(w.victim.step), body: { status: 'running', started: now } }),
    'POST /rpc/v1/steps/:step/logs': () => ({ method: 'POST', path: rpcPaths.logs(w.victim.step), body: [{ pos: 0, out: `line from ${actor}\n`, time: 0 }] }),
    'POST /rpc/v1/stages/:stage': () => ({ method: 'POST', path: rpcPaths.updateStage(w.victim.stage), body: { status: 'running', started: now } }),
    'GET /rpc/v1/stages/:stage/details': () => ({ method: 'GET', path: rpcPaths.details(w.victim.stage) }),
    'POST /rpc/v1/builds/:build/watch': () => ({ method: 'POST', path: rpcPaths.watch(w.victim.build) }),
    'POST /rpc/v1/stages/:stage/release': () => ({ method: 'POST', path: rpcPaths.release(w.victim.stage) }),
  };
  const make = calls[row.key];
  if (!make) throw new Error(`the matrix has no call for ${row.key}: add one to callFor`);
  return make();
}

function unsignedPush(w: World): unknown {
  const repo = w.fake.repo(REPOS.priv)!;
  return githubPushPayload({ repo, after: 'f'.repeat(40) });
}

/**
 * Rows run phase by phase; rows of a phase at once, except the RPC phase, whose rows run in
 * table order (the holder's calls build on each other). A serial row's cells run in column
 * order (each changes what the next one finds).
 */
const DESTRUCTIVE = new Set([
  'DELETE /api/user/tokens/:id',
  'DELETE /api/users/:login',
  'DELETE /api/runners/tokens/:id',
  'DELETE /api/repos/:owner/:name',
  'DELETE /api/repos/:owner/:name/secrets/:secret',
  'DELETE /api/repos/:owner/:name/cron/:cron',
  'DELETE /api/secrets/:namespace/:secret',
]);
// A cron job's PATCH is conditional on the version it read: two at once refuse one with 409.
const SERIAL = new Set(['PATCH /api/repos/:owner/:name [trusted]', 'DELETE /api/repos/:owner/:name', 'POST /api/repos/:owner/:name/builds/:number', 'PATCH /api/repos/:owner/:name/cron/:cron']);
function phaseOf(row: Row): number {
  if (row.path.startsWith(RPC_PREFIX)) return 2;
  if (DESTRUCTIVE.has(row.key)) return 3;
  // Signing out ends the sessions every other row uses.
  if (row.key === 'POST /logout') return 4;
  return 1;
}

interface Answer {
  status: number;
  body: string;
  type: string;
}

async function send(w: World, call: Call, actor: Actor): Promise<Answer> {
  const headers: Record<string, string> = { ...w.credentials[actor].headers, ...call.headers };
  // A stage token means nothing to the API; only runner calls send one.
  if (!call.path.startsWith(RPC_PREFIX)) delete headers['x-harrier-stage-token'];
  if (call.body !== undefined) headers['content-type'] = 'application/json';
  const abort = new AbortController();
  const res = await fetch(w.host + call.path, {
    method: call.method,
    headers,
    body: call.body === undefined ? undefined : JSON.stringify(call.body),
    redirect: 'manual',
    signal: abort.signal,
  });
  const type = res.headers.get('content-type') ?? '';
  if (call.stream && res.status === 200) {
    abort.abort();
    return { status: res.status, body: '', type };
  }
  return { status: res.status, body: await res.text(), type };
}

/** Runs the rows' cells with at most `limit` requests in flight; returns what went wrong. */
async function runRows(w: World, rows: Row[], uiStatus: number): Promise<string[]> {
  const problems: string[] = [];
  const cell = async (row: Row, actor: Actor) => {
    let expected = row.expected[actor];
    if (expected === '-') return;
    if (row.key === 'GET /.*/' && expected === 200) expected = uiStatus;
    const call = callFor(w, row, row.repo, actor);
    const answer = await send(w, call, actor);
    const where = `${row.key}${row.repo ? ` on ${row.repo}` : ''} as ${actor} (${call.method} ${call.path})`;
    if (answer.status !== expected) problems.push(`${where}: expected ${expected}, got ${answer.status} ${answer.body.slice(0, 300)}`);
    if (call.stream && answer.status === 200 && !answer.type.startsWith('text/event-stream')) problems.push(`${where}: a stream answered ${answer.type}`);
    for (const leak of leaks(w, row, actor, answer.body)) problems.push(`${where}: the answer holds ${leak}`);
  };
  const serial = async (row: Row) => {
    for (const actor of ACTORS) await cell(row, actor);
  };
  const tasks: (() => Promise<void>)[] = rows.flatMap((row) => (SERIAL.has(row.key) ? [() => serial(row)] : ACTORS.map((a) => () => cell(row, a))));
  const limit = 12;
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < tasks.length) await tasks[next++]();
    }),
  );
  return problems;
}

function leaks(w: World, row: Row, actor: Actor, body: string): string[] {
  const found: string[] = [];
  const rpc = row.path.startsWith(RPC_PREFIX);
  // The holder is given its stage's secrets and clone credentials, and its own stage token back.
  if (!(rpc && actor === 'holdr')) {
    for (const secret of w.markers.secrets) if (body.includes(secret)) found.push(`the secret or credential ${secret.slice(0, 12)}…`);
  }
  // Runners are offered any repository's stages; the runners page shows administrators every running stage.
  const mayReadPrivate = PRIVATE_READERS.has(actor) || (rpc && ['rown', 'rimp', 'holdr'].includes(actor)) || (actor === 'hadm' && row.key === 'GET /api/runners');
  if (!mayReadPrivate) {
    // A repository's own paths name it in their 404, and the webhook names the repository its delivery
    // names; other answers must not name the private one at all.
    const markers = row.repo || row.key === 'POST /hook' ? w.markers.private : [...w.markers.private, REPOS.priv];
    for (const marker of markers) if (body.includes(marker)) found.push(`the private repository's ${marker}`);
  }
  return found;
}

describe.each(['sqlite', 'postgres'] as const)('authorization matrix on %s', (flavour) => {
  const skip = flavour === 'postgres' && !process.env.HARRIER_TEST_POSTGRES_URL;
  let w: World;
  beforeAll(async () => {
    if (!skip) w = await buildWorld(flavour);
  }, 120_000);
  afterAll(async () => {
    await w?.close();
  });

  it.skipIf(skip)('lists every route the server answers', () => {
    const registered = appRoutes(createApp(w.server.ctx, new AbortController().signal)).map((r) => `${r.method} ${r.path}`);
    const covered = new Set(ROWS.map((r) => `${r.method} ${r.path}`));
    const missing = [...new Set(registered)].filter((k) => !covered.has(k));
    expect(missing, 'routes the server answers without a row in the authorization matrix: add a row for each (every actor, both repositories when it names one)').toEqual([]);
    const stale = [...covered].filter((k) => !registered.includes(k));
    expect(stale, 'rows for routes the server no longer has').toEqual([]);
    for (const row of ROWS.filter((r) => r.path.includes(':owner/:name'))) {
      const other = row.repo === 'pub' ? 'priv' : 'pub';
      expect(row.repo, `${row.key} names a repository: it needs a row per repository`).toBeDefined();
      expect(ROWS.some((r) => r.key === row.key && r.repo === other), `${row.key} has no row for the ${other} repository`).toBe(true);
    }
  });

  it.skipIf(skip)('answers every route, for every caller, as the table says, and leaks nothing', async () => {
    const uiStatus = fs.existsSync(path.join(import.meta.dirname, '../../web/dist/index.html')) ? 200 : 503;
    const problems: string[] = [];
    for (const phase of [1, 2, 3, 4]) {
      const rows = ROWS.filter((r) => phaseOf(r) === phase);
      if (phase === 2) for (const row of rows) problems.push(...(await runRows(w, [row], uiStatus)));
      else problems.push(...(await runRows(w, rows, uiStatus)));
    }
    expect(problems).toEqual([]);

    // Refused calls changed nothing.
    const { db } = w.server.ctx;
    for (const repo of ['pub', 'priv'] as const) {
      const row = await db.repo.findFirstOrThrow({ where: { slug: REPOS[repo] } });
      const untouchable = await db.build.findFirstOrThrow({ where: { repoId: row.id, number: w.builds[repo].untouchable } });
      expect(untouchable.status, `${repo}: the build nobody may touch`).toBe('blocked');
      const left = (await db.secret.findMany({ where: { repoId: row.id, name: { startsWith: 'del_' } } })).map((s) => s.name.slice(4)).sort();
      const deleted = ROWS.find((r) => r.key === 'DELETE /api/repos/:owner/:name/secrets/:secret' && r.repo === repo)!;
      expect(left, `${repo}: secrets whose DELETE was refused`).toEqual(ACTORS.filter((a) => deleted.expected[a] !== 204).sort());
      expect(row.trusted, `${repo}: trusted`).toBe(repo === 'pub');
      const made = (await db.secret.findMany({ where: { repoId: row.id, name: { startsWith: 'made_by_' } } })).map((s) => s.name.slice(8)).sort();
      const create = ROWS.find((r) => r.key === 'POST /api/repos/:owner/:name/secrets' && r.repo === repo)!;
      expect(made, `${repo}: secrets created`).toEqual(ACTORS.filter((a) => create.expected[a] === 200).sort());
    }
    const orgSecrets = (prefix: string) => db.orgSecret.findMany({ where: { provider: 'github', namespace: ORG, name: { startsWith: prefix } } });
    const orgRow = (key: string) => ROWS.find((r) => r.key === key)!;
    const orgLeft = (await orgSecrets('del_')).map((s) => s.name.slice(4)).sort();
    expect(orgLeft, 'organisation secrets whose DELETE was refused').toEqual(ACTORS.filter((a) => orgRow('DELETE /api/secrets/:namespace/:secret').expected[a] !== 204).sort());
    const orgMade = (await orgSecrets('made_by_')).map((s) => s.name.slice(8)).sort();
    expect(orgMade, 'organisation secrets created').toEqual(ACTORS.filter((a) => orgRow('POST /api/secrets/:namespace').expected[a] === 200).sort());
    const victimLog = await readLogLines({ db }, w.victim.step);
    expect(victimLog.map((l) => l.out)).toEqual(['line from holdr\n']);
    const victim = await db.stage.findUniqueOrThrow({ where: { id: w.victim.stage } });
    expect([victim.machine, victim.status]).toEqual(['runner-victim', 'running']);
    expect(await db.user.count({ where: { login: w.users.doomed } })).toBe(0);
  }, 180_000);
});
