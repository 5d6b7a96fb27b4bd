// What the server's /hook refuses and what it takes from every delivery: unsigned and
// SHA-1-only deliveries (unless HARRIER_GITHUB_ALLOW_SHA1), replays of a body under a
// fresh delivery id, and the repository privacy each delivery carries.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Build } from '../../core/domain.ts';
import { bitbucketPushPayload, deliverBitbucketHook } from '../fakes/bitbucket-payloads.ts';
import { deliverGithubHook, githubPullRequestPayload, githubPushPayload, signGithubBody } from '../fakes/github-payloads.ts';
import { bitbucketScenario, githubScenario, SLUG, type BitbucketScenario, type GithubScenario } from '../support/scenario.ts';
import type { DeliveredResponse } from '../fakes/delivered.ts';

const PIPELINE = 'kind: pipeline\ntype: docker\nname: default\nsteps:\n- name: build\n  image: alpine:3\n  commands: [echo hi]\n';

/** An API answer's message, or why a delivery built nothing (once a worker handled it). */
async function message(res: Response | DeliveredResponse): Promise<string> {
  if ('outcome' in res && res.status < 300) return (await res.outcome()).reason;
  return ((await res.json()) as { message: string }).message;
}

type AnyScenario = GithubScenario | BitbucketScenario;

async function buildCount(s: AnyScenario): Promise<number> {
  return s.server.ctx.db.build.count();
}

async function repoRow(s: AnyScenario) {
  return s.server.ctx.db.repo.findFirstOrThrow({ where: { slug: SLUG } });
}

/** What an anonymous visitor gets for the repository: 200 while it is public, 404 once it is not. */
async function anonymousStatus(s: AnyScenario): Promise<number> {
  return (await fetch(`${s.server.host}/api/repos/${SLUG}`)).status;
}

describe('GitHub deliveries at /hook', () => {
  let s: GithubScenario;
  beforeAll(async () => {
    s = await githubScenario({ pipeline: PIPELINE });
  });
  afterAll(async () => {
    await s?.close();
  });

  const hook = () => s.fake.state.hooks.items.at(-1)!;
  const pushBody = (message: string) => Buffer.from(JSON.stringify(githubPushPayload({ repo: s.fake.repo(SLUG)!, after: s.git.commit({ 'f.txt': message }, message) })));

  it('builds a replayed body once: a fresh delivery id with the same signed body is a duplicate', async () => {
    const body = pushBody('Replay me');
    const first = await deliverGithubHook(hook().url, 'push', body, hook().secret, { deliveryId: 'original-1' });
    expect((await first.build()).status).toBe('pending');
    const before = await buildCount(s);
    const replay = await deliverGithubHook(hook().url, 'push', body, hook().secret, { deliveryId: 'fresh-2' });
    // Stored, so the deliveries list shows it, and ignored at once.
    expect(replay.status).toBe(200);
    expect(await replay.clone().json()).toMatchObject({ status: 'ignored' });
    expect(await message(replay)).toBe('duplicate delivery: fresh-2 has the same signed body as delivery original-1, which was already received; a replayed delivery builds nothing');
    const again = await deliverGithubHook(hook().url, 'push', body, hook().secret, { deliveryId: 'original-1' });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { message: string }).message).toMatch(/^delivery original-1 was already received as delivery \d+; it is handled once$/);
    expect(await buildCount(s)).toBe(before);
  });

  it('refuses a delivery signed with SHA-1 only, naming HARRIER_GITHUB_ALLOW_SHA1', async () => {
    const body = pushBody('Old enterprise');
    const before = await buildCount(s);
    const res = await deliverGithubHook(hook().url, 'push', body, hook().secret, { unsigned: true, headers: { 'X-Hub-Signature': signGithubBody(body, hook().secret).sha1 } });
    expect(res.status).toBe(401);
    expect(await message(res)).toMatch(/signed with SHA-1 only.*HARRIER_GITHUB_ALLOW_SHA1=true/);
    expect(await buildCount(s)).toBe(before);
  });

  it('refuses an unsigned delivery with 401', async () => {
    const res = await deliverGithubHook(hook().url, 'push', pushBody('Unsigned'), hook().secret, { unsigned: true });
    expect(res.status).toBe(401);
    expect(await message(res)).toMatch(/carries no X-Hub-Signature-256/);
  });

  it('makes a repository private with the first delivery that says so, and public again with the next', async () => {
    expect(await anonymousStatus(s)).toBe(200);
    const remote = s.fake.repo(SLUG)!;
    remote.private = true;
    remote.visibility = 'private';
    const { responses } = await s.push({ 'p.txt': 'private' }, 'Now private');
    expect(responses[0].status).toBe(202);
    expect(await repoRow(s)).toMatchObject({ private: true, visibility: 'private' });
    expect(await anonymousStatus(s)).toBe(404);

    remote.private = false;
    remote.visibility = 'public';
    // A pull request delivery carries the flag too, and the repository ignoring pull requests does not stop it applying.
    await s.server.ctx.db.repo.updateMany({ where: { slug: SLUG }, data: { ignorePullRequests: true } });
    const sha = s.git.commit({ 'q.txt': 'public' }, 'Public again', 'public-again');
    s.git.checkout('main');
    const [pr] = await s.fake.deliver(SLUG, 'pull_request', githubPullRequestPayload({ repo: remote, number: 5, head: { ref: 'public-again', sha } }));
    expect(await message(pr)).toMatch(/ignore_pull_requests/);
    expect(await repoRow(s)).toMatchObject({ private: false, visibility: 'public' });
    expect(await anonymousStatus(s)).toBe(200);
  });

  it('ignores the privacy of a delivery whose signature does not match', async () => {
    const remote = s.fake.repo(SLUG)!;
    const body = Buffer.from(JSON.stringify(githubPushPayload({ repo: { ...remote, private: true }, after: s.git.head() })));
    const res = await deliverGithubHook(hook().url, 'push', body, 'not-the-secret');
    expect(res.status).toBe(401);
    expect(await repoRow(s)).toMatchObject({ private: false, visibility: 'public' });
  });
});

describe.each(['sqlite', 'postgres'] as const)('replays sent at once on %s', (flavour) => {
  let s: GithubScenario;
  beforeAll(async () => {
    s = await githubScenario({ pipeline: PIPELINE, flavour });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('builds one of several deliveries of the same body under fresh ids, and answers the others as duplicates', async () => {
    const hook = s.fake.state.hooks.items.at(-1)!;
    const body = Buffer.from(JSON.stringify(githubPushPayload({ repo: s.fake.repo(SLUG)!, after: s.git.commit({ 't.txt': 't' }, 'Replayed together') })));
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => i + 1).map((n) => deliverGithubHook(hook.url, 'push', body, hook.secret, { deliveryId: `together-${n}` })));
    // Stored pending or, when an earlier one of them was already stored, ignored at once.
    for (const res of answers) expect([200, 202]).toContain(res.status);
    const outcomes = await Promise.all(answers.map((res) => res.outcome()));
    const built = outcomes.filter((o) => o.build).map((o) => o.build!);
    expect(built).toHaveLength(1);
    for (const other of outcomes.filter((o) => !o.build)) {
      expect(other.status).toBe('ignored');
      expect(other.reason).toMatch(/^duplicate delivery: together-\d+ has the same signed body as delivery together-\d+/);
    }
    expect(await s.server.ctx.db.build.count({ where: { after: built[0].after } })).toBe(1);
  });
});

describe('GitHub deliveries with HARRIER_GITHUB_ALLOW_SHA1=true', () => {
  let s: GithubScenario;
  beforeAll(async () => {
    s = await githubScenario({ pipeline: PIPELINE, env: { HARRIER_GITHUB_ALLOW_SHA1: 'true' } });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('builds a delivery signed with SHA-1 only, and still refuses a wrong SHA-1 signature', async () => {
    const hook = s.fake.state.hooks.items.at(-1)!;
    const body = Buffer.from(JSON.stringify(githubPushPayload({ repo: s.fake.repo(SLUG)!, after: s.git.commit({ 'e.txt': 'e' }, 'Enterprise') })));
    const wrong = await deliverGithubHook(hook.url, 'push', body, hook.secret, { unsigned: true, headers: { 'X-Hub-Signature': signGithubBody(body, 'nope').sha1 } });
    expect(wrong.status).toBe(401);
    const res = await deliverGithubHook(hook.url, 'push', body, hook.secret, { unsigned: true, headers: { 'X-Hub-Signature': signGithubBody(body, hook.secret).sha1 } });
    expect(res.status).toBe(202);
    expect((await res.build()).status).toBe('pending');
  });
});

describe('Bitbucket deliveries at /hook', () => {
  let s: BitbucketScenario;
  beforeAll(async () => {
    s = await bitbucketScenario({ pipeline: PIPELINE });
  });
  afterAll(async () => {
    await s?.close();
  });

  const hook = () => s.fake.state.hooks.items.at(-1)!;

  it('activates the repository with a hook that has a secret', () => {
    expect(hook().secret.length).toBeGreaterThanOrEqual(16);
  });

  it('refuses an unsigned delivery with 401, saying the hook has no secret', async () => {
    const before = await buildCount(s);
    const [signed] = await s.fake.push(SLUG, { after: s.git.commit({ 'a.txt': 'a' }, 'Signed') });
    expect(signed.status).toBe(202);
    await signed.build();
    const body = bitbucketPushPayload({ repo: s.fake.repo(SLUG)!, after: s.git.commit({ 'b.txt': 'b' }, 'Unsigned') });
    const res = await deliverBitbucketHook(hook().url, 'repo:push', body, hook().secret, { unsigned: true });
    expect(res.status).toBe(401);
    expect(await message(res)).toMatch(/carries no X-Hub-Signature: its webhook has no secret.*re-activate/);
    expect(await buildCount(s)).toBe(before + 1);
  });

  it('refuses every delivery for a repository whose hook secret Harrier does not hold, signed or not', async () => {
    const stored = (await repoRow(s)).hookSecret;
    await s.server.ctx.db.repo.updateMany({ where: { slug: SLUG }, data: { hookSecret: '' } });
    try {
      const body = bitbucketPushPayload({ repo: s.fake.repo(SLUG)!, after: s.git.commit({ 'c.txt': 'c' }, 'No secret') });
      for (const secret of ['', hook().secret]) {
        const res = await deliverBitbucketHook(hook().url, 'repo:push', body, secret);
        expect(res.status).toBe(401);
        expect(await message(res)).toMatch(/no webhook secret for/);
      }
    } finally {
      await s.server.ctx.db.repo.updateMany({ where: { slug: SLUG }, data: { hookSecret: stored } });
    }
  });

  it('treats a replayed body under a fresh X-Request-UUID as a duplicate', async () => {
    const body = Buffer.from(JSON.stringify(bitbucketPushPayload({ repo: s.fake.repo(SLUG)!, after: s.git.commit({ 'd.txt': 'd' }, 'Replay') })));
    expect((await deliverBitbucketHook(hook().url, 'repo:push', body, hook().secret, { requestId: 'bb-1' })).status).toBe(202);
    const replay = await deliverBitbucketHook(hook().url, 'repo:push', body, hook().secret, { requestId: 'bb-2' });
    expect(await message(replay)).toMatch(/^duplicate delivery: bb-2 has the same signed body as delivery bb-1/);
  });

  it('applies is_private from every delivery: private at once, public again', async () => {
    expect(await anonymousStatus(s)).toBe(200);
    const remote = s.fake.repo(SLUG)!;
    remote.private = true;
    await s.push({ 'e.txt': 'e' }, 'Now private');
    expect(await repoRow(s)).toMatchObject({ private: true, visibility: 'private' });
    expect(await anonymousStatus(s)).toBe(404);
    remote.private = false;
    await s.push({ 'e.txt': 'f' }, 'Public again');
    expect(await repoRow(s)).toMatchObject({ private: false, visibility: 'public' });
    expect(await anonymousStatus(s)).toBe(200);
  });
});
