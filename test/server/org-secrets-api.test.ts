// The organisation secrets API over real HTTP on SQLite and PostgreSQL: Drone's paths and
// JSON, values encrypted at rest and never answered, who may manage them (the namespace's
// administrators at the provider, the user's own login, Harrier administrators), namespaces
// kept apart per provider, CSRF and bad input refused as for repository secrets.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrgSecret } from '../../core/domain.ts';
import { sha256 } from '../../server/auth/secrets.ts';
import { orgSecretContext, secretBoxFor } from '../../server/secrets/secret-box.ts';
import { bitbucketScenario, githubScenario, type BitbucketScenario, type GithubScenario } from '../support/scenario.ts';

const KEY = '7a'.repeat(32);
const PIPELINE = 'kind: pipeline\ntype: docker\nname: default\nsteps:\n- name: build\n  image: alpine:3\n  commands: [echo hi]\n';
const VALUE = 'org-wide-registry-password';

function send(s: { api: GithubScenario['api'] }, path: string, body: unknown, method = 'POST') {
  return s.api(path, { method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
}

async function answer(res: Promise<Response>): Promise<{ status: number; text: string; body: any }> {
  const r = await res;
  const text = await r.text();
  return { status: r.status, text, body: text ? JSON.parse(text) : undefined };
}

describe.each(['sqlite', 'postgres'] as const)('organisation secrets on GitHub, %s', (flavour) => {
  let s: GithubScenario;
  const base = '/api/secrets/acme';

  beforeAll(async () => {
    s = await githubScenario({ pipeline: PIPELINE, flavour, env: { HARRIER_DATABASE_SECRET: KEY } });
    s.fake.state.orgs = ['acme', 'plain-members'];
    s.fake.state.orgAdmins = ['acme'];
  });
  afterAll(async () => {
    await s?.close();
  });

  it("lets an organisation's admin create a secret, answering Drone's secret JSON without the value", async () => {
    const r = await answer(send(s, base, { name: 'registry_password', data: VALUE }));
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ id: expect.any(Number), namespace: 'acme', name: 'registry_password', pull_request: false });
    expect(r.text).not.toContain(VALUE);
    expect(s.fake.state.requests.items.some((q) => q.path.endsWith('/user/memberships/orgs/acme'))).toBe(true);
  });

  it('stores the value encrypted, bound to the provider, namespace and name', async () => {
    const row = await s.server.ctx.db.orgSecret.findFirstOrThrow({ where: { name: 'registry_password' } });
    expect(row).toMatchObject({ provider: 'github', namespace: 'acme' });
    expect(row.data).toMatch(/^v1:/);
    expect(row.data).not.toContain(VALUE);
    expect(secretBoxFor(KEY)!.open(row.data, orgSecretContext('github', 'acme', 'registry_password'))).toBe(VALUE);
    expect(() => secretBoxFor(KEY)!.open(row.data, orgSecretContext('bitbucket', 'acme', 'registry_password'))).toThrow(/does not decrypt/);
  });

  it('lists, shows, changes and deletes, and never answers a value', async () => {
    expect((await answer(send(s, base, { name: 'npm_token', data: 'npm-org-value', pull_request: true }))).status).toBe(200);
    const list = await answer(s.api(base));
    expect((list.body as OrgSecret[]).map((x) => [x.name, x.pull_request])).toEqual([
      ['npm_token', true],
      ['registry_password', false],
    ]);
    expect(list.text).not.toContain('"data"');
    // The namespace is matched ignoring case, as GitHub matches organisation names.
    expect((await answer(s.api('/api/secrets/ACME/registry_password'))).body).toMatchObject({ namespace: 'acme', name: 'registry_password' });

    const changed = await answer(send(s, `${base}/npm_token`, { data: 'npm-org-value-2', pull_request: false }, 'PATCH'));
    expect(changed.body).toMatchObject({ name: 'npm_token', pull_request: false });
    const row = await s.server.ctx.db.orgSecret.findFirstOrThrow({ where: { name: 'npm_token' } });
    expect(secretBoxFor(KEY)!.open(row.data, orgSecretContext('github', 'acme', 'npm_token'))).toBe('npm-org-value-2');

    expect((await s.api(`${base}/npm_token`, { method: 'DELETE' })).status).toBe(204);
    expect((await answer(s.api(`${base}/npm_token`))).status).toBe(404);
    expect((await s.api(`${base}/npm_token`, { method: 'DELETE' })).status).toBe(404);
    const missing = await answer(send(s, `${base}/nope`, { data: 'value' }, 'PATCH'));
    expect(missing.status).toBe(404);
    expect(missing.body.message).toMatch(/acme on GitHub has no organisation secret named "nope"/);
  });

  it('refuses bad input as for repository secrets, and a second secret of the same name ignoring case', async () => {
    const badName = await answer(send(s, base, { name: 'has space', data: 'value' }));
    expect(badName.status).toBe(400);
    expect(badName.body.message).toMatch(/^invalid request body: name: .*only letters, digits/);
    expect((await answer(send(s, base, { name: 'short', data: 'abc' }))).body.message).toMatch(/data: must be at least 4 characters/);
    expect((await answer(send(s, base, { name: 'flag', data: 'value', pull_request: 'yes' }))).body.message).toMatch(/pull_request: must be true or false/);
    expect((await answer(send(s, `${base}/registry_password`, { data: '' }, 'PATCH'))).status).toBe(400);
    const twin = await answer(send(s, base, { name: 'REGISTRY_PASSWORD', data: 'other value' }));
    expect(twin.status).toBe(409);
    expect(twin.body.message).toMatch(/already has an organisation secret named "registry_password"/);
    const namespace = await answer(s.api('/api/secrets/-acme'));
    expect(namespace.status).toBe(400);
    expect(namespace.body.message).toMatch(/not an organisation or workspace name/);
    const provider = await answer(s.api(`${base}?provider=gitlab`));
    expect(provider.status).toBe(400);
    expect(provider.body.message).toMatch(/\?provider= must name one of this server's providers \(github, bitbucket\)/);
  });

  it('answers 403 on every endpoint to a member who is not an admin, and 401 to nobody signed in', async () => {
    for (const [method, p, body] of [
      ['GET', '/api/secrets/plain-members'],
      ['POST', '/api/secrets/plain-members', { name: 'x_secret', data: 'value' }],
      ['GET', '/api/secrets/plain-members/x_secret'],
      ['PATCH', '/api/secrets/plain-members/x_secret', { pull_request: true }],
      ['DELETE', '/api/secrets/plain-members/x_secret'],
      ['GET', '/api/secrets/strangers'],
    ] as const) {
      const r = await answer(method === 'GET' ? s.api(p) : send(s, p, body ?? {}, method));
      expect(r.status, `${method} ${p}`).toBe(403);
      expect(r.body.message).toMatch(/you need to administer .* on GitHub to manage its secrets; GitHub does not list octocat as an administrator/);
    }
    expect(await s.server.ctx.db.orgSecret.count({ where: { namespace: 'plain-members' } })).toBe(0);
    expect((await fetch(`${s.server.host}${base}`)).status).toBe(401);
  });

  it('stops answering an admin the organisation demoted, at once', async () => {
    s.fake.state.orgAdmins = [];
    try {
      expect((await s.api(base)).status).toBe(403);
    } finally {
      s.fake.state.orgAdmins = ['acme'];
    }
    expect((await s.api(base)).status).toBe(200);
  });

  it("treats the user's own login as a namespace they administer", async () => {
    const r = await answer(send(s, '/api/secrets/octocat', { name: 'personal', data: 'personal-value' }));
    expect(r.status).toBe(200);
    expect(r.body.namespace).toBe('octocat');
  });

  it('lets a Harrier administrator manage any namespace, and keeps a GitHub and a Bitbucket namespace of one name apart', async () => {
    const { db } = s.server.ctx;
    const me = await db.user.findFirstOrThrow({ where: { login: 'octocat' } });
    const asGithubUser = await answer(s.api('/api/secrets/acme?provider=bitbucket'));
    expect(asGithubUser.status).toBe(403);
    expect(asGithubUser.body.message).toMatch(/you signed in with GitHub, which cannot say who administers it; sign in with Bitbucket/);
    await db.user.update({ where: { id: me.id }, data: { admin: true } });
    try {
      expect((await answer(send(s, '/api/secrets/strangers', { name: 'shared', data: 'github-value' }))).status).toBe(200);
      const other = await answer(send(s, '/api/secrets/acme?provider=bitbucket', { name: 'registry_password', data: 'bitbucket-value' }));
      expect(other.status).toBe(200);
      expect((await answer(s.api('/api/secrets/acme?provider=bitbucket'))).body.map((x: OrgSecret) => x.name)).toEqual(['registry_password']);
      const rows = await db.orgSecret.findMany({ where: { namespace: 'acme', name: 'registry_password' }, orderBy: { provider: 'asc' } });
      expect(rows.map((r) => r.provider)).toEqual(['bitbucket', 'github']);
    } finally {
      await db.user.update({ where: { id: me.id }, data: { admin: false } });
    }
  });

  it('refuses a cross-site write with the session cookie, and takes one with the CSRF token', async () => {
    const { db } = s.server.ctx;
    const me = await db.user.findFirstOrThrow({ where: { login: 'octocat' } });
    const cookie = randomBytes(32).toString('base64url');
    const csrf = randomBytes(32).toString('base64url');
    const now = s.server.ctx.now();
    await db.session.create({ data: { id: sha256(cookie), userId: me.id, csrf, expiresAt: now + 3600, createdAt: now } });
    const post = (headers: Record<string, string>) =>
      answer(fetch(`${s.server.host}${base}`, { method: 'POST', headers: { Cookie: `harrier_session=${cookie}`, 'Content-Type': 'application/json', ...headers }, body: JSON.stringify({ name: 'via_cookie', data: 'cookie-value' }) }));
    const refused = await post({ Origin: 'https://evil.example' });
    expect(refused.status).toBe(403);
    expect(refused.body.message).toMatch(/possible cross-site request/);
    expect(await db.orgSecret.count({ where: { name: 'via_cookie' } })).toBe(0);
    expect((await post({ 'X-CSRF-Token': csrf })).status).toBe(200);
  });
});

describe.each(['sqlite', 'postgres'] as const)('organisation secrets on Bitbucket, %s', (flavour) => {
  let s: BitbucketScenario;

  beforeAll(async () => {
    s = await bitbucketScenario({ pipeline: PIPELINE, flavour, env: { HARRIER_DATABASE_SECRET: KEY } });
    s.fake.state.workspaces = ['design', 'ops'];
    s.fake.state.workspaceOwners = ['ops'];
  });
  afterAll(async () => {
    await s?.close();
  });

  it("lets a workspace's owner manage its secrets and refuses a member with 403", async () => {
    const owner = await answer(send(s, '/api/secrets/ops', { name: 'deploy_key', data: 'ops-deploy-key' }));
    expect(owner.status).toBe(200);
    expect(owner.body).toEqual({ id: expect.any(Number), namespace: 'ops', name: 'deploy_key', pull_request: false });
    expect(s.fake.state.requests.items.some((q) => q.path.endsWith('/2.0/user/permissions/workspaces'))).toBe(true);
    const member = await answer(s.api('/api/secrets/design'));
    expect(member.status).toBe(403);
    expect(member.body.message).toMatch(/does not list .* as an administrator of design/);
    const row = await s.server.ctx.db.orgSecret.findFirstOrThrow({ where: { name: 'deploy_key' } });
    expect(row.provider).toBe('bitbucket');
  });
});
