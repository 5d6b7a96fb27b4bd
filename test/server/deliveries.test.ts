// Webhook intake: a verified delivery is stored and answered 202 before anything asks the
// provider; workers build it, retry the provider's failures, give up with its error, and
// build each delivery once however many servers share the database, including across a
// `kill -9` right after the answers. The deliveries API lists them and sends one again.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Build, DeliveryJson } from '../../core/domain.ts';
import { loadServerConfig } from '../../server/config.ts';
import { openDatabase } from '../../server/db/client.ts';
import { MAX_ATTEMPTS } from '../../server/deliveries/delivery-workers.ts';
import { startServer, type RunningServer } from '../../server/main.ts';
import { deliverGithubHook, githubPushPayload } from '../fakes/github-payloads.ts';
import { spawnHarrier } from '../support/processes.ts';
import { githubScenario, SLUG, type GithubScenario } from '../support/scenario.ts';
import { freePort } from '../support/server.ts';

const PIPELINE = `kind: pipeline
name: default
steps:
- name: test
  image: alpine:3
  commands: [echo hi]
`;

/** A push delivery of the repository's head with a body of its own (a fresh field), so no two are replays of each other. */
function distinctPush(s: GithubScenario, n: number | string): Buffer {
  const payload = githubPushPayload({ repo: s.fake.repo(SLUG)!, after: s.git.head() });
  return Buffer.from(JSON.stringify({ ...payload, harrier_test_delivery: `${n}-${randomBytes(4).toString('hex')}` }));
}

const hookOf = (s: GithubScenario) => s.fake.state.hooks.items.find((h) => h.active && !h.deleted)!;

async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs / 1000} s for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.each(['sqlite', 'postgres'] as const)('webhook deliveries on %s', (flavour) => {
  let s: GithubScenario;
  beforeAll(async () => {
    s = await githubScenario({ pipeline: PIPELINE, flavour });
  });
  afterAll(async () => {
    await s?.close();
  });

  const list = async (query = ''): Promise<DeliveryJson[]> => {
    const res = await s.api(`/api/repos/${SLUG}/deliveries${query}`);
    expect(res.status).toBe(200);
    return (await res.json()) as DeliveryJson[];
  };

  it('answers 202 with the stored delivery, and lists it built with its build number, newest first', async () => {
    const { sha, responses } = await s.push({ 'a.txt': 'a' }, 'Add a');
    expect(responses[0].status).toBe(202);
    const answer = (await responses[0].clone().json()) as { id: number; status: string };
    expect(answer).toEqual({ id: expect.any(Number), status: 'pending' });
    const build = await responses[0].build();
    expect(build.after).toBe(sha);
    const [newest] = await list();
    expect(newest).toEqual({
      id: answer.id,
      guid: expect.any(String),
      event: 'push',
      action: '',
      status: 'built',
      reason: '',
      build: build.number,
      attempts: 1,
      created: expect.any(Number),
      finished: expect.any(Number),
      redelivery_of: null,
    });
    const row = await s.server.ctx.db.delivery.findUniqueOrThrow({ where: { id: answer.id } });
    expect(JSON.parse(row.headers)).toMatchObject({ 'x-github-event': 'push', 'x-github-delivery': newest.guid });
  });

  it('pages the list with ?page and ?per_page, and refuses a bad page with 400', async () => {
    await s.push({ 'b.txt': 'b' }, 'Add b').then(({ responses }) => responses[0].build());
    const all = await list();
    expect(all.length).toBeGreaterThanOrEqual(2);
    expect(all.map((d) => d.id)).toEqual([...all.map((d) => d.id)].sort((a, b) => b - a));
    expect(await list('?per_page=1&page=2')).toEqual([all[1]]);
    const bad = await s.api(`/api/repos/${SLUG}/deliveries?page=0`);
    expect(bad.status).toBe(400);
  });

  it('records an event Harrier does not build as ignored, with why', async () => {
    const res = await deliverGithubHook(hookOf(s).url, 'push', { ...githubPushPayload({ repo: s.fake.repo(SLUG)!, after: s.git.head(), deleted: true }) }, hookOf(s).secret);
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { id: number; status: string };
    expect(answer.status).toBe('ignored');
    const listed = (await list()).find((d) => d.id === answer.id)!;
    expect(listed.status).toBe('ignored');
    expect(listed.reason).toMatch(/delet/i);
  });

  it('tries again when the provider answers 502, and then builds', async () => {
    s.fake.state.failContents = 2;
    const res = await deliverGithubHook(hookOf(s).url, 'push', distinctPush(s, 'flaky'), hookOf(s).secret);
    expect(res.status).toBe(202);
    const outcome = await res.outcome(60_000);
    expect(outcome.status).toBe('built');
    expect(s.fake.state.failContents).toBe(0);
    const listed = (await list()).find((d) => d.id === outcome.id)!;
    expect(listed).toMatchObject({ status: 'built', attempts: 3, build: outcome.build!.number, reason: '' });
  });

  it(`gives up after ${MAX_ATTEMPTS} attempts and records the provider's error`, async () => {
    s.fake.state.failContents = MAX_ATTEMPTS;
    const before = await s.server.ctx.db.build.count();
    const res = await deliverGithubHook(hookOf(s).url, 'push', distinctPush(s, 'down'), hookOf(s).secret);
    const outcome = await res.outcome(90_000);
    expect(outcome.status).toBe('failed');
    expect(outcome.reason).toMatch(new RegExp(`^gave up after ${MAX_ATTEMPTS} attempts: GitHub answered GET .*contents.* with 502: Server Error`));
    expect((await list()).find((d) => d.id === outcome.id)).toMatchObject({ status: 'failed', attempts: MAX_ATTEMPTS, build: null });
    expect(await s.server.ctx.db.build.count()).toBe(before);
  }, 120_000);

  it('redelivers a delivery: a copy under a fresh guid that builds again, though its body is the same', async () => {
    const { responses } = await s.push({ 'c.txt': 'c' }, 'Add c');
    const first = await responses[0].build();
    const { id } = (await responses[0].clone().json()) as { id: number };
    const res = await s.api(`/api/repos/${SLUG}/deliveries/${id}/redeliver`, { method: 'POST' });
    expect(res.status).toBe(202);
    const copy = (await res.json()) as DeliveryJson;
    expect(copy).toMatchObject({ status: 'pending', redelivery_of: id, event: 'push', build: null });
    expect(copy.id).toBeGreaterThan(id);
    const done = await waitFor('the redelivery to be built', async () => (await list()).find((d) => d.id === copy.id && d.status !== 'pending' && d.status !== 'running'));
    expect(done.status).toBe('built');
    const again = (await (await s.api(`/api/repos/${SLUG}/builds/${done.build}`)).json()) as Build;
    expect(again.after).toBe(first.after);
    expect(again.number).toBeGreaterThan(first.number);
  });

  it('answers 404 for redelivering a delivery that is not the repository\'s', async () => {
    const res = await s.api(`/api/repos/${SLUG}/deliveries/999999/redeliver`, { method: 'POST' });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { message: string }).message).toMatch(/delivery 999999 not found in octocat\/hello-world/);
  });
});

// Several servers share PostgreSQL, as a fleet does (README, Running a fleet); two
// SQLite connections in one process would wait on each other's locks synchronously.
describe('two servers sharing one database', () => {
  let s: GithubScenario;
  let other: RunningServer;
  beforeAll(async () => {
    s = await githubScenario({ pipeline: PIPELINE, flavour: 'postgres' });
    other = await startServer(loadServerConfig({ ...s.server.env, HARRIER_PORT: String(await freePort()) }), s.server.ctx.logger);
  });
  afterAll(async () => {
    await other?.close();
    await s?.close();
  });

  it('build each of 100 deliveries once, whichever server took it', async () => {
    const hook = hookOf(s);
    const targets = [hook.url, `${other.url}/hook`];
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) => deliverGithubHook(targets[i % 2], 'push', distinctPush(s, i), hook.secret)),
    );
    expect(answers.map((r) => r.status)).toEqual(answers.map(() => 202));
    const ids = await Promise.all(answers.map(async (r) => ((await r.json()) as { id: number }).id));
    const { db } = s.server.ctx;
    const rows = await waitFor('every delivery to be built', async () => {
      const found = await db.delivery.findMany({ where: { id: { in: ids } } });
      return found.every((d) => d.status === 'built') ? found : undefined;
    });
    expect(new Set(rows.map((d) => d.buildNumber)).size).toBe(100);
    expect(await db.build.count({ where: { number: { in: rows.map((d) => d.buildNumber) } } })).toBe(100);
    expect(rows.every((d) => d.attempts >= 1)).toBe(true);
  }, 180_000);
});

describe('a server killed right after answering', () => {
  let s: GithubScenario;
  beforeAll(async () => {
    s = await githubScenario({ pipeline: PIPELINE });
    // Its database stays; a `harrier server` process takes over its address.
    await s.server.stop();
  });
  afterAll(async () => {
    await s?.close();
  });

  it('builds every delivery it answered exactly once, after a restart', async () => {
    const hook = hookOf(s);
    let server = spawnHarrier('server', s.server.env);
    try {
      await server.waitForEvent((e) => e.event === 'listening');
      const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => deliverGithubHook(hook.url, 'push', distinctPush(s, `killed-${i}`), hook.secret)));
      server.child.kill('SIGKILL');
      await server.stop();
      expect(answers.map((r) => r.status)).toEqual(answers.map(() => 202));
      const ids = await Promise.all(answers.map(async (r) => ((await r.json()) as { id: number }).id));

      server = spawnHarrier('server', s.server.env);
      await server.waitForEvent((e) => e.event === 'listening');
      const database = openDatabase(s.server.env.HARRIER_DATABASE_URL);
      try {
        // A claim the killed server held runs out after its lease, and is taken again.
        const rows = await waitFor(`every delivery to be built\n${server.output()}`, async () => {
          const found = await database.db.delivery.findMany({ where: { id: { in: ids } } });
          return found.length === ids.length && found.every((d) => d.status === 'built') ? found : undefined;
        }, 120_000);
        expect(new Set(rows.map((d) => d.buildNumber)).size).toBe(ids.length);
        expect(await database.db.build.count()).toBe(ids.length);
      } finally {
        await database.close();
      }
    } finally {
      await server.stop();
    }
  }, 240_000);
});
