// The payoff of one module per provider: a provider Harrier does not ship, registered in
// the registry and nowhere else, signs users in, lists their repositories, gets its
// webhook created at activation, and has its deliveries verified and built.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Build, Commit, Hook, Netrc, Provider } from '../../core/domain.ts';
import { delivered } from '../../test/fakes/delivered.ts';
import { startApiHarness, type ApiHarness, type Browser, type BrowserRequest } from '../../test/support/http.ts';
import { header, hmacMatches, signatureMismatch, type HookHeaders } from './hook-delivery.ts';
import type { ProviderWebhook, ScmProvider } from './provider.ts';
import { ProviderRegistry } from './registry.ts';
import { ScmError, type CommitStatus, type ScmRepo, type ScmToken, type ScmUser } from './scm.ts';

const PIPELINE = 'kind: pipeline\ntype: docker\nname: default\nsteps:\n- name: build\n  image: alpine:3\n  commands: [echo hi]\n';
const HEAD = 'c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00';

/** "Tiny": a provider that approves every sign-in at once and keeps its repositories in memory. */
class TinyProvider implements ScmProvider {
  readonly provider = 'tiny' as Provider;
  readonly name = 'Tiny';
  readonly envPrefix = 'HARRIER_TINY';
  readonly stateKey = 'tiny-oauth-secret';
  readonly configured = true;
  readonly imageSources = ['https://avatars.tiny.example'];
  readonly hooks: { slug: string; url: string; secret: string }[] = [];
  readonly statuses: { sha: string; status: CommitStatus }[] = [];

  readonly repoAtTiny: ScmRepo = {
    uid: 'tiny-1',
    namespace: 'tina',
    name: 'app',
    slug: 'tina/app',
    cloneUrl: 'https://tiny.example/tina/app.git',
    sshUrl: '',
    link: 'https://tiny.example/tina/app',
    defaultBranch: 'main',
    private: false,
    visibility: 'public',
    perm: { read: true, write: true, admin: true },
  };

  readonly webhook: ProviderWebhook = {
    eventHeader: 'X-Tiny-Event',
    recognizes: (headers) => Boolean(header(headers, 'X-Tiny-Event')),
    deliveryId: (headers) => header(headers, 'X-Tiny-Delivery') ?? '',
    identify: (headers, body) => {
      const payload = JSON.parse(Buffer.from(body).toString('utf8')) as { repo: string };
      return { provider: this.provider, event: header(headers, 'X-Tiny-Event')!, deliveryId: header(headers, 'X-Tiny-Delivery') ?? '', repo: { uid: 'tiny-1', slug: payload.repo } };
    },
    signatureProblem: async (headers, body, secret, repo) => {
      const signature = header(headers, 'X-Tiny-Signature');
      if (!signature) return `the Tiny delivery for ${repo} is unsigned`;
      return hmacMatches('sha256', signature, body, secret) ? undefined : signatureMismatch(repo);
    },
    parse: (headers, body) => {
      const event = header(headers, 'X-Tiny-Event');
      if (event !== 'push') return { kind: 'ignored', reason: `Tiny event "${event}" does not start builds` };
      const payload = JSON.parse(Buffer.from(body).toString('utf8')) as { repo: string; after: string };
      const r = this.repoAtTiny;
      const hook: Hook = {
        provider: this.provider,
        deliveryId: header(headers, 'X-Tiny-Delivery') ?? '',
        event: 'push',
        action: '',
        repo: { uid: r.uid, namespace: r.namespace, name: r.name, slug: payload.repo, cloneUrl: r.cloneUrl, sshUrl: r.sshUrl, link: r.link, defaultBranch: r.defaultBranch, private: r.private },
        ref: 'refs/heads/main',
        target: 'main',
        source: 'main',
        sourceRepo: payload.repo,
        fork: false,
        before: '0'.repeat(40),
        after: payload.after,
        message: 'Tiny change',
        title: '',
        link: `${r.link}/commit/${payload.after}`,
        pullRequest: 0,
        author: { login: 'tina', name: 'Tina', email: 'tina@tiny.example', avatar: '' },
        sender: 'tina',
        timestamp: 1_700_000_000,
      };
      return { kind: 'hook', hook, requireNewHead: false };
    },
  };

  authorizeUrl(state: string, redirectUri: string): string {
    // Tiny approves at once: its authorize page is the way back with a code.
    return `${redirectUri}?${new URLSearchParams({ code: 'tiny-code', state })}`;
  }
  async exchange(code: string): Promise<ScmToken> {
    if (code !== 'tiny-code') throw new Error(`unexpected code ${code}`);
    return { access: 'tiny-token', refresh: '', expires: 0 };
  }
  async refresh(): Promise<ScmToken> {
    return { access: 'tiny-token', refresh: '', expires: 0 };
  }
  async user(): Promise<ScmUser> {
    return { id: 't-1', login: 'tina', email: 'tina@tiny.example', avatar: '' };
  }
  async orgs(): Promise<string[]> {
    return [];
  }
  async orgAdmin(): Promise<boolean> {
    return false;
  }
  async repos(): Promise<ScmRepo[]> {
    return [this.repoAtTiny];
  }
  async repo(): Promise<ScmRepo> {
    return this.repoAtTiny;
  }
  async findCommit(): Promise<Commit | null> {
    return { sha: HEAD, message: 'Tiny commit', link: `https://tiny.example/commit/${HEAD}`, timestamp: 0, author: { login: 'tina', name: 'Tina', email: 'tina@tiny.example', avatar: '' } };
  }
  async commitHash(_token: string, _slug: string, sha: string): Promise<string> {
    if (HEAD.startsWith(sha.toLowerCase())) return HEAD;
    throw new ScmError(`Tiny has no commit ${sha}`, 404, this.provider);
  }
  async file(_token: string, _slug: string, _sha: string, path: string): Promise<string | null> {
    return path === '.drone.yml' ? PIPELINE : null;
  }
  async createHook(_token: string, slug: string, url: string, secret: string): Promise<string> {
    this.hooks.push({ slug, url, secret });
    return `hook-${this.hooks.length}`;
  }
  async deleteHook(): Promise<void> {}
  async status(_token: string, _slug: string, sha: string, status: CommitStatus): Promise<void> {
    this.statuses.push({ sha, status });
  }
  netrc(token: string): Netrc {
    return { machine: 'tiny.example', login: token, password: '' };
  }
  async changedFiles(): Promise<string[] | undefined> {
    return undefined;
  }
}

describe('a third provider, registered in the registry alone', () => {
  let harness: ApiHarness;
  let browser: Browser;
  const tiny = new TinyProvider();
  const call = (path: string, init: BrowserRequest = {}) => browser.json(path, { ...init, headers: { Origin: harness.url, ...init.headers } });
  const deliver = (headers: HookHeaders, body: Buffer) =>
    fetch(`${harness.url}/hook`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...(headers as Record<string, string>) }, body });

  beforeAll(async () => {
    harness = await startApiHarness();
    harness.ctx.providers = new ProviderRegistry([...harness.ctx.providers.list(), tiny]);
    browser = harness.browser();
  });
  afterAll(async () => {
    await harness?.close();
  });

  it('signs a Tiny user in through /login/tiny and lists the repositories Tiny says they can access', async () => {
    const answers = await browser.follow('/login/tiny', {}, 1);
    expect(answers.map((a) => a.status)).toEqual([302, 303]);
    const me = await call('/api/user');
    expect(me.body).toMatchObject({ login: 'tina' });
    expect((await harness.db.user.findFirstOrThrow({ where: { login: 'tina' } })).provider).toBe('tiny');
    const repos = await call('/api/user/repos');
    expect(repos.body.map((r: { slug: string; scm: string }) => [r.slug, r.scm])).toEqual([['tina/app', 'tiny']]);
  });

  it('offers Tiny in /api/system once it is configured', async () => {
    const system = await call('/api/system');
    expect(system.body.providers).toMatchObject({ tiny: true });
  });

  it('creates the webhook at Tiny when the repository is activated', async () => {
    const res = await call('/api/repos/tina/app', { method: 'POST' });
    expect(res.status).toBe(200);
    expect(res.body.active).toBe(true);
    expect(tiny.hooks).toEqual([{ slug: 'tina/app', url: `${harness.url}/hook`, secret: expect.any(String) }]);
  });

  it('verifies a Tiny delivery with the hook secret and builds it', async () => {
    const body = Buffer.from(JSON.stringify({ repo: 'tina/app', after: HEAD }));
    const signature = `sha256=${createHmac('sha256', tiny.hooks[0].secret).update(body).digest('hex')}`;
    const res = await deliver({ 'X-Tiny-Event': 'push', 'X-Tiny-Delivery': 'tiny-d1', 'X-Tiny-Signature': signature }, body);
    // Stored and answered; a worker builds it.
    expect(res.status).toBe(202);
    const build = await (await delivered(`${harness.url}/hook`, res)).build();
    expect(build).toMatchObject({ status: 'pending', after: HEAD, event: 'push' });
  });

  it("refuses a Tiny delivery that Tiny's own check refuses, in Tiny's words", async () => {
    const body = Buffer.from(JSON.stringify({ repo: 'tina/app', after: HEAD }));
    const res = await deliver({ 'X-Tiny-Event': 'push', 'X-Tiny-Delivery': 'tiny-d2' }, body);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { message: string }).message).toBe('the Tiny delivery for tina/app is unsigned');
  });

  it('names every registered event header, Tiny\'s too, for a delivery no provider recognises', async () => {
    const res = await deliver({}, Buffer.from('{}'));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toBe(
      'the delivery names no event: expected an X-GitHub-Event (GitHub) or X-Event-Key (Bitbucket) or X-Tiny-Event (Tiny) header',
    );
  });

  it('refuses an unknown provider id, and two providers under one id, naming the ids it has', () => {
    expect(harness.ctx.providers.ids()).toEqual(['github', 'bitbucket', 'tiny']);
    expect(() => harness.ctx.providers.get('gitlab')).toThrow(/no provider "gitlab" is registered \(Harrier has github, bitbucket, tiny\)/);
    expect(() => new ProviderRegistry([tiny, tiny])).toThrow(/two providers are registered as "tiny"/);
  });
});
