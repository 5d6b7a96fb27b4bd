import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratedDatabase } from '../../test/support/databases.ts';
import { appendLogLines, readLogLines } from '../logs/log-store.ts';
import type { Database } from './client.ts';

/** Log appends announce to live readers; these tests have none. */
const noListeners = { publish: async () => undefined, listening: async () => false } as never;

describe.each(['sqlite', 'postgres'] as const)('the Prisma client on %s', (flavour) => {
  let database: Database;
  beforeAll(async () => {
    database = await migratedDatabase(flavour);
  });
  afterAll(async () => {
    await database?.close();
  });

  it('stores a repository with a build, its stages and steps, and reads them back through relations', async () => {
    const { db } = database;
    const now = Math.floor(Date.now() / 1000);
    const repo = await db.repo.create({
      data: { provider: 'github', uid: `u${flavour}`, namespace: 'octocat', name: 'hello', slug: 'octocat/hello', createdAt: now, updatedAt: now },
    });
    const build = await db.build.create({
      data: {
        repoId: repo.id,
        number: 1,
        status: 'pending',
        event: 'push',
        createdAt: now,
        updatedAt: now,
        stages: {
          create: [{ repoId: repo.id, number: 1, name: 'default', status: 'pending', createdAt: now, updatedAt: now, steps: { create: [{ number: 1, name: 'clone', status: 'pending' }] } }],
        },
      },
      include: { stages: { include: { steps: true } } },
    });
    expect(build.stages[0].steps[0].name).toBe('clone');
    const stepId = build.stages[0].steps[0].id;
    await appendLogLines({ db, events: noListeners }, stepId, [0, 1, 2].map((pos) => ({ pos, out: `line ${pos}\n`, time: 0 })));
    const lines = await readLogLines({ db }, stepId);
    expect(lines.map((l) => l.out)).toEqual(['line 0\n', 'line 1\n', 'line 2\n']);
  });

  it('reports a duplicate build number as a unique violation (P2002)', async () => {
    const { db } = database;
    const now = 1;
    const repo = await db.repo.create({ data: { provider: 'github', uid: `dup${flavour}`, namespace: 'o', name: 'dup', slug: 'o/dup', createdAt: now, updatedAt: now } });
    await db.build.create({ data: { repoId: repo.id, number: 7, status: 'pending', event: 'push', createdAt: now, updatedAt: now } });
    await expect(db.build.create({ data: { repoId: repo.id, number: 7, status: 'pending', event: 'push', createdAt: now, updatedAt: now } })).rejects.toMatchObject({
      code: 'P2002',
    });
  });

  it('rolls an interactive transaction back when it throws', async () => {
    const { db } = database;
    await expect(
      db.$transaction(async (tx) => {
        await tx.delivery.create({ data: { provider: 'github', guid: `tx-${flavour}`, createdAt: 1 } });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await db.delivery.findUnique({ where: { provider_guid: { provider: 'github', guid: `tx-${flavour}` } } })).toBeNull();
  });

  it('deletes a build with its stages, steps and log lines', async () => {
    const { db } = database;
    const repo = await db.repo.create({ data: { provider: 'bitbucket', uid: `c${flavour}`, namespace: 'o', name: 'c', slug: 'o/c', createdAt: 1, updatedAt: 1 } });
    const build = await db.build.create({
      data: {
        repoId: repo.id, number: 1, status: 'success', event: 'push', createdAt: 1, updatedAt: 1,
        stages: { create: [{ repoId: repo.id, number: 1, name: 'a', status: 'success', createdAt: 1, updatedAt: 1, steps: { create: [{ number: 1, name: 's', status: 'success' }] } }] },
      },
      include: { stages: { include: { steps: true } } },
    });
    const stepId = build.stages[0].steps[0].id;
    await appendLogLines({ db, events: noListeners }, stepId, [{ pos: 0, out: 'x\n', time: 0 }]);
    expect(await db.logChunk.count({ where: { stepId } })).toBe(1);
    await db.build.delete({ where: { id: build.id } });
    expect(await db.logChunk.count({ where: { stepId } })).toBe(0);
    expect(await db.step.count({ where: { id: stepId } })).toBe(0);
  });
});
