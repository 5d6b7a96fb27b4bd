// 2,000 stages wait for a label no runner has (gpu=yes). They must not stand in the way:
// another repository's build gets the idle runner and succeeds while all 2,000 still wait.
// The backlog is written straight into the database, as 2,000 builds would leave it.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { laneOf } from '../../server/queue/lanes.ts';
import { type Fleet, harrierContainers, startFleet, oneStepPipeline } from '../support/fleet.ts';

const GPU = 'fleet/gpu-backlog';
const APP = 'fleet/app';
const BACKLOG = 2_000;
const GPU_LABELS = JSON.stringify({ gpu: 'yes' });

const GPU_PIPELINE = oneStepPipeline('train', ['echo never'], 'node:\n  gpu: yes', 'gpu');

const APP_PIPELINE = oneStepPipeline('hello', ['echo hello']);

describe('a backlog for a label no runner has', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await startFleet({
      name: 'label-backlog',
      repos: [
        { slug: GPU, pipeline: GPU_PIPELINE },
        { slug: APP, pipeline: APP_PIPELINE },
      ],
      runners: 1,
      leaseSeconds: 6,
    });
  });
  afterAll(async () => {
    await fleet?.close();
  });

  async function waitingGpuStages(db: pg.Client): Promise<number> {
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM "Stage" WHERE "repoId" = $1 AND "status" = 'pending' AND "machine" = ''`, [fleet.repos.get(GPU)!.id]);
    return rows[0].n as number;
  }

  it(`runs another repository's build while ${BACKLOG} stages wait for gpu=yes`, async () => {
    const repoId = fleet.repos.get(GPU)!.id;
    const db = new pg.Client({ connectionString: fleet.database.url });
    await db.connect();
    try {
      const now = Math.floor(Date.now() / 1000);
      const lane = laneOf({ repoId, os: 'linux', arch: 'amd64', labels: GPU_LABELS });
      await db.query(
        `WITH b AS (
           INSERT INTO "Build" ("repoId", "number", "status", "event", "config", "createdAt", "updatedAt")
           SELECT $1, n, 'pending', 'push', $5, $2, $2 FROM generate_series(1, $3::int) AS n
           RETURNING "id"
         )
         INSERT INTO "Stage" ("repoId", "buildId", "number", "name", "status", "os", "arch", "labels", "lane", "queuedAt", "createdAt", "updatedAt")
         SELECT $1, b."id", 1, 'gpu', 'pending', 'linux', 'amd64', $6, $4, $2, $2, $2 FROM b`,
        [repoId, now, BACKLOG, lane, GPU_PIPELINE, GPU_LABELS],
      );
      await db.query(`UPDATE "Repo" SET "counter" = $2 WHERE "id" = $1`, [repoId, BACKLOG]);
      expect(await waitingGpuStages(db)).toBe(BACKLOG);

      const pushed = await fleet.push(APP);
      const done = await fleet.waitForBuild(APP, pushed.number);
      expect(done.status).toBe('success');
      expect(done.stages![0].machine).toBe(fleet.runners[0].name);

      expect(await waitingGpuStages(db)).toBe(BACKLOG);
      // The API says why they wait.
      const waiting = await fleet.build(GPU, 1);
      expect(waiting.status).toBe('pending');
      expect(waiting.stages![0].waiting ?? '').toContain('gpu');
      expect(harrierContainers(fleet.runners[0].name)).toEqual([]);
    } finally {
      await db.end();
    }
  }, 180_000);
});
