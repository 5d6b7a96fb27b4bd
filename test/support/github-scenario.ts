// A GitHub stand-in, a real local git repository holding a pipeline, a running
// Harrier server, and a signed-in user who has activated the repository through
// the REST API, so the stand-in holds the webhook and pushes reach the server.
import { createApiToken } from '../../server/auth/api-token.ts';
import { startGithubFake, type GithubFake } from '../fakes/github-api.ts';
import { LocalGitRepo } from '../fakes/local-git-repo.ts';
import { startTestServer, type TestServer } from './server.ts';

export const SLUG = 'octocat/hello-world';

export interface GithubScenario {
  git: LocalGitRepo;
  fake: GithubFake;
  server: TestServer;
  /** A personal API token of the signed-in user. */
  token: string;
  /** fetch against the server with the user's token. */
  api(path: string, init?: RequestInit): Promise<Response>;
  /** Commits the files and delivers GitHub's push webhook for it; returns the commit hash. */
  push(files: Record<string, string | null>, message?: string): Promise<{ sha: string; responses: Response[] }>;
  close(): Promise<void>;
}

export async function githubScenario(opts: { pipeline: string; flavour?: 'sqlite' | 'postgres'; private?: boolean; env?: Record<string, string> }): Promise<GithubScenario> {
  const git = new LocalGitRepo();
  git.commit({ 'README.md': '# hello\n', '.drone.yml': opts.pipeline }, 'Initial commit');
  const fake = await startGithubFake({ fixtureRepos: false });
  fake.addRepo({ slug: SLUG, gitDir: git.dir, private: opts.private ?? false, permissions: { admin: true, push: true, pull: true } });
  const server = await startTestServer({ flavour: opts.flavour, github: fake, env: opts.env });
  const { db } = server.ctx;
  const now = server.ctx.now();
  const user = await db.user.create({
    data: {
      provider: 'github',
      providerId: String(fake.state.user.id),
      login: fake.state.user.login,
      email: fake.state.user.primaryEmail,
      token: fake.state.token,
      createdAt: now,
      updatedAt: now,
    },
  });
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
