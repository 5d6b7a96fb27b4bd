// The runners page (a Harrier addition; signed-in users):
//   GET /api/runners   every runner the server has heard from, sorted by name, with what it runs
// Stages of repositories the caller cannot read are left out of `running`, so the page
// does not leak private repository names.
// Mount after authenticate(ctx).
import { Router } from 'express';
import type { RunnerJson, RunningStageJson, Status } from '../../core/domain.ts';
import { requireUser } from '../auth/authenticate.ts';
import type { ServerContext } from '../context.ts';
import type { UserRow } from '../http/request.ts';
import { knownRunners, type KnownRunner } from '../runners/known-runners.ts';

export function runnerRouter(ctx: ServerContext): Router {
  const router = Router();

  router.get('/api/runners', requireUser, async (req, res) => {
    const runners = await knownRunners(ctx);
    const stages = await visibleStages(ctx, req.user!, runners.flatMap((r) => r.running));
    res.json(runners.map((r) => runnerJson(r, stages)));
  });

  return router;
}

function runnerJson(r: KnownRunner, stages: Map<number, RunningStageJson>): RunnerJson {
  return {
    name: r.name,
    labels: r.labels,
    capacity: r.capacity,
    os: r.os,
    arch: r.arch,
    version: r.version,
    last_contact: r.lastSeen,
    online: r.online,
    sick: r.sick ?? '',
    stopping: r.stopping ?? false,
    running: r.running.flatMap((id) => stages.get(id) ?? []),
  };
}

/** The stages with these ids whose repositories the user may read: public ones, ones the provider granted, or all for Harrier's administrator. */
async function visibleStages(ctx: ServerContext, user: UserRow, ids: number[]): Promise<Map<number, RunningStageJson>> {
  if (ids.length === 0) return new Map();
  const stages = await ctx.db.stage.findMany({
    where: { id: { in: [...new Set(ids)] } },
    select: { id: true, name: true, status: true, repoId: true, build: { select: { number: true, repo: { select: { slug: true, visibility: true } } } } },
  });
  const readable = new Set(
    (
      await ctx.db.perm.findMany({ where: { userId: user.id, read: true, repoId: { in: stages.map((s) => s.repoId) } }, select: { repoId: true } })
    ).map((p) => p.repoId),
  );
  const visible = stages.filter((s) => user.admin || s.build.repo.visibility === 'public' || readable.has(s.repoId));
  return new Map(
    visible.map((s) => [s.id, { stage_id: s.id, stage: s.name, build: s.build.number, repo: s.build.repo.slug, status: s.status as Status }]),
  );
}
