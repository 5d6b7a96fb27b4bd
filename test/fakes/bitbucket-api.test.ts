import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sameCommit } from '../../server/providers/parse-hook.ts';
import { BitbucketScm } from '../../server/providers/bitbucket/api.ts';
import { startBitbucketFake, type BitbucketFake } from './bitbucket-api.ts';
import { bitbucketPushPayload, deliverBitbucketHook } from './bitbucket-payloads.ts';
import { startHookReceiver, type HookReceiver } from './hook-receiver.ts';
import { LocalGitRepo } from './local-git-repo.ts';

/** Response bodies of the fakes are JSON this test knows the shape of. */
const body = (res: Response): Promise<any> => res.json();

let fake: BitbucketFake;
let receiver: HookReceiver;
let git: LocalGitRepo;
let scm: BitbucketScm;
const secrets = new Map<string, string>();

beforeAll(async () => {
  fake = await startBitbucketFake({ user: { nickname: 'mona' }, callbackUrl: 'http://harrier.test/login' });
  receiver = await startHookReceiver((slug) => secrets.get(slug));
  git = new LocalGitRepo();
  git.commit({ 'README.md': '# app\n' }, 'initial');
  fake.addRepo({ slug: 'mona/app', gitDir: git.dir });
  scm = new BitbucketScm({ clientId: fake.clientId, clientSecret: fake.clientSecret, url: fake.url, apiUrl: fake.apiUrl });
  secrets.set('mona/app', 'bb-secret');
  await scm.createHook(fake.state.token, 'mona/app', receiver.url, 'bb-secret');
});

afterAll(async () => {
  await fake.close();
  await receiver.close();
  git.remove();
});

const api = (path: string, token = fake.state.token) => fetch(`${fake.apiUrl}${path}`, { headers: { Authorization: `Bearer ${token}` } });

describe('Bitbucket fake deliveries', () => {
  it('delivers a signed repo:push of a real commit that the hook parser verifies and builds', async () => {
    const sha = git.commit({ '.drone.yml': 'kind: pipeline\n' }, 'Add pipeline');
    const [res] = await fake.push('mona/app', { after: sha, branch: 'main' });
    expect(res.status).toBe(200);
    const delivery = await receiver.deliveries.waitFor((d) => d.result?.kind === 'hook' && d.result.hook.after === sha);
    expect(delivery.verified).toBe(true);
    if (delivery.result?.kind !== 'hook') throw new Error('expected a hook');
    expect(delivery.result.hook).toMatchObject({ event: 'push', ref: 'refs/heads/main', before: git.head(`${sha}^`), message: 'Add pipeline\n', author: { email: 'mona@example.com' }, sender: 'mona', repo: { slug: 'mona/app', uid: fake.repo('mona/app')!.uuid } });
  });

  it('delivers pull request events with 12-character hashes, and an update asks for the head check', async () => {
    const sha = git.commit({ 'feature.txt': 'x\n' }, 'Feature', 'feature');
    git.checkout('main');
    await fake.pullRequest('mona/app', 'pullrequest:updated', { id: 5, source: { branch: 'feature', hash: sha } });
    const d = await receiver.deliveries.waitFor((x) => x.result?.kind === 'hook' && x.result.hook.pullRequest === 5);
    if (d.result?.kind !== 'hook') throw new Error('expected a hook');
    expect(d.result.requireNewHead).toBe(true);
    expect(d.result.hook.after).toBe(sha.slice(0, 12));
    expect(sameCommit(d.result.hook.after, sha)).toBe(true);
    // The abbreviated hash is enough to read the pipeline at that commit.
    expect(await scm.file(fake.state.token, 'mona/app', d.result.hook.after, 'feature.txt')).toBe('x\n');
  });

  it('delivers only the events the hook subscribed to', async () => {
    const before = receiver.deliveries.items.length;
    const responses = await fake.pullRequest('mona/app', 'pullrequest:fulfilled', { id: 5, source: { branch: 'feature', hash: git.head() }, state: 'MERGED' });
    expect(responses).toHaveLength(0);
    expect(receiver.deliveries.items).toHaveLength(before);
  });

  it('an unsigned delivery fails verification', async () => {
    const res = await deliverBitbucketHook(receiver.url, 'repo:push', bitbucketPushPayload({ repo: fake.repo('mona/app')!, after: git.head() }), '', { unsigned: true });
    expect(res.status).toBe(401);
  });
});

describe('Bitbucket fake API surface', () => {
  it('answers the removed /2.0/user/permissions/repositories with 410 Gone', async () => {
    const res = await api('/2.0/user/permissions/repositories');
    expect(res.status).toBe(410);
    expect((await body(res)).error.message).toMatch(/CHANGE-2770/);
  });

  it('filters a workspace’s repositories by role', async () => {
    fake.addRepo({ slug: 'mona/readonly', permission: 'read' });
    const names = async (role: string) => ((await body(await api(`/2.0/repositories/mona?role=${role}`))).values as { full_name: string }[]).map((v) => v.full_name);
    expect(await names('member')).toEqual(['mona/app', 'mona/readonly']);
    expect(await names('contributor')).toEqual(['mona/app']);
    expect(await names('admin')).toEqual(['mona/app']);
  });

  it('filters the user’s repository permissions with a q query', async () => {
    const res = await api(`/2.0/user/workspaces/mona/permissions/repositories?q=${encodeURIComponent('repository.full_name="mona/readonly"')}`);
    expect((await body(res)).values).toMatchObject([{ permission: 'read', repository: { full_name: 'mona/readonly' } }]);
  });

  it('answers a wrong token with a 401 in Bitbucket’s error shape', async () => {
    const res = await api('/2.0/user', 'nope');
    expect(res.status).toBe(401);
    expect(await body(res)).toMatchObject({ type: 'error', error: { message: expect.stringMatching(/Token is invalid/) } });
  });

  it('answers what it does not model from go-scm’s recorded fixtures', async () => {
    const res = await api('/2.0/repositories/atlassian/stash-example-plugin/refs/branches');
    expect(res.status).toBe(200);
    expect((await body(res)).values.length).toBeGreaterThan(0);
  });

  it('answers an unknown repository with Bitbucket’s not-found message', async () => {
    const res = await api('/2.0/repositories/nobody/nothing/src/main/README');
    expect(res.status).toBe(404);
    expect((await body(res)).error.message).toBe('Repository nobody/nothing not found');
  });

  it('sends the user to the consumer’s callback URL when authorize names none', async () => {
    const res = await fetch(`${fake.url}/site/oauth2/authorize?client_id=${fake.clientId}&response_type=code&state=s1`, { redirect: 'manual' });
    const location = new URL(res.headers.get('location')!);
    expect(location.origin + location.pathname).toBe('http://harrier.test/login');
    expect(location.searchParams.get('state')).toBe('s1');
  });

  it('records statuses against the full hash an abbreviated one names', async () => {
    const head = git.head();
    await scm.status(fake.state.token, 'mona/app', head.slice(0, 12), { state: 'success', link: 'http://harrier.test/1', description: 'ok', context: 'harrier/push' });
    const res = await api(`/2.0/repositories/mona/app/commit/${head}/statuses`);
    expect((await body(res)).values).toMatchObject([{ state: 'SUCCESSFUL', key: 'harrier/push' }]);
  });
});
