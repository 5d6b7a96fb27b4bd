import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GithubScm } from '../../server/providers/github/api.ts';
import { startGithubFake, type GithubFake } from './github-api.ts';
import { startHookReceiver, type HookReceiver } from './hook-receiver.ts';
import { LocalGitRepo } from './local-git-repo.ts';

/** Response bodies of the fakes are JSON this test knows the shape of. */
const body = (res: Response): Promise<any> => res.json();

let fake: GithubFake;
let receiver: HookReceiver;
let git: LocalGitRepo;
let scm: GithubScm;
const secrets = new Map<string, string>();

beforeAll(async () => {
  fake = await startGithubFake({ user: { login: 'mona', id: 7 } });
  receiver = await startHookReceiver((slug) => secrets.get(slug));
  git = new LocalGitRepo({ author: { name: 'Mona Lisa', email: 'mona@example.com' } });
  git.commit({ 'README.md': '# app\n' }, 'initial');
  fake.addRepo({ slug: 'mona/app', gitDir: git.dir });
  scm = new GithubScm({ clientId: fake.clientId, clientSecret: fake.clientSecret, url: fake.url, apiUrl: fake.apiUrl });
  secrets.set('mona/app', 'hook-secret');
  await scm.createHook(fake.state.token, 'mona/app', receiver.url, 'hook-secret');
});

afterAll(async () => {
  await fake.close();
  await receiver.close();
  git.remove();
});

describe('GitHub fake deliveries', () => {
  it('delivers a signed push of a real commit that the hook parser verifies and builds', async () => {
    const sha = git.commit({ '.drone.yml': 'kind: pipeline\n' }, 'Add pipeline');
    const [res] = await fake.push('mona/app', { after: sha });
    expect(res.status).toBe(200);
    const delivery = await receiver.deliveries.waitFor((d) => d.result?.kind === 'hook' && d.result.hook.after === sha);
    expect(delivery.verified).toBe(true);
    if (delivery.result?.kind !== 'hook') throw new Error('expected a hook');
    expect(delivery.result.hook).toMatchObject({
      event: 'push',
      ref: 'refs/heads/main',
      before: git.head(`${sha}^`),
      message: 'Add pipeline',
      author: { name: 'Mona Lisa', email: 'mona@example.com' },
      sender: 'mona',
      repo: { slug: 'mona/app', cloneUrl: `file://${git.dir}`, uid: String(fake.repo('mona/app')!.id) },
    });
  });

  it('delivers a tag push and a pull request', async () => {
    const sha = git.commit({ 'CHANGELOG.md': 'v1\n' }, 'Release');
    git.tag('v1.0.0', sha);
    await fake.pushTag('mona/app', { tag: 'v1.0.0', after: sha });
    await fake.pullRequest('mona/app', { number: 3, head: { ref: 'topic', sha }, title: 'Topic' });
    const tag = await receiver.deliveries.waitFor((d) => d.result?.kind === 'hook' && d.result.hook.event === 'tag');
    const pr = await receiver.deliveries.waitFor((d) => d.result?.kind === 'hook' && d.result.hook.event === 'pull_request');
    expect(tag.result?.kind === 'hook' && tag.result.hook.ref).toBe('refs/tags/v1.0.0');
    expect(pr.result?.kind === 'hook' && pr.result.hook).toMatchObject({ pullRequest: 3, after: sha, title: 'Topic', action: 'opened' });
  });

  it('stops delivering to a hook once it is deleted', async () => {
    const other = await startHookReceiver(() => 'x');
    try {
      const id = await scm.createHook(fake.state.token, 'mona/app', other.url, 'x');
      await scm.deleteHook(fake.state.token, 'mona/app', id);
      await fake.push('mona/app', { after: git.head() });
      await receiver.deliveries.waitFor((d) => d.result?.kind === 'hook' && d.result.hook.after === git.head() && d.result.hook.event === 'push');
      expect(other.deliveries.items).toHaveLength(0);
    } finally {
      await other.close();
    }
  });
});

describe('GitHub fake ping', () => {
  it('pings a new hook when asked to, and the parser ignores the ping', async () => {
    const pinging = await startGithubFake({ pingOnCreate: true });
    const inbox = await startHookReceiver(() => 'p');
    try {
      pinging.addRepo({ slug: 'mona/pinged' });
      const client = new GithubScm({ clientId: 'a', clientSecret: 'b', url: pinging.url, apiUrl: pinging.apiUrl });
      await client.createHook(pinging.state.token, 'mona/pinged', inbox.url, 'p');
      const ping = await inbox.deliveries.waitFor();
      expect(ping).toMatchObject({ verified: true, identity: { event: 'ping', repo: { slug: 'mona/pinged' } }, result: { kind: 'ignored' } });
    } finally {
      await pinging.close();
      await inbox.close();
    }
  });
});

describe('GitHub fake API surface', () => {
  it('answers a wrong token and a missing one with 401s in GitHub’s words', async () => {
    const wrong = await fetch(`${fake.apiUrl}/user`, { headers: { Authorization: 'token nope' } });
    expect(wrong.status).toBe(401);
    expect(await body(wrong)).toMatchObject({ message: 'Bad credentials' });
    const missing = await fetch(`${fake.apiUrl}/user`);
    expect((await body(missing)).message).toBe('Requires authentication');
  });

  it('accepts the token in both the "token" and the "Bearer" form', async () => {
    for (const scheme of ['token', 'Bearer']) {
      expect((await fetch(`${fake.apiUrl}/user`, { headers: { Authorization: `${scheme} ${fake.state.token}` } })).status).toBe(200);
    }
  });

  it('answers what it does not model from go-scm’s recorded fixtures', async () => {
    const res = await fetch(`${fake.apiUrl}/repos/octocat/hello-world/branches/master`, { headers: { Authorization: `token ${fake.state.token}` } });
    expect(res.status).toBe(200);
    expect((await body(res)).name).toBe('master');
  });

  it('answers an unknown API path with GitHub’s 404 body', async () => {
    const res = await fetch(`${fake.apiUrl}/nothing/here`, { headers: { Authorization: `token ${fake.state.token}` } });
    expect(res.status).toBe(404);
    expect(await body(res)).toMatchObject({ message: 'Not Found' });
  });

  it('keeps the API off the web host root, as GitHub Enterprise does', async () => {
    expect((await fetch(`${fake.url}/user`, { headers: { Authorization: `token ${fake.state.token}` } })).status).toBe(404);
  });

  it('refuses an authorize request for another OAuth app', async () => {
    const res = await fetch(`${fake.url}/login/oauth/authorize?client_id=other&redirect_uri=http://x/cb`, { redirect: 'manual' });
    expect(res.status).toBe(404);
  });

  it('lets a code be exchanged only once', async () => {
    const cb = 'http://harrier.test/cb';
    const res = await fetch(scm.authorizeUrl('s', cb), { redirect: 'manual' });
    const code = new URL(res.headers.get('location')!).searchParams.get('code')!;
    await expect(scm.exchange(code, cb)).resolves.toMatchObject({ access: fake.state.token });
    await expect(scm.exchange(code, cb)).rejects.toThrow(/incorrect or expired/);
  });

  it('refuses an exchange whose redirect_uri differs from the authorize request’s', async () => {
    const res = await fetch(scm.authorizeUrl('s', 'http://harrier.test/cb'), { redirect: 'manual' });
    const code = new URL(res.headers.get('location')!).searchParams.get('code')!;
    await expect(scm.exchange(code, 'http://evil.test/cb')).rejects.toThrow(/redirect_uri MUST match/);
  });

  it('logs every request with its status', async () => {
    await scm.repo(fake.state.token, 'mona/app');
    expect(await fake.waitForRequest((r) => r.path === '/api/v3/repos/mona/app' && r.method === 'GET')).toMatchObject({ status: 200 });
  });

  it('resolves waitForStatus for a status posted after the wait began', async () => {
    const waiting = fake.waitForStatus((s) => s.context === 'later');
    setTimeout(() => void scm.status(fake.state.token, 'mona/app', git.head(), { state: 'running', link: '', description: '', context: 'later' }), 20);
    expect((await waiting).state).toBe('pending');
  });

  it('rejects waitForStatus after the timeout, listing what was recorded', async () => {
    await expect(fake.waitForStatus((s) => s.context === 'never', 50)).rejects.toThrow(/no GitHub commit status matched within 50 ms; recorded so far/);
  });

  it('serves a file the test set in memory for one commit only', async () => {
    fake.setFile('mona/app', 'only-here.yml', 'a: 1\n', 'c'.repeat(40));
    expect(await scm.file(fake.state.token, 'mona/app', 'c'.repeat(40), 'only-here.yml')).toBe('a: 1\n');
    expect(await scm.file(fake.state.token, 'mona/app', git.head(), 'only-here.yml')).toBeNull();
  });
});
