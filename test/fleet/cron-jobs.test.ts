// Cron jobs with real processes: two server processes sharing one database (SQLite file or
// PostgreSQL) and one Redis, and a runner on Docker. A job run now builds with DRONE_CRON in
// a real step's log; jobs made due (by writing `next` in the past, never by waiting on the
// clock) fire exactly once across both servers, however many times they were due.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Build, Cron } from '../../core/domain.ts';
import { nextRun, parseCron } from '../../server/cron/cron-expr.ts';
import { openDatabase, type Database } from '../../server/db/client.ts';
import { type Fleet, oneStepPipeline, startFleet } from '../support/fleet.ts';

const SLUG = 'fleet/cron-jobs';
const JOBS = 6;
const YEAR = 365 * 24 * 3600;

// Nothing to clone: the tests are about which builds are made and what their steps see.
const PIPELINE = `kind: pipeline
type: docker
name: default
clone:
  disable: true
steps:
- name: show
  image: alpine:3
  commands:
  - echo "cron=$DRONE_CRON event=$DRONE_BUILD_EVENT"
- name: other-only
  image: alpine:3
  commands: [echo other ran]
  when:
    cron: [other]
---
${oneStepPipeline('w', ['echo weekly'], 'clone:\n  disable: true\ntrigger:\n  cron: [weekly]', 'weekly-only')}`;

describe.each(['sqlite', 'postgres'] as const)('cron jobs on two servers sharing %s', (flavour) => {
  let fleet: Fleet;
  let database: Database;
  const path = `/api/repos/${SLUG}/cron`;
  const json = (body: unknown) => ({ method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

  beforeAll(async () => {
    fleet = await startFleet({ name: `cron-${flavour}`, repos: [{ slug: SLUG, pipeline: PIPELINE }], servers: 2, runners: 1, flavour });
    database = openDatabase(fleet.database.url);
  });
  afterAll(async () => {
    await database?.close();
    await fleet?.close();
  });

  it('runs a job now: event cron, DRONE_CRON in the step log, and steps chosen by the job name', async () => {
    const created = await fleet.api<Cron>(path, json({ name: 'nightly', expr: '0 2 * * *' }), 1);
    expect(created.status).toBe(200);
    const run = await fleet.api<Build>(`${path}/nightly`, { method: 'POST' }, 0);
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ event: 'cron', cron: 'nightly', trigger: '@cron', after: fleet.repos.get(SLUG)!.git.head() });
    expect(run.body.stages!.map((s) => s.name)).toEqual(['default']);
    const done = await fleet.waitForBuild(SLUG, run.body.number);
    expect(done.status).toBe('success');
    const lines = (await fleet.logs(SLUG, done.number, 1, 1)).map((l) => l.out.replace(/\n$/, ''));
    expect(lines).toContain('cron=nightly event=cron');
    expect(done.stages![0].steps!.map((s) => [s.name, s.status])).toEqual([
      ['show', 'success'],
      ['other-only', 'skipped'],
    ]);
  }, 240_000);

  it(`fires each of ${JOBS} jobs due years ago exactly once across both servers, then schedules it from now`, async () => {
    const names = Array.from({ length: JOBS }, (_, i) => `job-${i}`);
    for (const [i, name] of names.entries()) {
      expect((await fleet.api(path, json({ name, expr: '@yearly' }), i % 2)).status).toBe(200);
    }
    const { db } = database;
    const longAgo = Math.floor(Date.now() / 1000) - 3 * YEAR;
    await db.cron.updateMany({ where: { name: { in: names } }, data: { next: longAgo } });
    // Any change through the API wakes the schedulers of both servers at once, so they race for the jobs.
    expect((await fleet.api(`${path}/job-0`, { method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body: '{}' }, 1)).status).toBe(200);

    const built = () => fleet.serverEvents().filter((e) => e.event === 'cron_built' && names.includes(String(e.cron)));
    await fleet.waitFor(`${JOBS} cron_built events`, async () => (built().length >= JOBS ? true : undefined), 120_000);
    for (const name of names) {
      const job = await db.cron.findFirstOrThrow({ where: { name } });
      expect(job.error, name).toBe('');
      expect(job.next, name).toBe(nextRun(parseCron('@yearly'), job.prev));
      expect(job.prev, name).toBeGreaterThan(longAgo);
      expect(await db.build.count({ where: { cron: name, event: 'cron' } }), name).toBe(1);
      expect(built().filter((e) => e.cron === name), name).toHaveLength(1);
    }
    // The builds are the jobs' own, on the branch's head.
    const builds = await db.build.findMany({ where: { cron: { in: names } } });
    expect(builds.every((b) => b.trigger === '@cron' && b.target === 'main')).toBe(true);
  }, 240_000);
});
