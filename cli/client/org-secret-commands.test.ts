// `harrier secret … --org NAMESPACE [--provider P]` against a real server (GitHub stand-in
// that says who administers which organisation, real database and Redis): the organisation
// secrets the server then holds, sealed, what the commands print (never a value), how
// --provider picks the namespace's provider, and the server's refusals with exit 1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrgSecret } from '../../core/domain.ts';
import { orgSecretContext, secretBoxFor } from '../../server/secrets/secret-box.ts';
import { oneStepPipeline } from '../../test/support/fleet.ts';
import { githubScenario, type GithubScenario } from '../../test/support/scenario.ts';
import { harrierFor } from '../testing/client-run.ts';

describe.each(['sqlite', 'postgres'] as const)('harrier secret --org against a server on %s', (flavour) => {
  let s: GithubScenario;

  beforeAll(async () => {
    s = await githubScenario({ pipeline: oneStepPipeline('build', ['echo hello']), flavour });
    s.fake.state.orgs = ['acme', 'plain-members'];
    s.fake.state.orgAdmins = ['acme'];
  });
  afterAll(async () => {
    await s?.close();
  });

  const harrier = harrierFor(() => ({ server: s.server.host, token: s.token }));
  const row = (provider: string, name: string) => s.server.ctx.db.orgSecret.findFirst({ where: { provider, namespace: 'acme', name } });
  /** The value the server stored for runners, unsealed. */
  const value = async (provider: string, name: string) => {
    const stored = (await row(provider, name))!;
    return secretBoxFor(s.server.ctx.config.databaseSecret)!.open(stored.data, orgSecretContext(provider, 'acme', name));
  };

  it('adds, lists, updates and removes a secret of an organisation the user administers, never printing its value', async () => {
    const added = await harrier(['secret', 'add', '--org', 'acme', '--name', 'registry_password', '--data', 'org-wide-value']);
    expect(added.code).toBe(0);
    expect(added.out).toBe('secret registry_password added\n');
    const npm = await harrier(['secret', 'add', '--org', 'acme', '--name', 'npm_token', '--data', 'npm-value-1', '--allow-pull-request', '--format', 'json']);
    expect(npm.json<OrgSecret>()).toEqual({ id: expect.any(Number), namespace: 'acme', name: 'npm_token', pull_request: true });

    const ls = await harrier(['secret', 'ls', '--org', 'acme']);
    expect(ls.out).toBe('NAME               PULL REQUESTS\nnpm_token          yes\nregistry_password  no\n');
    const json = await harrier(['secret', 'ls', '--org', 'acme', '--format', 'json']);
    expect(json.json<OrgSecret[]>().map((x) => [x.namespace, x.name, x.pull_request])).toEqual([
      ['acme', 'npm_token', true],
      ['acme', 'registry_password', false],
    ]);
    for (const never of ['org-wide-value', 'npm-value-1', '"data"']) expect(json.out).not.toContain(never);

    const updated = await harrier(['secret', 'update', '--org', 'acme', '--name', 'npm_token', '--data', 'npm-value-2', '--allow-pull-request=false']);
    expect(updated.out).toBe('secret npm_token updated\n');
    expect(await row('github', 'npm_token')).toMatchObject({ pullRequest: false });
    expect(await value('github', 'npm_token')).toBe('npm-value-2');

    expect((await harrier(['secret', 'rm', '--org', 'acme', '--name', 'npm_token'])).out).toBe('secret npm_token removed\n');
    expect(await row('github', 'npm_token')).toBeNull();
    expect((await row('github', 'registry_password'))!.data).not.toContain('org-wide-value');
    expect(await value('github', 'registry_password')).toBe('org-wide-value');
    expect((await harrier(['secret', 'rm', '--org', 'acme', '--name', 'registry_password'])).code).toBe(0);
  });

  it('passes the server\'s refusals through: an organisation the user only belongs to (403), a secret missing (404)', async () => {
    const member = await harrier(['secret', 'add', '--org', 'plain-members', '--name', 'x_secret', '--data', 'value']);
    expect(member.code).toBe(1);
    expect(member.err).toBe(
      'harrier: you need to administer plain-members on GitHub to manage its secrets; GitHub does not list octocat as an administrator of plain-members (403 from POST /api/secrets/plain-members)\n',
    );
    expect(await s.server.ctx.db.orgSecret.count({ where: { namespace: 'plain-members' } })).toBe(0);
    const missing = await harrier(['secret', 'update', '--org', 'acme', '--name', 'nothing_here', '--allow-pull-request']);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('acme on GitHub has no organisation secret named "nothing_here" (404 from PATCH /api/secrets/acme/nothing_here)');
  });

  it('keeps a namespace of each --provider apart, which only a Harrier administrator may manage on another provider than their own', async () => {
    const refused = await harrier(['secret', 'ls', '--org', 'acme', '--provider', 'bitbucket']);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/you need to administer acme on Bitbucket .*you signed in with GitHub.*\(403 from GET \/api\/secrets\/acme\)\n$/);
    const unknown = await harrier(['secret', 'ls', '--org', 'acme', '--provider', 'gitlab']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('?provider= must name one of this server\'s providers (github, bitbucket), not "gitlab" (400 from GET /api/secrets/acme)');

    await s.server.ctx.db.user.updateMany({ data: { admin: true } });
    try {
      expect((await harrier(['secret', 'add', '--org', 'acme', '--provider', 'bitbucket', '--name', 'bb_only', '--data', 'bitbucket-value'])).code).toBe(0);
      expect(await value('bitbucket', 'bb_only')).toBe('bitbucket-value');
      expect(await row('github', 'bb_only')).toBeNull();
      expect((await harrier(['secret', 'ls', '--org', 'acme', '--provider', 'bitbucket', '--format', 'json'])).json<OrgSecret[]>().map((x) => x.name)).toEqual(['bb_only']);
      expect((await harrier(['secret', 'ls', '--org', 'acme', '--provider', 'github', '--format', 'json'])).json<OrgSecret[]>().map((x) => x.name)).not.toContain('bb_only');
      expect((await harrier(['secret', 'rm', '--org', 'acme', '--provider', 'bitbucket', '--name', 'bb_only'])).code).toBe(0);
      expect(await row('bitbucket', 'bb_only')).toBeNull();
    } finally {
      await s.server.ctx.db.user.updateMany({ data: { admin: false } });
    }
  });

  it('refuses --provider without --org before calling the server, with exit 2', async () => {
    const ran = await harrier(['secret', 'ls', 'octocat/hello-world', '--provider', 'github']);
    expect(ran.code).toBe(2);
    expect(ran.err).toBe('harrier: --provider picks an organisation\'s provider: give it with --org NAMESPACE; a repository\'s secrets need none\n');
  });
});
