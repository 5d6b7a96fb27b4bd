// The world the authorization matrix (authorization-matrix.test.ts) calls into: one server
// with a GitHub stand-in, a public and a private repository, each with a finished build
// (stage, step, log), secrets, and blocked builds to approve, decline and cancel; users for
// every actor; and runners holding stages. Private data carries random markers, so a test
// can tell whether an answer leaked it.
//
// The stand-in knows one account (octocat, admin of both repositories), so the other users'
// permissions are stored as a sync would store them, fresh for the length of the test, and
// Harrier has no reason to ask the provider. Should it ask anyway, the stand-in would answer
// as octocat, with admin: every refusal the matrix expects would fail, never pass.
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { Build, Stage } from '../../core/domain.ts';
import { RUNNER_HEADER, rpcPaths, STAGE_TOKEN_HEADER, type RunnerInfo } from '../../core/protocol.ts';
import { createApiToken } from '../../server/auth/api-token.ts';
import { sha256 } from '../../server/auth/secrets.ts';
import { sealedUserTokens } from '../../server/secrets/stored-credentials.ts';
import { startGithubFake, type GithubFake } from '../fakes/github-api.ts';
import { LocalGitRepo } from '../fakes/local-git-repo.ts';
import { startTestServer, TEST_RPC_SECRET, type TestServer } from '../support/server.ts';

export const REPOS = { pub: 'octocat/public-repo', priv: 'octocat/private-repo' } as const;
export type RepoKey = keyof typeof REPOS;
/** The namespace of both repositories: radm's own login, so radm administers its organisation secrets. */
export const ORG = 'octocat';

/** Who calls. The columns of the matrix, in its order. */
export const ACTORS = [
  'anon', // no credentials at all
  'strgr', // signed in (personal token), no permission: reads the public repository as anyone may
  'read', // pull permission on both repositories (personal token)
  'write', // push permission on both (session cookie with its X-CSRF-Token, as the web UI calls)
  'radm', // admin of both on the provider (octocat, personal token); not a Harrier administrator
  'hadm', // Harrier administrator (session cookie, Origin of HARRIER_HOST); admin of the public repository, nothing on the private one
  'xsite', // radm's session cookie sent by another site (Origin https://evil.example, no CSRF token)
  'refsd', // the provider refused the user's token (User.scmRefused); stored permissions say admin on both
  'blckd', // a blocked user's personal token (active false); stored permissions say admin on both
  'expd', // an expired personal token of a user with push permission on both
  'rown', // a runner holding another stage, as itself: shared secret, its own name and its own stage token
  'rimp', // the same runner naming the stage's holder, with its own stage token
  'rtok', // a runner token issued for another runner name, naming the holder
  'holdr', // the runner holding the stage the RPC rows are about, with its stage token (the control)
  'scrap', // a metrics scraper with HARRIER_METRICS_TOKEN
] as const;
export type Actor = (typeof ACTORS)[number];

/** Actors whose permissions let them read the private repository. */
export const PRIVATE_READERS: ReadonlySet<Actor> = new Set(['read', 'write', 'radm', 'xsite']);

const PIPELINE = (stage: string) => `kind: pipeline
type: docker
name: ${stage}
steps:
- name: build
  image: alpine:3
  environment:
    TOKEN:
      from_secret: deploy_token
  commands: [echo build]
`;

/** Build numbers in each repository that a write-level row acts on, per actor allowed to act. */
export interface BuildTargets {
  cancel: Partial<Record<Actor, number>>;
  approve: Partial<Record<Actor, number>>;
  decline: Partial<Record<Actor, number>>;
  /** A blocked build every refused actor aims at; it must still be blocked at the end. */
  untouchable: number;
}

export interface World {
  server: TestServer;
  fake: GithubFake;
  host: string;
  markers: {
    /** In the private repository's commit messages, its stage name and its log: no answer to an actor that cannot read it may hold one. */
    private: string[];
    /** Values no answer may hold, except the stage details given to the runner holding the stage. */
    secrets: string[];
  };
  builds: Record<RepoKey, BuildTargets>;
  /** Ids the RPC rows are about: the victim stage (private repository, held by `holdr`), its first step and its build. */
  victim: { stage: number; step: number; build: number };
  /** What each actor sends. */
  credentials: Record<Actor, { headers: Record<string, string>; runner?: string; running?: number[] }>;
  /** radm's spare personal token (public id), for DELETE /api/user/tokens/{id}. */
  spareUserToken: string;
  /** A runner token id, for DELETE /api/runners/tokens/{id}. */
  spareRunnerToken: string;
  /** A delivery of each repository, for POST /api/repos/{owner}/{name}/deliveries/{id}/redeliver. */
  deliveries: Record<RepoKey, number>;
  users: { stranger: string; doomed: string };
  close(): Promise<void>;
}

const ACTIONS = ['cancel', 'approve', 'decline'] as const;
/** Who may cancel, approve and decline builds of the repository: the Harrier administrator only the public one (admin there, nothing on the private one). */
const allowed = (key: RepoKey) => (key === 'pub' ? (['write', 'radm', 'hadm'] as const) : (['write', 'radm'] as const));

const mark = (what: string) => `${what}-${randomBytes(6).toString('hex')}`;

export async function buildWorld(flavour: 'sqlite' | 'postgres'): Promise<World> {
  const privateStage = mark('private-stage');
  const privateCommit = mark('private-commit');
  const privateLog = mark('private-log');
  const metricsToken = mark('metrics-token');
  const secretValues: Record<RepoKey, string> = { pub: mark('public-secret'), priv: mark('private-secret') };

  const fake = await startGithubFake({ fixtureRepos: false });
  const git: Record<RepoKey, LocalGitRepo> = { pub: new LocalGitRepo(), priv: new LocalGitRepo() };
  git.pub.commit({ '.drone.yml': PIPELINE('public-stage') }, 'Initial commit');
  git.priv.commit({ '.drone.yml': PIPELINE(privateStage) }, `Initial commit ${privateCommit}`);
  fake.addRepo({ slug: REPOS.pub, gitDir: git.pub.dir, private: false, visibility: 'public' });
  fake.addRepo({ slug: REPOS.priv, gitDir: git.priv.dir, private: true });
  const server = await startTestServer({ flavour, github: fake, env: { HARRIER_METRICS_TOKEN: metricsToken } });
  const { ctx } = server;
  const { db } = ctx;
  const host = server.host;
  const now = ctx.now();

  // octocat signs up as sign-in would leave it, syncs, and activates both repositories.
  const user = async (login: string, fields: { admin?: boolean; active?: boolean; scmRefused?: number; providerToken?: string; providerId?: string } = {}) => {
    const row = await db.user.create({
      data: { provider: 'github', providerId: fields.providerId ?? `9${randomBytes(4).readUInt32BE()}`, login, admin: fields.admin ?? false, active: fields.active ?? true, scmRefused: fields.scmRefused ?? 0, syncedAt: now, createdAt: now, updatedAt: now },
    });
    return db.user.update({ where: { id: row.id }, data: sealedUserTokens(ctx.config, row.id, { token: fields.providerToken ?? fake.state.token, refresh: '' }) });
  };
  const octocat = await user(fake.state.user.login, { providerId: String(fake.state.user.id) });
  await db.user.update({ where: { id: octocat.id }, data: { syncedAt: 0 } });
  const radmToken = await createApiToken(ctx, octocat.id);
  const asRadm = async (path: string, init: { method?: string; json?: unknown } = {}) => {
    const res = await fetch(host + path, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${radmToken}`, ...(init.json === undefined ? {} : { 'content-type': 'application/json' }) },
      body: init.json === undefined ? undefined : JSON.stringify(init.json),
    });
    const text = await res.text();
    expect(res.status, `${init.method ?? 'GET'} ${path}: ${text}`).toBeLessThan(300);
    return text ? JSON.parse(text) : undefined;
  };
  await asRadm('/api/user/repos?latest=true');
  const repoIds = {} as Record<RepoKey, number>;
  for (const key of ['pub', 'priv'] as const) {
    repoIds[key] = (await asRadm(`/api/repos/${REPOS[key]}`, { method: 'POST' })).id;
    await asRadm(`/api/repos/${REPOS[key]}/secrets`, { method: 'POST', json: { name: 'deploy_token', data: secretValues[key] } });
    await asRadm(`/api/repos/${REPOS[key]}/cron`, { method: 'POST', json: { name: 'nightly', expr: '0 3 * * *' } });
  }

  // The other actors' accounts, with the permissions a sync would have stored.
  const perms = async (userId: number, pub: [boolean, boolean, boolean], priv: [boolean, boolean, boolean]) => {
    for (const [key, [read, write, admin]] of [['pub', pub], ['priv', priv]] as const) {
      await db.perm.create({ data: { userId, repoId: repoIds[key], read, write, admin, syncedAt: now } });
    }
  };
  const NONE: [boolean, boolean, boolean] = [false, false, false];
  const READ: [boolean, boolean, boolean] = [true, false, false];
  const WRITE: [boolean, boolean, boolean] = [true, true, false];
  const ADMIN: [boolean, boolean, boolean] = [true, true, true];
  const stranger = await user('matrix-stranger');
  await perms(stranger.id, READ, NONE);
  const reader = await user('matrix-reader');
  await perms(reader.id, READ, READ);
  const writer = await user('matrix-writer');
  await perms(writer.id, WRITE, WRITE);
  const hadm = await user('matrix-admin', { admin: true });
  await perms(hadm.id, ADMIN, NONE);
  const refused = await user('matrix-refused', { scmRefused: now, providerToken: 'gho_revoked_by_the_user' });
  await perms(refused.id, ADMIN, ADMIN);
  const blocked = await user('matrix-blocked', { active: false });
  await perms(blocked.id, ADMIN, ADMIN);
  const expiring = await user('matrix-expired');
  await perms(expiring.id, WRITE, WRITE);
  await user('matrix-doomed');

  const session = async (userId: number) => {
    const cookie = randomBytes(32).toString('base64url');
    const csrf = randomBytes(32).toString('base64url');
    await db.session.create({ data: { id: sha256(cookie), userId, csrf, expiresAt: now + 86_400, createdAt: now } });
    return { cookie: `harrier_session=${cookie}`, csrf };
  };
  const writerSession = await session(writer.id);
  const hadmSession = await session(hadm.id);
  const xsiteSession = await session(octocat.id);
  const expiredToken = await createApiToken(ctx, expiring.id);
  await db.apiToken.update({ where: { id: sha256(expiredToken) }, data: { expiresAt: now - 60 } });
  const asHadm = async (path: string, json?: unknown): Promise<any> => {
    const res = await fetch(host + path, {
      method: json === undefined ? 'GET' : 'POST',
      headers: { cookie: hadmSession.cookie, origin: host, ...(json === undefined ? {} : { 'content-type': 'application/json' }) },
      body: json === undefined ? undefined : JSON.stringify(json),
    });
    expect(res.status, `${path}: as the Harrier administrator`).toBeLessThan(300);
    return res.json();
  };
  const runnerX = (await asHadm('/api/runners/tokens', { runner: 'runner-x' })).token as string;
  const spareRunnerToken = (await asHadm('/api/runners/tokens', { runner: 'runner-spare' })).id as string;
  const spareUserToken = (await asRadm('/api/user/tokens', { method: 'POST', json: { name: 'spare' } })).id as string;

  // Secrets the DELETE rows aim at, one per actor, so a 404 there can only mean "hidden".
  const secretValuesMade: string[] = [];
  await Promise.all(
    (['pub', 'priv'] as const).flatMap((key) =>
      ACTORS.map((actor) => {
        const data = mark(`del-${actor}`);
        secretValuesMade.push(data);
        return asRadm(`/api/repos/${REPOS[key]}/secrets`, { method: 'POST', json: { name: `del_${actor}`, data } });
      }),
    ),
  );
  // Cron jobs the DELETE rows aim at, likewise.
  for (const key of ['pub', 'priv'] as const) {
    for (const actor of ACTORS) await asRadm(`/api/repos/${REPOS[key]}/cron`, { method: 'POST', json: { name: `del_${actor}`, expr: '@daily' } });
  }
  // Organisation secrets of octocat, radm's own namespace: one the GET and PATCH rows aim at, one per actor for DELETE.
  const orgSecretValue = mark('org-secret');
  await asRadm(`/api/secrets/${ORG}`, { method: 'POST', json: { name: 'org_token', data: orgSecretValue } });
  await Promise.all(
    ACTORS.map((actor) => {
      const data = mark(`org-del-${actor}`);
      secretValuesMade.push(data);
      return asRadm(`/api/secrets/${ORG}`, { method: 'POST', json: { name: `del_${actor}`, data } });
    }),
  );

  // Runner calls for the setup, as a runner makes them.
  const rpc = async (path: string, runner: string, token: string, body?: unknown, method = 'POST') => {
    const res = await fetch(host + path, {
      method,
      headers: { authorization: `Bearer ${TEST_RPC_SECRET}`, [RUNNER_HEADER]: runner, [STAGE_TOKEN_HEADER]: token, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    expect(res.status, `${path} as ${runner}: ${text}`).toBeLessThan(300);
    return text ? JSON.parse(text) : undefined;
  };
  const accept = async (stageId: number, runner: string) => {
    const token = randomBytes(32).toString('base64url');
    await rpc(rpcPaths.accept(stageId), runner, token, { machine: runner, token });
    return token;
  };
  const stageOf = async (key: RepoKey, number: number): Promise<Stage> => ((await asRadm(`/api/repos/${REPOS[key]}/builds/${number}`)) as Build).stages![0];
  const push = async (key: RepoKey, message: string): Promise<number> => {
    const sha = git[key].commit({ [`${message}.txt`]: message }, key === 'priv' ? `${message} ${privateCommit}` : message);
    const [answer] = await fake.push(REPOS[key], { after: sha });
    expect(answer.status, await answer.clone().text()).toBe(202);
    return (await answer.build()).number;
  };

  // Each repository (the two at once): build 1 runs to its end, with a log; then, protected, blocked builds:
  // one per allowed actor and action, one nobody may touch, and one approved for a runner to hold.
  const prepare = async (key: RepoKey): Promise<{ targets: BuildTargets; held: number }> => {
    const number = await push(key, 'first');
    const stage = await stageOf(key, number);
    const token = await accept(stage.id, 'runner-setup');
    const step = stage.steps![0];
    const t = ctx.now();
    await rpc(rpcPaths.updateStage(stage.id), 'runner-setup', token, { status: 'running', started: t });
    await rpc(rpcPaths.updateStep(step.id), 'runner-setup', token, { status: 'running', started: t });
    await rpc(rpcPaths.logs(step.id), 'runner-setup', token, [{ pos: 0, out: key === 'priv' ? `${privateLog}\n` : 'public log line\n', time: 0 }]);
    await rpc(rpcPaths.updateStep(step.id), 'runner-setup', token, { status: 'success', started: t, stopped: t, exit_code: 0 });
    await rpc(rpcPaths.updateStage(stage.id), 'runner-setup', token, { status: 'success', started: t, stopped: t });
    expect(((await asRadm(`/api/repos/${REPOS[key]}/builds/${number}`)) as Build).status).toBe('success');
    await asRadm(`/api/repos/${REPOS[key]}`, { method: 'PATCH', json: { protected: true } });

    // The blocked builds are pushed all at once: which number each gets does not matter.
    const [untouchable, held, ...acted] = await Promise.all([push(key, 'untouchable'), push(key, 'held'), ...ACTIONS.flatMap((action) => allowed(key).map((actor) => push(key, `${action}-${actor}`)))]);
    const targets: BuildTargets = { cancel: {}, approve: {}, decline: {}, untouchable };
    for (const action of ACTIONS) for (const actor of allowed(key)) targets[action][actor] = acted.shift()!;
    await asRadm(`/api/repos/${REPOS[key]}/builds/${held}/approve`, { method: 'POST' });
    return { targets, held };
  };
  const [pub, priv] = await Promise.all([prepare('pub'), prepare('priv')]);
  const builds: Record<RepoKey, BuildTargets> = { pub: pub.targets, priv: priv.targets };
  const held: Record<RepoKey, number> = { pub: pub.held, priv: priv.held };
  // The runner the RPC rows test holds a stage of the public repository; the victim, one of the private one.
  const ownStage = await stageOf('pub', held.pub);
  const ownToken = await accept(ownStage.id, 'runner-other');
  const victimStage = await stageOf('priv', held.priv);
  const victimToken = await accept(victimStage.id, 'runner-victim');
  const victimBuild = (await db.stage.findUniqueOrThrow({ where: { id: victimStage.id } })).buildId;
  // A waiting stage, so that POST /rpc/v1/request answers at once instead of holding the poll open.
  const waiting = await push('pub', 'waiting');
  await asRadm(`/api/repos/${REPOS.pub}/builds/${waiting}/approve`, { method: 'POST' });
  // Language detection reads a new head commit's files once (many provider calls); done here, not by the rows at once.
  await Promise.all([asRadm(`/api/repos/${REPOS.pub}/language`), asRadm(`/api/repos/${REPOS.priv}/language`)]);
  // The runners page lists what each runner runs: the victim's private stage among them.
  const info = (name: string, running: number[]): RunnerInfo => ({ name, labels: {}, capacity: 2, running, os: 'linux', arch: 'amd64', version: 'matrix' });
  await rpc(rpcPaths.ping, 'runner-victim', victimToken, info('runner-victim', [victimStage.id]));
  await rpc(rpcPaths.ping, 'runner-other', ownToken, info('runner-other', [ownStage.id]));

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const runner = (secret: string, name: string, token: string) => ({ ...bearer(secret), [RUNNER_HEADER]: name, [STAGE_TOKEN_HEADER]: token });
  const credentials: World['credentials'] = {
    anon: { headers: {} },
    strgr: { headers: bearer(await createApiToken(ctx, stranger.id)) },
    read: { headers: bearer(await createApiToken(ctx, reader.id)) },
    write: { headers: { cookie: writerSession.cookie, 'x-csrf-token': writerSession.csrf } },
    radm: { headers: bearer(radmToken) },
    hadm: { headers: { cookie: hadmSession.cookie, origin: host } },
    xsite: { headers: { cookie: xsiteSession.cookie, origin: 'https://evil.example' } },
    refsd: { headers: bearer(await createApiToken(ctx, refused.id)) },
    blckd: { headers: bearer(await createApiToken(ctx, blocked.id)) },
    expd: { headers: bearer(expiredToken) },
    rown: { headers: runner(TEST_RPC_SECRET, 'runner-other', ownToken), runner: 'runner-other', running: [ownStage.id] },
    rimp: { headers: runner(TEST_RPC_SECRET, 'runner-victim', ownToken), runner: 'runner-victim', running: [victimStage.id] },
    rtok: { headers: runner(runnerX, 'runner-victim', ownToken), runner: 'runner-victim', running: [victimStage.id] },
    holdr: { headers: runner(TEST_RPC_SECRET, 'runner-victim', victimToken), runner: 'runner-victim', running: [victimStage.id] },
    scrap: { headers: bearer(metricsToken) },
  };

  return {
    server,
    fake,
    host,
    markers: {
      private: [privateStage, privateCommit, privateLog],
      secrets: [...Object.values(secretValues), orgSecretValue, ...secretValuesMade, fake.state.token, TEST_RPC_SECRET, runnerX, metricsToken, victimToken, ownToken],
    },
    builds,
    victim: { stage: victimStage.id, step: victimStage.steps![0].id, build: victimBuild },
    credentials,
    spareUserToken,
    spareRunnerToken,
    deliveries: {
      pub: (await db.delivery.findFirstOrThrow({ where: { repoId: repoIds.pub }, orderBy: { id: 'asc' } })).id,
      priv: (await db.delivery.findFirstOrThrow({ where: { repoId: repoIds.priv }, orderBy: { id: 'asc' } })).id,
    },
    users: { stranger: stranger.login, doomed: 'matrix-doomed' },
    async close() {
      await server.close();
      await fake.close();
      git.pub.remove();
      git.priv.remove();
    },
  };
}
