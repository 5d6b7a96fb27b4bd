import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGithubFake, type GithubFake } from '../../test/fakes/github-api.ts';
import { startApiHarness, type ApiHarness, type Browser } from '../../test/support/http.ts';
import type { Db } from '../db/client.ts';

const READ = { admin: false, push: false, pull: true };

async function addBuilds(db: Db, repoId: number, builds: { event: string; ref: string; status: string }[], now: number) {
  for (const [i, b] of builds.entries()) {
    await db.build.create({ data: { repoId, number: i + 1, ...b, target: b.ref.replace(/^refs\/heads\//, ''), createdAt: now, updatedAt: now } });
  }
}

describe.each(['sqlite', 'postgres'] as const)('status badges on %s', (flavour) => {
  let github: GithubFake;
  let harness: ApiHarness;
  let reader: Browser;

  beforeAll(async () => {
    github = await startGithubFake({ fixtureRepos: false, user: { id: 9, login: 'octo' } });
    github.addRepo({ slug: 'octo/private', private: true, permissions: READ });
    harness = await startApiHarness({ flavour, github });
    const now = harness.ctx.now();
    const { db } = harness;
    const app = await db.repo.create({
      data: { provider: 'github', uid: '1', namespace: 'octo', name: 'app', slug: 'octo/app', defaultBranch: 'trunk', visibility: 'public', active: true, createdAt: now, updatedAt: now },
    });
    await addBuilds(db, app.id, [
      { event: 'push', ref: 'refs/heads/trunk', status: 'success' },
      { event: 'push', ref: 'refs/heads/dev', status: 'success' },
      { event: 'push', ref: 'refs/heads/trunk', status: 'failure' },
      { event: 'tag', ref: 'refs/tags/v1', status: 'error' },
      { event: 'push', ref: 'refs/heads/dev', status: 'running' },
      // A pull request's build says nothing about the branch it targets.
      { event: 'pull_request', ref: 'refs/pull/1/head', status: 'success' },
    ], now);
    await db.repo.create({
      data: { provider: 'github', uid: '2', namespace: 'octo', name: 'quiet', slug: 'octo/quiet', visibility: 'public', createdAt: now, updatedAt: now },
    });
    reader = harness.browser();
    await reader.signIn('github');
    const synced = await reader.json('/api/user/repos?latest=true');
    expect(synced.status).toBe(200);
    const hidden = await db.repo.findFirstOrThrow({ where: { slug: 'octo/private' } });
    await addBuilds(db, hidden.id, [{ event: 'push', ref: 'refs/heads/main', status: 'success' }], now);
  });
  afterAll(async () => {
    await harness?.close();
    await github?.close();
  });

  const badge = async (path: string, browser = harness.browser()) => {
    const res = await browser.fetch(path);
    return { status: res.status, type: res.headers.get('content-type'), cache: res.headers.get('cache-control'), text: await res.text() };
  };
  const says = (svg: string) => /<title>build: (\w+)<\/title>/.exec(svg)?.[1];

  it('shows the latest push build of the default branch, to anyone, as an uncached SVG', async () => {
    const res = await badge('/api/badges/octo/app/status.svg');
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^image\/svg\+xml/);
    expect(res.cache).toMatch(/no-cache/);
    expect(says(res.text)).toBe('failing');
    expect(res.text).toContain('#e05d44');
  });

  it('takes the ref as a branch name or a full ref, and Drone\'s ?branch= too', async () => {
    for (const query of ['ref=dev', 'ref=refs/heads/dev', 'branch=dev']) {
      expect(says((await badge(`/api/badges/octo/app/status.svg?${query}`)).text)).toBe('running');
    }
  });

  it('shows a tag\'s build for a tag ref', async () => {
    expect(says((await badge('/api/badges/octo/app/status.svg?ref=refs/tags/v1')).text)).toBe('error');
  });

  it('says "none" for a branch without builds and a repository without any', async () => {
    expect(says((await badge('/api/badges/octo/app/status.svg?ref=feature')).text)).toBe('none');
    expect(says((await badge('/api/badges/octo/quiet/status.svg')).text)).toBe('none');
  });

  it('answers 404 for a private repository to someone who cannot read it, and the badge to a reader', async () => {
    const anonymous = await badge('/api/badges/octo/private/status.svg');
    expect(anonymous.status).toBe(404);
    expect(anonymous.text).toMatch(/sign in to see private repositories/);
    const allowed = await badge('/api/badges/octo/private/status.svg', reader);
    expect(allowed.status).toBe(200);
    expect(says(allowed.text)).toBe('passing');
  });

  it('answers 404 for a repository Harrier does not know', async () => {
    expect((await badge('/api/badges/octo/nothing/status.svg')).status).toBe(404);
  });

  it('refuses a repeated ref with 400', async () => {
    const res = await badge('/api/badges/octo/app/status.svg?ref=a&ref=b');
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/ref: must be one branch or ref/);
  });
});
