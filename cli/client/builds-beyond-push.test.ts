// `harrier build create|promote|rollback` and `harrier cron` against a real server (GitHub
// stand-in, real git repository, real database and Redis): what they print as a table and
// as JSON, what the server then holds, and the server's refusals passed through with exit 1.
// No runner takes the builds: what they are, not how they run, is the commands' business
// (test/server/manual-builds.test.ts runs them).
import { beforeEach, describe, expect, it } from 'vitest';
import type { Build, Cron } from '../../core/domain.ts';
import { PROMOTABLE_PIPELINE } from '../../test/support/promotable-pipeline.ts';
import { SLUG, type GithubScenario } from '../../test/support/scenario.ts';
import { useClientScenario } from '../testing/client-run.ts';

// Promotable, and a pipeline only the cron jobs `nightly` and `weekly` run.
const PIPELINE = `${PROMOTABLE_PIPELINE}---
kind: pipeline
type: docker
name: scheduled
trigger:
  cron: [nightly, weekly]
steps:
- name: tidy
  image: alpine:3
  commands: [echo tidy]
`;

describe.each(['sqlite', 'postgres'] as const)('builds beyond a push from the command line, against a server on %s', (flavour) => {
  const { scenario, harrier } = useClientScenario({ pipeline: PIPELINE, flavour });
  let s: GithubScenario;
  beforeEach(() => {
    s = scenario();
  });

  /** The build as the server answers it now. */
  const stored = async (number: number) => (await (await s.api(`/api/repos/${SLUG}/builds/${number}`)).json()) as Build;
  const buildCount = () => s.server.ctx.db.build.count();

  async function created(args: string[] = []): Promise<Build> {
    const ran = await harrier(['build', 'create', SLUG, ...args, '--format', 'json']);
    expect(ran.err).toBe('');
    return ran.json<Build>();
  }

  describe('build create', () => {
    it('starts a custom build of the default branch\'s head with the -p parameters, shown as a list', async () => {
      const head = s.git.commit({ 'a.txt': 'a' }, 'Not pushed: no webhook tells Harrier');
      const ran = await harrier(['build', 'create', SLUG, '-p', 'GREETING=hello there', '--param', 'MODE=fast']);
      expect(ran.code).toBe(0);
      const number = Number(/^build (\d+) created\n/.exec(ran.out)![1]);
      expect(ran.out).toMatch(/^Event: +custom$/m);
      expect(ran.out).toMatch(new RegExp(`^Commit: +${head}$`, 'm'));
      expect(ran.out).toMatch(/^Param GREETING: +hello there$/m);
      expect(ran.out).toMatch(/^1 +default +pending\b/m);
      const login = s.fake.state.user.login;
      expect(await stored(number)).toMatchObject({ event: 'custom', after: head, target: 'main', params: { GREETING: 'hello there', MODE: 'fast' }, trigger: login });
    });

    it('builds the --branch named at the --commit named, answering the server\'s JSON', async () => {
      const feature = s.git.commit({ 'f.txt': 'f' }, 'On a branch', 'feature');
      s.git.checkout('main');
      const b = await created(['--branch', 'feature', '--commit', feature, '-p', 'MODE=old']);
      expect(b).toMatchObject({ event: 'custom', after: feature, target: 'feature', ref: 'refs/heads/feature', params: { MODE: 'old' } });
      expect(b.stages!.map((st) => st.name)).toEqual(['default']);
      expect(await stored(b.number)).toMatchObject({ event: 'custom', after: feature, target: 'feature' });
    });

    it('passes the server\'s refusal of an unknown branch through (404, exit 1) and creates no build', async () => {
      const before = await buildCount();
      const ran = await harrier(['build', 'create', SLUG, '--branch', 'no-such-branch']);
      expect(ran.code).toBe(1);
      expect(ran.err).toMatch(new RegExp(`has no branch no-such-branch on GitHub.*\\(404 from POST /api/repos/${SLUG}/builds\\)\\n$`));
      expect(await buildCount()).toBe(before);
    });

    it('refuses a -p parameter the endpoint reads itself before calling the server, with exit 2', async () => {
      const ran = await harrier(['build', 'create', SLUG, '-p', 'branch=feature']);
      expect(ran.code).toBe(2);
      expect(ran.err).toBe('harrier: --param branch=… would not reach the build: the server reads branch itself; use --branch\n');
      expect((await harrier(['build', 'create', SLUG, '-p', 'access_token=x'])).err).toContain('give the token with --token or HARRIER_TOKEN');
    });
  });

  describe('build promote and rollback', () => {
    it('promotes a build: event promote, deploy_to and parent, only the pipeline for that target, shown as a list', async () => {
      const from = await created();
      const ran = await harrier(['build', 'promote', SLUG, String(from.number), 'production', '-p', 'REGION=eu-west']);
      expect(ran.code).toBe(0);
      const number = Number(new RegExp(`^build ${from.number} promoted to production as build (\\d+)\\n`).exec(ran.out)![1]);
      expect(ran.out).toMatch(/^Event: +promote$/m);
      expect(ran.out).toMatch(/^Target: +production$/m);
      expect(ran.out).toMatch(new RegExp(`^Parent: +${from.number}$`, 'm'));
      expect(ran.out).toMatch(/^Param REGION: +eu-west$/m);
      expect(ran.out).toMatch(/^1 +deploy +pending\b/m);
      expect(await stored(number)).toMatchObject({ event: 'promote', deploy_to: 'production', parent: from.number, after: from.after, params: { REGION: 'eu-west' } });
    });

    it('rolls back to a build with event rollback, answering the server\'s JSON', async () => {
      const from = await created();
      const ran = await harrier(['build', 'rollback', SLUG, String(from.number), 'production', '--format', 'json']);
      expect(ran.code).toBe(0);
      const b = ran.json<Build>();
      expect(b).toMatchObject({ event: 'rollback', deploy_to: 'production', parent: from.number, params: {} });
      expect(b.stages!.map((st) => st.name)).toEqual(['deploy']);
      expect(await stored(b.number)).toMatchObject({ event: 'rollback', deploy_to: 'production', parent: from.number });
    });

    it('passes the server\'s refusals through: a target no pipeline deploys to (400), a build it does not have (404)', async () => {
      const from = await created();
      const before = await buildCount();
      const staging = await harrier(['build', 'promote', SLUG, String(from.number), 'staging']);
      expect(staging.code).toBe(1);
      expect(staging.err).toMatch(
        new RegExp(`no pipeline in \\.drone\\.yml runs for a promote build of main to target staging.*\\(400 from POST /api/repos/${SLUG}/builds/${from.number}/promote\\)\\n$`),
      );
      const missing = await harrier(['build', 'rollback', SLUG, '999', 'production']);
      expect(missing.code).toBe(1);
      expect(missing.err).toBe(`harrier: ${SLUG} has no build 999 (404 from POST /api/repos/${SLUG}/builds/999/rollback)\n`);
      expect(await buildCount()).toBe(before);
    });

    it('refuses -p target=… before calling the server, with exit 2', async () => {
      const ran = await harrier(['build', 'rollback', SLUG, '1', 'production', '-p', 'target=staging']);
      expect(ran.code).toBe(2);
      expect(ran.err).toContain('--param target=… would not reach the build: the server reads target itself; name the environment as the third argument');
    });
  });

  describe('cron', () => {
    const job = (name: string) => s.server.ctx.db.cron.findFirst({ where: { name } });

    it('adds jobs, lists them with the server\'s fields, runs one now and removes it', async () => {
      const added = await harrier(['cron', 'add', SLUG, 'nightly', '0 3 * * *']);
      expect(added.code).toBe(0);
      expect(added.out).toMatch(/^cron nightly added: 0 3 \* \* \* on main, next at \d{4}-\d\d-\d\dT03:00:00Z\n$/);
      expect(await job('nightly')).toMatchObject({ expr: '0 3 * * *', branch: 'main', disabled: false });
      const weekly = await harrier(['cron', 'add', SLUG, 'weekly', '@weekly', '--branch', 'main', '--format', 'json']);
      // Every field of Drone's cron JSON the client's Cron type names, and no other.
      expect(Object.keys(weekly.json<Cron>()).sort()).toEqual(['branch', 'created', 'disabled', 'error', 'expr', 'id', 'name', 'next', 'prev', 'repo_id', 'updated', 'version']);
      expect(weekly.json<Cron>()).toMatchObject({ name: 'weekly', expr: '@weekly', branch: 'main', error: '', version: expect.any(Number) });

      // What the scheduler writes when a run made no build, which the table shows.
      await s.server.ctx.db.cron.updateMany({ where: { name: 'weekly' }, data: { error: 'branch main is gone' } });
      const ls = await harrier(['cron', 'ls', SLUG]);
      const lines = ls.out.trim().split('\n');
      expect(lines[0]).toMatch(/^NAME +EXPR +BRANCH +DISABLED +NEXT +PREV +ERROR$/);
      expect(lines[1]).toMatch(/^nightly +0 3 \* \* \* +main +no +\S+T03:00:00Z$/);
      expect(lines[2]).toMatch(/^weekly +@weekly +main +no +\S+T00:00:00Z +branch main is gone$/);
      expect((await harrier(['cron', 'ls', SLUG, '--format', 'json'])).json<Cron[]>().map((c) => [c.name, c.error])).toEqual([
        ['nightly', ''],
        ['weekly', 'branch main is gone'],
      ]);

      const run = await harrier(['cron', 'run', SLUG, 'nightly']);
      expect(run.code).toBe(0);
      const number = Number(/^cron nightly started build (\d+)\n$/.exec(run.out)![1]);
      const built = await stored(number);
      expect(built).toMatchObject({ event: 'cron', cron: 'nightly', target: 'main' });
      expect(built.stages!.map((st) => st.name)).toEqual(['scheduled']);
      const exec = (await harrier(['cron', 'exec', SLUG, 'weekly', '--format', 'json'])).json<Build>();
      expect(exec).toMatchObject({ event: 'cron', cron: 'weekly' });

      expect((await harrier(['cron', 'rm', SLUG, 'nightly'])).out).toBe('cron nightly removed\n');
      expect(await job('nightly')).toBeNull();
      expect((await harrier(['cron', 'rm', SLUG, 'weekly', '--format', 'json'])).out).toBe('');
      expect(await job('weekly')).toBeNull();
    });

    it('passes the server\'s refusals through: an expression that never fires (400), a name taken (409), a job no pipeline runs for (409), a job missing (404)', async () => {
      const never = await harrier(['cron', 'add', SLUG, 'never', '0 0 30 2 *']);
      expect(never.code).toBe(1);
      expect(never.err).toMatch(new RegExp(`^harrier: invalid request body: expr: .*never fires.*\\(400 from POST /api/repos/${SLUG}/cron\\)\\n$`));
      expect(await job('never')).toBeNull();
      expect((await harrier(['cron', 'add', SLUG, 'taken', '@daily'])).code).toBe(0);
      const twice = await harrier(['cron', 'add', SLUG, 'taken', '@hourly']);
      expect(twice.code).toBe(1);
      expect(twice.err).toContain(`${SLUG} already has a cron job named "taken"; change it with PATCH, or delete it first (409 from POST`);
      expect((await job('taken'))!.expr).toBe('@daily');
      const unmatched = await harrier(['cron', 'run', SLUG, 'taken']);
      expect(unmatched.code).toBe(1);
      expect(unmatched.err).toMatch(new RegExp(`^harrier: cron job "taken" made no build: .*\\(409 from POST /api/repos/${SLUG}/cron/taken\\)\\n$`));
      const missing = await harrier(['cron', 'run', SLUG, 'nothing']);
      expect(missing.code).toBe(1);
      expect(missing.err).toBe(`harrier: ${SLUG} has no cron job named "nothing" (404 from POST /api/repos/${SLUG}/cron/nothing)\n`);
      expect((await harrier(['cron', 'rm', SLUG, 'taken'])).code).toBe(0);
    });
  });
});
