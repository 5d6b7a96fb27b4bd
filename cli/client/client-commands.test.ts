// The client commands against a real server (GitHub stand-in, real git repository, real
// database and Redis), run in-process as `harrier ARGS…` runs them: commander parses the
// words, the commands call the REST API with the user's personal token, and the test reads
// what they printed and their exit codes. Live logs with a real runner: build-logs-follow.test.ts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Build, QueueJson, Repo, Secret, User } from '../../core/domain.ts';
import { secretBoxFor, secretContext } from '../../server/secrets/secret-box.ts';
import { oneStepPipeline } from '../../test/support/fleet.ts';
import { githubScenario, SLUG, type GithubScenario } from '../../test/support/scenario.ts';
import { freePort } from '../../test/support/server.ts';
import { harrierFor } from '../testing/client-run.ts';
import { ClientError, HarrierClient } from './harrier-client.ts';

const PIPELINE = oneStepPipeline('build', ['echo hello']);

describe.each(['sqlite', 'postgres'] as const)('harrier client commands against a server on %s', (flavour) => {
  let s: GithubScenario;
  let cwd: string;

  beforeAll(async () => {
    s = await githubScenario({ pipeline: PIPELINE, flavour });
    cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'harrier-cli-client-'));
  });
  afterAll(async () => {
    await s?.close();
    if (cwd) fs.rmSync(cwd, { recursive: true, force: true });
  });

  const harrier = harrierFor(() => ({ server: s.server.host, token: s.token }), () => cwd);

  async function pushBuild(file: string): Promise<Build> {
    const { responses } = await s.push({ [file]: file }, `Add ${file}`);
    return (await responses[0].build()) as Build;
  }

  const setAdmin = (admin: boolean) => s.server.ctx.db.user.updateMany({ data: { admin } });

  describe('connecting', () => {
    it('says how to give the server and the token when either is missing, and exits 2', async () => {
      const noServer = await harrier(['user', 'info'], { HARRIER_TOKEN: s.token });
      expect(noServer.code).toBe(2);
      expect(noServer.err).toMatch(/no server to talk to: set HARRIER_SERVER .* or pass --server/);
      const noToken = await harrier(['user', 'info'], { HARRIER_SERVER: s.server.host });
      expect(noToken.code).toBe(2);
      expect(noToken.err).toContain(`no token: make a personal token on ${s.server.host}/account`);
      expect(noToken.err).toContain('set HARRIER_TOKEN');
    });

    it('takes --server and --token over the environment', async () => {
      const ran = await harrier(['user', 'info', '--server', s.server.host, '--token', s.token, '--format', 'json'], { HARRIER_SERVER: 'http://127.0.0.1:9', HARRIER_TOKEN: 'wrong' });
      expect(ran.code).toBe(0);
      expect(ran.json<User>().login).toBe(s.fake.state.user.login);
    });

    it('prints the server\'s message and exits 1 when the token is refused', async () => {
      const ran = await harrier(['user', 'info', '--token', 'not-a-token']);
      expect(ran.code).toBe(1);
      expect(ran.err).toMatch(/^harrier: the Bearer token is not valid .*\(401 from GET \/api\/user\)\n$/);
    });

    it('says the server cannot be reached, where, and exits 1', async () => {
      const nobody = `http://127.0.0.1:${await freePort()}`;
      const ran = await harrier(['user', 'info', '--server', nobody]);
      expect(ran.code).toBe(1);
      expect(ran.err).toBe(`harrier: cannot reach the Harrier server at ${nobody} (ECONNREFUSED); check HARRIER_SERVER (or --server) and that the server is running\n`);
    });

    it('says to upgrade the server when it has no endpoint for the call, and not when it lacks what was asked for', async () => {
      // What a command newer than the server meets: the server's answer to a path it does not route.
      const call = `/api/repos/${SLUG}/builds/1/no-such-action`;
      const refused = await new HarrierClient(s.server.host, s.token).request('POST', call).catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(ClientError);
      expect((refused as ClientError).message).toBe(`no such endpoint: POST ${call} (this server does not have this command's endpoint yet: upgrade it) (404 from POST ${call})`);
      const missing = await harrier(['build', 'info', SLUG, '999']);
      expect(missing.code).toBe(1);
      expect(missing.err).toBe(`harrier: ${SLUG} has no build 999 (404 from GET /api/repos/${SLUG}/builds/999)\n`);
    });

    it('refuses a repository that is not owner/name before calling the server, with exit 2', async () => {
      const ran = await harrier(['build', 'ls', 'hello-world']);
      expect(ran.code).toBe(2);
      expect(ran.err).toContain('"hello-world" is not a repository: write it as owner/name');
    });

    it('ends a usage error commander finds (a missing argument) with exit 2', async () => {
      const ran = await harrier(['build', 'info']);
      expect(ran.code).toBe(2);
      expect(ran.err).toContain("missing required argument 'repo'");
    });
  });

  describe('user info', () => {
    it('shows the token\'s user as a list, and as the server\'s JSON', async () => {
      const table = await harrier(['user', 'info']);
      expect(table.code).toBe(0);
      expect(table.out).toMatch(new RegExp(`^User: +${s.fake.state.user.login}$`, 'm'));
      expect(table.out).toMatch(/^Provider: +github$/m);
      const json = (await harrier(['user', 'info', '--format', 'json'])).json<User>();
      expect(json).toMatchObject({ login: s.fake.state.user.login, provider: 'github', admin: false });
    });

    it('shows another user only to administrators, with the server\'s refusal otherwise', async () => {
      const refused = await harrier(['user', 'info', s.fake.state.user.login]);
      expect(refused.code).toBe(1);
      expect(refused.err).toMatch(/administrator.*\(403 from GET \/api\/users\//);
      await setAdmin(true);
      try {
        const shown = await harrier(['user', 'info', s.fake.state.user.login, '--format', 'json']);
        expect(shown.code).toBe(0);
        expect(shown.json<User>()).toMatchObject({ login: s.fake.state.user.login, admin: true });
      } finally {
        await setAdmin(false);
      }
    });
  });

  describe('repo', () => {
    it('lists the user\'s repositories, filtered by --org and --active', async () => {
      const ls = await harrier(['repo', 'ls']);
      expect(ls.code).toBe(0);
      expect(ls.out.split('\n')[0]).toMatch(/^REPO +ACTIVE +VISIBILITY +TRUSTED +PERMISSION$/);
      expect(ls.out).toMatch(new RegExp(`^${SLUG} +yes +public +no +admin$`, 'm'));
      expect((await harrier(['repo', 'ls', '--active', '--format', 'json'])).json<Repo[]>().map((r) => r.slug)).toContain(SLUG);
      expect((await harrier(['repo', 'ls', '--org', 'somebody-else', '--format', 'json'])).json<Repo[]>()).toEqual([]);
    });

    it('shows a repository with its settings and webhook', async () => {
      const info = await harrier(['repo', 'info', SLUG]);
      expect(info.code).toBe(0);
      expect(info.out).toMatch(/^Config path: +\.drone\.yml$/m);
      expect(info.out).toMatch(new RegExp(`^Webhook: +${s.server.host}/hook \\(id `, 'm'));
      expect((await harrier(['repo', 'info', SLUG, '--format', 'json'])).json<Repo>()).toMatchObject({ slug: SLUG, active: true });
    });

    it('answers 404\'s message for a repository the server does not know', async () => {
      const ran = await harrier(['repo', 'info', 'nobody/nothing']);
      expect(ran.code).toBe(1);
      expect(ran.err).toContain('(404 from GET /api/repos/nobody/nothing)');
    });

    it('changes only the settings named, with drone\'s flags, and reads them back from the server', async () => {
      const ran = await harrier(['repo', 'update', SLUG, '--timeout', '1h30m', '--config-path', 'ci/pipeline.yml', '--ignore-forks', '--ignore-pull-requests=false', '--format', 'json']);
      expect(ran.code).toBe(0);
      expect(ran.json<Repo>()).toMatchObject({ timeout: 90, config_path: 'ci/pipeline.yml', ignore_forks: true, ignore_pull_requests: false, protected: false });
      const stored = await s.server.ctx.db.repo.findFirstOrThrow({ where: { slug: SLUG } });
      expect(stored).toMatchObject({ timeout: 90, configPath: 'ci/pipeline.yml', ignoreForks: true, ignorePullRequests: false });
      expect((await harrier(['repo', 'update', SLUG, '--ignore-forks=false', '--config-path', '.drone.yml', '--timeout', '60'])).code).toBe(0);
      expect(await s.server.ctx.db.repo.findFirstOrThrow({ where: { slug: SLUG } })).toMatchObject({ timeout: 60, configPath: '.drone.yml', ignoreForks: false });
    });

    it('passes the server\'s refusals through: a bad value (400) and trusted for a non-administrator (403)', async () => {
      const tooLong = await harrier(['repo', 'update', SLUG, '--timeout', '25h']);
      expect(tooLong.code).toBe(1);
      expect(tooLong.err).toMatch(/timeout.*between 1 and 1440 minutes.*\(400 from PATCH/);
      const trusted = await harrier(['repo', 'update', SLUG, '--trusted']);
      expect(trusted.code).toBe(1);
      expect(trusted.err).toContain('only a Harrier administrator may change "trusted"');
      await setAdmin(true);
      try {
        expect((await harrier(['repo', 'update', SLUG, '--trusted'])).code).toBe(0);
        expect((await harrier(['repo', 'update', SLUG, '--trusted=false'])).code).toBe(0);
      } finally {
        await setAdmin(false);
      }
      expect((await s.server.ctx.db.repo.findFirstOrThrow({ where: { slug: SLUG } })).trusted).toBe(false);
    });

    it('refuses an update that names no setting, or a duration it cannot read, with exit 2', async () => {
      expect((await harrier(['repo', 'update', SLUG])).err).toContain('nothing to change');
      const bad = await harrier(['repo', 'update', SLUG, '--timeout', 'soon']);
      expect(bad.code).toBe(2);
      expect(bad.err).toContain('--timeout "soon" is not a duration');
    });

    it('disables a repository (its webhook goes) and enables it again (a new webhook)', async () => {
      const disabled = await harrier(['repo', 'disable', SLUG, '--format', 'json']);
      expect(disabled.code).toBe(0);
      expect(disabled.json<Repo>()).toMatchObject({ active: false, webhook: { active: false } });
      const enabled = await harrier(['repo', 'enable', SLUG]);
      expect(enabled.code).toBe(0);
      expect(enabled.out).toMatch(/^Active: +yes$/m);
      expect((await s.server.ctx.db.repo.findFirstOrThrow({ where: { slug: SLUG } })).hookId).not.toBe('');
    });
  });

  describe('secret', () => {
    it('adds, lists, updates and removes a repository secret, never printing a value', async () => {
      const file = path.join(cwd, 'password.txt');
      fs.writeFileSync(file, 'from-a-file\n');
      const added = await harrier(['secret', 'add', SLUG, '--name', 'docker_password', '--data', '@password.txt']);
      expect(added.code).toBe(0);
      expect(added.out).toBe('secret docker_password added\n');
      expect((await harrier(['secret', 'add', SLUG, '--name', 'npm_token', '--data', 'n-p-m-token', '--allow-pull-request', '--format', 'json'])).json<Secret>()).toMatchObject({
        name: 'npm_token',
        pull_request: true,
      });
      const ls = await harrier(['secret', 'ls', SLUG]);
      expect(ls.out).toBe('NAME             PULL REQUESTS\ndocker_password  no\nnpm_token        yes\n');
      const updated = await harrier(['secret', 'update', SLUG, '--name', 'npm_token', '--allow-pull-request=false', '--format', 'json']);
      expect(updated.json<Secret>()).toMatchObject({ name: 'npm_token', pull_request: false });
      expect((await harrier(['secret', 'rm', SLUG, '--name', 'npm_token'])).out).toBe('secret npm_token removed\n');
      const left = (await harrier(['secret', 'ls', SLUG, '--format', 'json'])).json<Secret[]>();
      expect(left.map((x) => x.name)).toEqual(['docker_password']);
      expect(JSON.stringify(left)).not.toContain('from-a-file');
      // The server stored the file's content, sealed, as the value runners will get.
      const row = await s.server.ctx.db.secret.findFirstOrThrow({ where: { name: 'docker_password' } });
      expect(row.data).not.toContain('from-a-file');
      expect(secretBoxFor(s.server.ctx.config.databaseSecret)!.open(row.data, secretContext(row.repoId, row.name))).toBe('from-a-file\n');
    });

    it('passes the server\'s refusals through: a name taken (409), a value too short (400), a secret missing (404)', async () => {
      await harrier(['secret', 'add', SLUG, '--name', 'taken', '--data', 'value-1']);
      const twice = await harrier(['secret', 'add', SLUG, '--name', 'taken', '--data', 'value-2']);
      expect(twice.code).toBe(1);
      expect(twice.err).toMatch(/already has a secret named "taken".*\(409 from POST/);
      const short = await harrier(['secret', 'add', SLUG, '--name', 'short', '--data', 'ab']);
      expect(short.code).toBe(1);
      expect(short.err).toMatch(/at least 4 characters.*\(400 from POST/);
      const missing = await harrier(['secret', 'rm', SLUG, '--name', 'nothing-here']);
      expect(missing.code).toBe(1);
      expect(missing.err).toMatch(/has no secret named "nothing-here" \(404 from DELETE/);
    });

    it('asks for what is missing before calling the server, with exit 2', async () => {
      expect((await harrier(['secret', 'add', SLUG, '--data', 'value'])).err).toContain('name the secret with --name');
      expect((await harrier(['secret', 'add', SLUG, '--name', 'x'])).err).toContain('give the value with --data VALUE, or --data @FILE');
      const both = await harrier(['secret', 'ls', SLUG, '--org', 'octocat']);
      expect(both.code).toBe(2);
      expect(both.err).toContain(`name a repository (${SLUG}) or --org octocat, not both`);
      expect((await harrier(['secret', 'ls'])).err).toContain('name the repository (owner/name), or an organisation with --org NAMESPACE');
      expect((await harrier(['secret', 'update', SLUG, '--name', 'taken'])).err).toContain('nothing to change');
    });
  });

  describe('build', () => {
    it('lists builds newest first, as a table and as JSON, filtered by --status and --event', async () => {
      const first = await pushBuild('a.txt');
      const second = await pushBuild('b.txt');
      expect((await harrier(['build', 'cancel', SLUG, String(first.number)])).code).toBe(0);
      const ls = await harrier(['build', 'ls', SLUG]);
      expect(ls.code).toBe(0);
      const lines = ls.out.trim().split('\n');
      expect(lines[0]).toMatch(/^BUILD +STATUS +EVENT +BRANCH +COMMIT +AUTHOR +CREATED +MESSAGE$/);
      expect(lines[1]).toMatch(new RegExp(`^${second.number} +pending +push +main +${second.after.slice(0, 8)} .* Add b\\.txt$`));
      expect(lines[2]).toMatch(new RegExp(`^${first.number} +killed +push +main `));
      const json = (await harrier(['build', 'ls', SLUG, '--format', 'json'])).json<Build[]>();
      expect(json.map((b) => b.number)).toEqual([second.number, first.number]);
      expect((await harrier(['build', 'ls', SLUG, '--status', 'killed', '--format', 'json'])).json<Build[]>().map((b) => b.number)).toEqual([first.number]);
      expect((await harrier(['build', 'ls', SLUG, '--event', 'tag', '--format', 'json'])).json<Build[]>()).toEqual([]);
      expect((await harrier(['build', 'ls', SLUG, '--limit', '1', '--page', '2', '--format', 'json'])).json<Build[]>().map((b) => b.number)).toEqual([first.number]);
      expect((await harrier(['build', 'ls', SLUG, '--branch', 'elsewhere', '--format', 'json'])).json<Build[]>()).toEqual([]);
      expect((await harrier(['build', 'cancel', SLUG, String(second.number)])).code).toBe(0);
    });

    it('shows a build with its stages and steps, and the newest one for last', async () => {
      const b = await pushBuild('c.txt');
      const info = await harrier(['build', 'info', SLUG, String(b.number)]);
      expect(info.code).toBe(0);
      expect(info.out).toMatch(new RegExp(`^Build: +${b.number}$`, 'm'));
      expect(info.out).toMatch(/^Status: +pending$/m);
      expect(info.out).toMatch(/^1 +default +pending +no runner is connected$/m);
      expect(info.out).toMatch(/^1\.2 +build +pending$/m);
      const last = (await harrier(['build', 'info', SLUG, 'last', '--format', 'json'])).json<Build>();
      expect(last).toMatchObject({ number: b.number, status: 'pending' });
      expect(last.stages![0].steps!.map((st) => st.name)).toEqual(['clone', 'build']);
      const missing = await harrier(['build', 'info', SLUG, '999']);
      expect(missing.code).toBe(1);
      expect(missing.err).toContain(`${SLUG} has no build 999 (404 from GET /api/repos/${SLUG}/builds/999)`);
      expect((await harrier(['build', 'info', SLUG, 'first'])).err).toContain('the build number must be a whole number of at least 1, not "first"');
      await harrier(['build', 'cancel', SLUG, String(b.number)]);
    });

    it('cancels a build once, and says why not the second time (409)', async () => {
      const b = await pushBuild('d.txt');
      const cancelled = await harrier(['build', 'cancel', SLUG, String(b.number), '--format', 'json']);
      expect(cancelled.code).toBe(0);
      expect(cancelled.json<Build>()).toMatchObject({ number: b.number, status: 'killed' });
      const again = await harrier(['build', 'cancel', SLUG, String(b.number)]);
      expect(again.code).toBe(1);
      expect(again.err).toContain(`build ${b.number} has already finished (killed); there is nothing to cancel (409 from DELETE`);
    });

    it('restarts a finished build as a new build of the same commit', async () => {
      const b = await pushBuild('e.txt');
      const early = await harrier(['build', 'restart', SLUG, String(b.number)]);
      expect(early.code).toBe(1);
      expect(early.err).toContain(`build ${b.number} is still pending; cancel it or wait`);
      await harrier(['build', 'cancel', SLUG, String(b.number)]);
      const restarted = await harrier(['build', 'restart', SLUG, String(b.number)]);
      expect(restarted.code).toBe(0);
      const number = Number(/restarted as build (\d+)/.exec(restarted.out)![1]);
      expect(number).toBeGreaterThan(b.number);
      const stored = await s.server.ctx.db.build.findFirstOrThrow({ where: { number } });
      expect(stored).toMatchObject({ after: b.after, parent: b.number, status: 'pending' });
      await harrier(['build', 'cancel', SLUG, String(number)]);
    });

    it('approves and declines blocked builds of a protected repository, and refuses a build that is not blocked (409)', async () => {
      expect((await harrier(['repo', 'update', SLUG, '--protected'])).code).toBe(0);
      try {
        const approveMe = await pushBuild('f.txt');
        const declineMe = await pushBuild('g.txt');
        expect([approveMe.status, declineMe.status]).toEqual(['blocked', 'blocked']);
        const approved = await harrier(['build', 'approve', SLUG, String(approveMe.number), '--format', 'json']);
        expect(approved.json<Build>()).toMatchObject({ status: 'pending', approved_by: s.fake.state.user.login });
        const declined = await harrier(['build', 'decline', SLUG, String(declineMe.number)]);
        expect(declined.code).toBe(0);
        expect(declined.out).toMatch(/^Status: +declined$/m);
        const twice = await harrier(['build', 'approve', SLUG, String(declineMe.number)]);
        expect(twice.code).toBe(1);
        expect(twice.err).toContain(`is declined (declined by ${s.fake.state.user.login}), not blocked`);
        await harrier(['build', 'cancel', SLUG, String(approveMe.number)]);
      } finally {
        await harrier(['repo', 'update', SLUG, '--protected=false']);
      }
    });

    it('prints a finished step\'s stored log, and refuses a stage or step the build does not have', async () => {
      const b = await pushBuild('h.txt');
      await harrier(['build', 'cancel', SLUG, String(b.number)]);
      const empty = await harrier(['build', 'logs', SLUG, String(b.number), '1', 'build', '--format', 'json']);
      expect(empty.code).toBe(0);
      expect(empty.json<unknown[]>()).toEqual([]);
      const noStage = await harrier(['build', 'logs', SLUG, String(b.number), 'deploy']);
      expect(noStage.code).toBe(2);
      expect(noStage.err).toContain(`build ${b.number} has no stage "deploy"; it has 1 default`);
      const noStep = await harrier(['build', 'logs', SLUG, String(b.number), '1', '7']);
      expect(noStep.err).toContain(`stage 1 (default) of build ${b.number} has no step "7"; it has 1 clone, 2 build`);
    });
  });

  describe('queue', () => {
    it('is for administrators: the server\'s 403 message otherwise', async () => {
      const ran = await harrier(['queue']);
      expect(ran.code).toBe(1);
      expect(ran.err).toContain('is not an administrator of Harrier; GET /api/queue is for administrators (403 from GET /api/queue)');
    });

    it('shows what waits, for which platform and labels, and why', async () => {
      const b = await pushBuild('i.txt');
      await setAdmin(true);
      try {
        const table = await harrier(['queue']);
        expect(table.code).toBe(0);
        expect(table.out).toMatch(/^runners: 0 connected, 0 of 0 slots busy$/m);
        expect(table.out).toMatch(/^linux\/amd64 +- +1 +0 +\d+s +0 +no runner is connected$/m);
        const json = (await harrier(['queue', '--format', 'json'])).json<QueueJson>();
        expect(json.label_sets).toEqual([expect.objectContaining({ os: 'linux', arch: 'amd64', waiting: 1, runners: 0 })]);
      } finally {
        await setAdmin(false);
        await harrier(['build', 'cancel', SLUG, String(b.number)]);
      }
    });
  });
});
