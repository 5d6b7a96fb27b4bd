// A provider stand-in (GitHub or Bitbucket), a real local git repository holding a
// pipeline, a running Harrier server, and a signed-in user who has activated the
// repository through the REST API, so the stand-in holds the webhook and pushes
// reach the server.
import { createApiToken } from '../../server/auth/api-token.ts';
import { sealedUserTokens } from '../../server/secrets/stored-credentials.ts';
import { startBitbucketFake, type BitbucketFake } from '../fakes/bitbucket-api.ts';
import { startGithubFake, type GithubFake } from '../fakes/github-api.ts';
import { LocalGitRepo } from '../fakes/local-git-repo.ts';
import type { DeliveredResponse } from '../fakes/delivered.ts';
import { startTestServer, type TestServer, type TestServerOptions } from './server.ts';

export const SLUG = 'octocat/hello-world';

export interface Scenario<F> {
  git: LocalGitRepo;
  fake: F;
  server: TestServer;
  /** A personal API token of the signed-in user. */
  token: string;
  /** fetch against the server with the user's token. */
  api(path: string, init?: RequestInit): Promise<Response>;
  /** Commits the files and delivers GitHub's push webhook for it; returns the commit hash. */
  push(files: Record<string, string | null>, message?: string): Promise<{ sha: string; responses: DeliveredResponse[] }>;
  close(): Promise<void>;
}

export type GithubScenario = Scenario<GithubFake>;
export type BitbucketScenario = Scenario<BitbucketFake>;

export interface ScenarioOptions {
  pipeline: string;
  flavour?: 'sqlite' | 'postgres';
  private?: boolean;
  env?: Record<string, string>;
  logger?: TestServerOptions['logger'];
}

export async function githubScenario(opts: ScenarioOptions): Promise<GithubScenario> {
  const git = newRepo(opts.pipeline);
  const fake = await startGithubFake({ fixtureRepos: false });
  fake.addRepo({ slug: SLUG, gitDir: git.dir, private: opts.private ?? false, permissions: { admin: true, push: true, pull: true } });
  const user = { provider: 'github', providerId: String(fake.state.user.id), login: fake.state.user.login, token: fake.state.token };
  return activated(git, fake, await startTestServer({ flavour: opts.flavour, github: fake, env: opts.env, logger: opts.logger }), user);
}

export async function bitbucketScenario(opts: ScenarioOptions): Promise<BitbucketScenario> {
  const git = newRepo(opts.pipeline);
  const fake = await startBitbucketFake({ fixtureRepos: false });
  fake.addRepo({ slug: SLUG, gitDir: git.dir, private: opts.private ?? false, permission: 'admin' });
  const user = { provider: 'bitbucket', providerId: fake.state.user.uuid, login: fake.state.user.nickname, token: fake.state.token };
  return activated(git, fake, await startTestServer({ flavour: opts.flavour, bitbucket: fake, env: opts.env, logger: opts.logger }), user);
}

function newRepo(pipeline: string): LocalGitRepo {
  const git = new LocalGitRepo();
  git.commit({ 'README.md': '# hello\n', '.drone.yml': pipeline }, 'Initial commit');
  return git;
}

interface SignedIn {
  provider: string;
  providerId: string;
  login: string;
  token: string;
}

async function activated<F extends GithubFake | BitbucketFake>(git: LocalGitRepo, fake: F, server: TestServer, signedIn: SignedIn): Promise<Scenario<F>> {
  const { db } = server.ctx;
  const now = server.ctx.now();
  const { token: providerToken, ...account } = signedIn;
  const created = await db.user.create({ data: { ...account, createdAt: now, updatedAt: now } });
  // As sign-in stores it: sealed for this row.
  const user = await db.user.update({ where: { id: created.id }, data: sealedUserTokens(server.ctx.config, created.id, { token: providerToken, refresh: '' }) });
  const token = await createApiToken(server.ctx, user.id);
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${server.host}${path}`, { ...init, headers: { Authorization: `Bearer ${token}`, ...(init.headers ?? {}) } });
  const synced = await api('/api/user/repos?latest=true');
  if (!synced.ok) throw new Error(`syncing repositories failed: ${synced.status} ${await synced.text()}`);
  const activated = await api(`/api/repos/${SLUG}`, { method: 'POST' });
  if (!activated.ok) throw new Error(`activating ${SLUG} failed: ${activated.status} ${await activated.text()}`);
  return {
    git,
    fake,
    server,
    token,
    api,
    async push(files, message = 'change') {
      const sha = git.commit(files, message);
      const responses = await fake.push(SLUG, { after: sha });
      return { sha, responses };
    },
    async close() {
      await server.close();
      await fake.close();
    },
  };
}
