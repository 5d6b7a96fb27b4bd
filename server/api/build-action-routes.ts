// Changing a build (Drone's paths; write permission):
//   DELETE /api/repos/{owner}/{name}/builds/{number}   cancel: waiting stages are skipped, running ones killed
//   POST   /api/repos/{owner}/{name}/builds/{number}   restart: a new build from the same commit and pipeline file
//   POST   /api/repos/{owner}/{name}/builds/{number}/approve   a blocked build's stages are queued; approved_by records who
//   POST   /api/repos/{owner}/{name}/builds/{number}/decline   a blocked build ends declined and never runs
// Drone approves and declines one stage at a time (…/approve/{stage}); Harrier blocks a
// build as a whole, so it approves and declines it as a whole.
import { Router } from 'express';
import { repoAccess } from '../auth/repo-access.ts';
import { approveBuild, cancelBuild, declineBuild } from '../builds/build-state.ts';
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

  const decide = (verb: 'approve' | 'decline', act: typeof approveBuild) => {
    router.post(`${BUILD}/${verb}`, repoAccess(ctx, 'write'), async (req, res) => {
      const build = await findBuild(req.repo!.id, req.repo!.slug, String(req.params.number));
      if (!(await act(ctx, build.id, req.user!.login))) {
        const now = await ctx.db.build.findUnique({ where: { id: build.id }, select: { status: true, approvedBy: true } });
        const status = now?.status ?? build.status;
        const who = now?.approvedBy ? ` (${status === 'declined' ? 'declined' : 'approved'} by ${now.approvedBy})` : '';
        throw conflict(`build ${build.number} is ${status}${who}, not blocked; only a build waiting for approval can be ${verb}d`);
      }
      ctx.logger.info({ event: `build_${verb}d`, repo: req.repo!.slug, build: build.number, by: req.user!.login }, `build ${verb}d`);
      const decided = await ctx.db.build.findUnique({ where: { id: build.id }, include: { stages: { include: { steps: true } } } });
      res.json(buildJson(decided!));
    });
  };
  decide('approve', approveBuild);
  decide('decline', declineBuild);

  return router;
}
