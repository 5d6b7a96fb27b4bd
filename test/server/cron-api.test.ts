// The cron jobs API over real HTTP on SQLite and PostgreSQL, against the GitHub stand-in
// and a real git repository: Drone's paths and JSON, refusals that say why, running a job
// now, and what the server's own scheduler does with a job whose branch is gone or whose
// provider fails. Jobs are made due by writing `next` in the past, never by waiting.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Build, Cron } from '../../core/domain.ts';
import { nextRun, parseCron } from '../../server/cron/cron-expr.ts';
import { runCronJob } from '../../server/cron/cron-run.ts';
import { ClaimLost } from '../../server/trigger/trigger.ts';
import { githubScenario, SLUG, type GithubScenario } from '../support/scenario.ts';

const PIPELINE = `kind: pipeline
type: docker
name: default
steps:
- name: build
  image: alpine:3
  commands: [echo hi]
---
kind: pipeline
type: docker
name: weekly-only
trigger:
  cron: [weekly]
steps:
- name: w
  image: alpine:3
  commands: [echo weekly]
`;

function capturedLogger() {
  const lines: string[] = [];
  const logger = pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) });
  return { logger, lines };
}

describe.each(['sqlite', 'postgres'] as const)('cron jobs API on %s', (flavour) => {
  let s: GithubScenario;
  const logs = capturedLogger();
  const path = `/api/repos/${SLUG}/cron`;

  async function call(p: string, method = 'GET', body?: unknown): Promise<{ status: number; body: any }> {
    const res = await s.api(p, { method, ...(body === undefined ? {} : { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  /** The job as the database holds it. */
  const row = (name: string) => s.server.ctx.db.cron.findFirstOrThrow({ where: { name } });

  /** Makes the job due in the past, then wakes the schedulers the way any API change does. */
  async function makeDue(name: string, secondsAgo = 60): Promise<void> {
    await s.server.ctx.db.cron.updateMany({ where: { name }, data: { next: s.server.ctx.now() - secondsAgo } });
    const woken = await call(`${path}/${name}`, 'PATCH', {});
    expect(woken.status).toBe(200);
  }

  async function waitFor<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`waited a minute for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  beforeAll(async () => {
    s = await githubScenario({ pipeline: PIPELINE, flavour, logger: logs.logger });
    // The stand-in links the commits' email to the signed-in account, as GitHub does a verified email.
    s.fake.state.user.primaryEmail = s.git.info().authorEmail;
  });
  afterAll(async () => {
    await s?.close();
  });

  it("creates a job with Drone's cron JSON, on the default branch, next computed in UTC", async () => {
    const before = s.server.ctx.now();
    const r = await call(path, 'POST', { name: 'nightly', expr: '0 3 * * *' });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      id: expect.any(Number),
      repo_id: expect.any(Number),
      name: 'nightly',
      expr: '0 3 * * *',
      next: expect.any(Number),
      prev: 0,
      branch: 'main',
      disabled: false,
      error: '',
      created: expect.any(Number),
      updated: expect.any(Number),
      version: 1,
    });
    const job = r.body as Cron;
    expect(new Date(job.next * 1000).toISOString()).toMatch(/T03:00:00\.000Z$/);
    expect(job.next).toBe(nextRun(parseCron('0 3 * * *'), job.created));
    expect(job.created).toBeGreaterThanOrEqual(before);
  });

  it('refuses a bad expression with what is wrong and where (400)', async () => {
    const r = await call(path, 'POST', { name: 'bad', expr: '0 25 * * *' });
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/^invalid request body: expr: the hour field \(field 2\) "25", at column 3: 25 is out of range; hour takes 0-23/);
    const six = await call(path, 'POST', { name: 'bad', expr: '0 0 3 * * *' });
    expect(six.status).toBe(400);
    expect(six.body.message).toContain('has 6 fields, not 5');
    expect((await call(`${path}/bad`)).status).toBe(404);
  });

  it('refuses a name that cannot be a path segment, and a missing expression (400)', async () => {
    const r = await call(path, 'POST', { name: 'a/b', expr: '@daily' });
    expect(r.status).toBe(400);
    expect(r.body.message).toContain('name: may contain only letters, digits');
    const missing = await call(path, 'POST', { name: 'x' });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toContain('expr: must be a string');
  });

  it('refuses a second job of the same name (409), and leaves the first as it was', async () => {
    const r = await call(path, 'POST', { name: 'nightly', expr: '@hourly' });
    expect(r.status).toBe(409);
    expect(r.body.message).toContain('already has a cron job named "nightly"');
    expect((await row('nightly')).expr).toBe('0 3 * * *');
  });

  it('lists jobs by name and shows one; 404 names the job the repository lacks', async () => {
    expect((await call(path, 'POST', { name: 'weekly', expr: '@weekly', branch: 'main', disabled: true })).status).toBe(200);
    const list = await call(path);
    expect(list.status).toBe(200);
    expect((list.body as Cron[]).map((c) => [c.name, c.disabled, c.next])).toEqual([
      ['nightly', false, expect.any(Number)],
      ['weekly', true, 0],
    ]);
    const one = await call(`${path}/weekly`);
    expect(one.body).toMatchObject({ name: 'weekly', expr: '@weekly' });
    const none = await call(`${path}/monthly`);
    expect(none.status).toBe(404);
    expect(none.body.message).toBe(`${SLUG} has no cron job named "monthly"`);
  });

  it('patches the schedule, branch and disabled; a new schedule or re-enabling counts from now', async () => {
    const r = await call(`${path}/nightly`, 'PATCH', { expr: '30 4 * * 1' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ expr: '30 4 * * 1', version: 2 });
    const monday = new Date(r.body.next * 1000);
    expect([monday.getUTCDay(), monday.getUTCHours(), monday.getUTCMinutes()]).toEqual([1, 4, 30]);
    const off = await call(`${path}/nightly`, 'PATCH', { disabled: true });
    expect(off.body).toMatchObject({ disabled: true, next: 0 });
    const on = await call(`${path}/nightly`, 'PATCH', { disabled: false, branch: 'release' });
    expect(on.body).toMatchObject({ disabled: false, branch: 'release', next: r.body.next });
    const bad = await call(`${path}/nightly`, 'PATCH', { expr: '* * 31 2 *' });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('never fires: no day 31 in February');
    const badBranch = await call(`${path}/nightly`, 'PATCH', { branch: 'a..b' });
    expect(badBranch.status).toBe(400);
    expect((await row('nightly')).branch).toBe('release');
    expect((await call(`${path}/nightly`, 'PATCH', { branch: 'main' })).status).toBe(200);
  });

  it('runs a job now: a build of event cron on the head of its branch, with only the pipelines its trigger lets in', async () => {
    const head = s.git.head();
    const r = await call(`${path}/nightly`, 'POST');
    expect(r.status).toBe(200);
    const build = r.body as Build;
    expect(build).toMatchObject({ event: 'cron', cron: 'nightly', trigger: '@cron', target: 'main', ref: 'refs/heads/main', after: head });
    // The commit's details come from GitHub, and the build answers its author, as Drone's cron builds.
    const info = s.git.info(head);
    const { login, avatarUrl } = s.fake.state.user;
    expect(build).toMatchObject({
      message: info.message,
      link: `${s.fake.url}/${SLUG}/commit/${head}`,
      timestamp: Math.floor(Date.parse(info.timestamp) / 1000),
      author_login: login,
      author_name: info.authorName,
      author_email: info.authorEmail,
      author_avatar: avatarUrl,
      sender: login,
    });
    expect(build.stages!.map((st) => st.name)).toEqual(['default']);
    const weekly = (await call(`${path}/weekly`, 'POST')).body as Build;
    expect(weekly.stages!.map((st) => st.name)).toEqual(['default', 'weekly-only']);
    expect(weekly.cron).toBe('weekly');
    // Running now leaves the schedule alone, as in Drone.
    expect((await row('nightly')).prev).toBe(0);
  });

  it('builds a head whose message says [skip ci], and does not hold the build on a protected repository, as Drone', async () => {
    const head = s.git.commit({ 'later.txt': 'x' }, 'Tidy up [skip ci]');
    expect((await call(`/api/repos/${SLUG}`, 'PATCH', { protected: true })).status).toBe(200);
    try {
      const r = await call(`${path}/nightly`, 'POST');
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ after: head, status: 'pending', event: 'cron' });
    } finally {
      expect((await call(`/api/repos/${SLUG}`, 'PATCH', { protected: false })).status).toBe(200);
    }
  });

  it('answers 404 with why when the job\'s branch is gone, and 404 for an unknown job', async () => {
    expect((await call(path, 'POST', { name: 'gone', expr: '@yearly', branch: 'no-such-branch' })).status).toBe(200);
    const r = await call(`${path}/gone`, 'POST');
    expect(r.status).toBe(404);
    expect(r.body.message).toContain('builds branch "no-such-branch", which octocat/hello-world does not have');
    expect((await call(`${path}/nope`, 'POST')).status).toBe(404);
  });

  it('records why a scheduled run made no build when the branch is gone, and waits for the following time', async () => {
    await makeDue('gone');
    const job = await waitFor('the run to record its error', async () => {
      const j = await row('gone');
      return j.error ? j : undefined;
    });
    expect(job.error).toContain('"no-such-branch"');
    expect(job.next).toBe(nextRun(parseCron('@yearly'), job.prev));
    expect(logs.lines.some((l) => l.includes('"event":"cron_branch_missing"') && l.includes('"cron":"gone"'))).toBe(true);
  });

  it('fires a job due many times over in the past once, then schedules it from now', async () => {
    const before = await s.server.ctx.db.build.count({ where: { cron: 'weekly' } });
    expect((await call(`${path}/weekly`, 'PATCH', { disabled: false, expr: '@yearly' })).status).toBe(200);
    await makeDue('weekly', 3 * 365 * 24 * 3600);
    const built = () => logs.lines.filter((l) => l.includes('"event":"cron_built"') && l.includes('"cron":"weekly"'));
    await waitFor('the catch-up run', async () => (built().length ? true : undefined));
    const job = await row('weekly');
    expect(await s.server.ctx.db.build.count({ where: { cron: 'weekly' } })).toBe(before + 1);
    expect(job.next).toBe(nextRun(parseCron('@yearly'), job.prev));
    expect(job.error).toBe('');
    expect(built()).toHaveLength(1);
  });

  it('puts a run back to be tried again when the provider fails, and builds when it answers', async () => {
    const builds = () => s.server.ctx.db.build.count({ where: { cron: 'nightly', trigger: '@cron' } });
    const before = await builds();
    s.fake.state.failContents = 1;
    await makeDue('nightly');
    const failed = await waitFor('the failed run', async () => {
      const j = await row('nightly');
      return j.error ? j : undefined;
    });
    expect(failed.error).toMatch(/failed, trying again: /);
    // Put back due soon, not moved to its following Monday.
    expect(failed.next).toBeLessThan(nextRun(parseCron(failed.expr), failed.prev));
    expect(await builds()).toBe(before);
    expect(logs.lines.some((l) => l.includes('"event":"cron_retry"'))).toBe(true);
    await makeDue('nightly');
    await waitFor('the retried run', async () => ((await row('nightly')).error === '' ? true : undefined));
    expect(await builds()).toBe(before + 1);
  });

  it('makes one build of a run whose claim lapsed: the server that lost it rolls its build back, the holder builds and moves the job on', async () => {
    const { ctx } = s.server;
    const job = await row('nightly');
    const repo = await ctx.db.repo.findUniqueOrThrow({ where: { id: job.repoId } });
    // Server A claimed the run and stalled; its claim lapsed and server B claimed it again.
    // Both leases lie in the future, so the server's own scheduler leaves the job alone.
    const leaseA = ctx.now() + 3_000;
    const leaseB = ctx.now() + 6_000;
    await ctx.db.cron.update({ where: { id: job.id }, data: { next: leaseB } });
    const builds = () => ctx.db.build.count({ where: { cron: 'nightly' } });
    const before = await builds();
    await expect(runCronJob(ctx, repo, job, { job, lease: leaseA })).rejects.toBeInstanceOf(ClaimLost);
    expect(await builds()).toBe(before);
    expect((await row('nightly')).next).toBe(leaseB);
    const made = await runCronJob(ctx, repo, job, { job, lease: leaseB });
    expect(made.kind).toBe('build');
    expect(await builds()).toBe(before + 1);
    const after = await row('nightly');
    expect(after.next).toBe(nextRun(parseCron(after.expr), ctx.now()));
    // Ending the run again (a retry by the stalled server) finds nothing of its own to end.
    await expect(runCronJob(ctx, repo, job, { job, lease: leaseB })).rejects.toBeInstanceOf(ClaimLost);
    expect(await builds()).toBe(before + 1);
  });

  it('makes no build when no pipeline runs for the job: 409 with why when run now, and the scheduled run records why', async () => {
    const other = 'kind: pipeline\ntype: docker\nname: other\ntrigger:\n  cron: [someone-else]\nsteps:\n- name: s\n  image: alpine:3\n  commands: [true]\n';
    s.git.commit({ '.drone.yml': other }, 'Only for another job', 'quiet');
    s.git.checkout('main');
    expect((await call(path, 'POST', { name: 'quiet', expr: '@yearly', branch: 'quiet' })).status).toBe(200);
    const builds = () => s.server.ctx.db.build.count({ where: { cron: 'quiet' } });
    const why = 'no pipeline in .drone.yml runs for a cron build of quiet for cron job quiet';
    const now = await call(`${path}/quiet`, 'POST');
    expect(now.status).toBe(409);
    expect(now.body.message).toContain(`cron job "quiet" made no build: ${why}`);
    await makeDue('quiet');
    const job = await waitFor('the run to record why', async () => {
      const j = await row('quiet');
      return j.error ? j : undefined;
    });
    expect(job.error).toContain(why);
    expect(job.next).toBe(nextRun(parseCron('@yearly'), job.prev));
    expect(logs.lines.some((l) => l.includes('"event":"cron_ignored"') && l.includes('"cron":"quiet"'))).toBe(true);
    expect(await builds()).toBe(0);
    expect((await s.api(`${path}/quiet`, { method: 'DELETE' })).status).toBe(204);
  });

  it('deletes a job (204), after which it is gone', async () => {
    const r = await s.api(`${path}/gone`, { method: 'DELETE' });
    expect(r.status).toBe(204);
    expect((await call(`${path}/gone`)).status).toBe(404);
    expect((await call(path)).body.map((c: Cron) => c.name)).toEqual(['nightly', 'weekly']);
  });
});
