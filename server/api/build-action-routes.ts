// Changing a build (Drone's paths; write permission):
//   DELETE /api/repos/{owner}/{name}/builds/{number}   cancel: waiting stages are skipped, running ones killed
//   POST   /api/repos/{owner}/{name}/builds/{number}   restart: a new build from the same commit and pipeline file
import { Router } from 'express';
import { repoAccess } from '../auth/repo-access.ts';
import { cancelBuild } from '../builds/build-state.ts';
import type { ServerContext } from '../context.ts';
import { conflict, notFound } from '../http/errors.ts';
import { restartBuild } from '../trigger/trigger.ts';
import { buildJson } from './serialize.ts';

const BUILD = '/api/repos/:owner/:name/builds/:number';

export function buildActionRouter(ctx: ServerContext): Router {
  const router = Router();

  const findBuild = async (repoId: number, slug: string, raw: string) => {
    const number = Number(raw);
    const build = Number.isInteger(number) ? await ctx.db.build.findUnique({ where: { repoId_number: { repoId, number } } }) : null;
    if (!build) throw notFound(`${slug} has no build ${raw}`);
    return build;
  };

  router.delete(BUILD, repoAccess(ctx, 'write'), async (req, res) => {
    const build = await findBuild(req.repo!.id, req.repo!.slug, String(req.params.number));
    if (!(await cancelBuild(ctx, build.id))) throw conflict(`build ${build.number} has already finished (${build.status}); there is nothing to cancel`);
    ctx.logger.info({ event: 'build_cancelled', repo: req.repo!.slug, build: build.number, by: req.user?.login }, 'build cancelled');
    const cancelled = await ctx.db.build.findUnique({ where: { id: build.id }, include: { stages: { include: { steps: true } } } });
    res.json(buildJson(cancelled!));
  });

  router.post(BUILD, repoAccess(ctx, 'write'), async (req, res) => {
    const old = await findBuild(req.repo!.id, req.repo!.slug, String(req.params.number));
    if (!['success', 'failure', 'error', 'killed', 'skipped'].includes(old.status)) {
      throw conflict(`build ${old.number} is still ${old.status}; cancel it or wait for it to finish before restarting`);
    }
    const build = await restartBuild(ctx, req.repo!, old, req.user!.login);
    const created = await ctx.db.build.findUnique({ where: { id: build.id }, include: { stages: { include: { steps: true } } } });
    res.json(buildJson(created!));
  });

  return router;
}
