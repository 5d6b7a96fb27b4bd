// Which deliveries become builds, through the server's real /hook with deliveries
// made by the provider stand-ins from commits of a real git repository.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Build } from '../../core/domain.ts';
import { deliverGithubHook, githubCreatePayload, githubPushPayload } from '../fakes/github-payloads.ts';
import { bitbucketScenario, githubScenario, SLUG, type BitbucketScenario, type GithubScenario } from '../support/scenario.ts';
import type { DeliveredResponse } from '../fakes/delivered.ts';

const PIPELINE = 'kind: pipeline\ntype: docker\nname: default\nsteps:\n- name: build\n  image: alpine:3\n  commands: [echo hi]\n';

async function builds(s: { api(path: string): Promise<Response> }): Promise<Build[]> {
  return (await (await s.api(`/api/repos/${SLUG}/builds`)).json()) as Build[];
}

/** An API answer's message, or why a delivery built nothing (once a worker handled it). */
async function message(res: Response | DeliveredResponse): Promise<string> {
  if ('outcome' in res && res.status < 300) return (await res.outcome()).reason;
  return ((await res.json()) as { message: string }).message;
}

describe('GitHub deliveries', () => {
  let s: GithubScenario;
  beforeAll(async () => {
    s = await githubScenario({ pipeline: PIPELINE });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('builds a tag once: from its push, not again from the create event GitHub also sends', async () => {
    const sha = s.git.commit({ 'v.txt': '1' }, 'Release 1.0.0');
    s.git.tag('v1.0.0', sha);
    const [pushed] = await s.fake.pushTag(SLUG, { tag: 'v1.0.0', after: sha });
    const build = (await pushed.build());
    expect(build).toMatchObject({ event: 'tag', ref: 'refs/tags/v1.0.0', after: sha, source: 'v1.0.0' });
    const repo = s.fake.repo(SLUG)!;
    const [created] = await s.fake.deliver(SLUG, 'create', githubCreatePayload({ repo, ref: 'v1.0.0', refType: 'tag' }));
    expect(created.status).toBe(200);
    expect((await builds(s)).filter((b) => b.event === 'tag')).toHaveLength(1);
  });

  it('never builds a deletion', async () => {
    const before = (await builds(s)).length;
    const repo = s.fake.repo(SLUG)!;
    const [res] = await s.fake.deliver(SLUG, 'push', githubPushPayload({ repo, after: s.git.head(), ref: 'refs/heads/gone', deleted: true }));
    expect(res.status).toBe(200);
    expect(await message(res)).toMatch(/delet/i);
    expect((await builds(s)).length).toBe(before);
  });

  it('builds an opened pull request from its head commit, at refs/pull/N/head', async () => {
    const sha = s.git.commit({ 'feature.txt': 'f' }, 'Add a feature', 'feature');
    const [res] = await s.fake.pullRequest(SLUG, { number: 7, action: 'opened', head: { ref: 'feature', sha }, base: { ref: 'main' }, title: 'A feature' });
    const build = (await res.build());
    expect(build).toMatchObject({ event: 'pull_request', action: 'opened', ref: 'refs/pull/7/head', after: sha, source: 'feature', target: 'main', title: 'A feature' });
    s.git.checkout('main');
  });

  it('builds a commit without a pipeline file from the language settings\' proposal, and says so', async () => {
    const { responses: none } = await s.push({ '.drone.yml': null }, 'Remove the pipeline');
    expect(await message(none[0])).toMatch(/no \.drone\.yml/);
    await s.server.ctx.db.repo.update({ where: { provider_slug: { provider: 'github', slug: SLUG } }, data: { pipelineProposal: PIPELINE } });
    const { sha, responses } = await s.push({ 'other.txt': 'o' }, 'Still no pipeline');
    expect(await responses[0].build()).toMatchObject({ after: sha, config_source: 'proposal', status: 'pending' });
    await s.server.ctx.db.repo.update({ where: { provider_slug: { provider: 'github', slug: SLUG } }, data: { pipelineProposal: '' } });
    const { responses: withFile } = await s.push({ '.drone.yml': PIPELINE }, 'Bring the pipeline back');
    expect((await withFile[0].build()).config_source).toBe('file');
  });

  it('skips a push whose commit message says [skip ci]', async () => {
    const before = (await builds(s)).length;
    const { responses } = await s.push({ 'docs.txt': 'd' }, 'Fix a typo [skip ci]');
    expect(await message(responses[0])).toMatch(/skip CI/i);
    expect((await builds(s)).length).toBe(before);
  });

  it('answers and ignores a push to a repository that is not active', async () => {
    expect((await s.api(`/api/repos/${SLUG}`, { method: 'DELETE' })).status).toBe(200);
    const repo = s.fake.repo(SLUG)!;
    const hook = s.fake.state.hooks.items.at(-1)!;
    const before = (await builds(s)).length;
    const body = JSON.stringify(githubPushPayload({ repo, after: s.git.commit({ 'x.txt': 'x' }, 'x') }));
    const res = await deliverGithubHook(hook.url, 'push', body, hook.secret);
    expect(res.status).toBe(200);
    expect(await message(res)).toMatch(/not active/);
    expect((await builds(s)).length).toBe(before);
  });
});

describe('Bitbucket deliveries', () => {
  let s: BitbucketScenario;
  beforeAll(async () => {
    s = await bitbucketScenario({ pipeline: PIPELINE });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('builds a created pull request, and an update only when its head commit changed', async () => {
    const first = s.git.commit({ 'f.txt': '1' }, 'Start feature', 'feature');
    const source = { branch: 'feature', hash: first };
    const [created] = await s.fake.pullRequest(SLUG, 'pullrequest:created', { id: 3, source, destination: { branch: 'main' } });
    const build = (await created.build());
    expect(build).toMatchObject({ event: 'pull_request', source: 'feature', target: 'main' });
    expect(first.startsWith(build.after)).toBe(true);

    const [retitled] = await s.fake.pullRequest(SLUG, 'pullrequest:updated', { id: 3, source, destination: { branch: 'main' }, title: 'New title' });
    expect(await message(retitled)).toMatch(/head commit did not change/);

    const second = s.git.commit({ 'f.txt': '2' }, 'More feature', 'feature');
    const [moved] = await s.fake.pullRequest(SLUG, 'pullrequest:updated', { id: 3, source: { branch: 'feature', hash: second }, destination: { branch: 'main' } });
    expect(second.startsWith((await moved.build()).after)).toBe(true);
    expect((await builds(s)).filter((b) => b.event === 'pull_request')).toHaveLength(2);
    s.git.checkout('main');
  });

  it('refuses a delivery whose X-Hub-Signature does not match with 401', async () => {
    const hook = s.fake.state.hooks.items.at(-1)!;
    const res = await fetch(hook.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Event-Key': 'repo:push', 'X-Request-UUID': 'x-1', 'X-Hub-Signature': 'sha256=' + '0'.repeat(64) },
      body: JSON.stringify({ repository: { full_name: SLUG, uuid: s.fake.repo(SLUG)!.uuid }, push: { changes: [] } }),
    });
    expect(res.status).toBe(401);
  });
});
