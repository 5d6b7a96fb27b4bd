// Changing a build (Drone's paths; write permission):
//   DELETE /api/repos/{owner}/{name}/builds/{number}   cancel: waiting stages are skipped, running ones killed
//   POST   /api/repos/{owner}/{name}/builds/{number}   restart: a new build from the same commit and pipeline file
//   POST   /api/repos/{owner}/{name}/builds/{number}/approve   a blocked build's stages are queued; approved_by records who
//   POST   /api/repos/{owner}/{name}/builds/{number}/decline   a blocked build ends declined and never runs
//   POST   /api/repos/{owner}/{name}/builds/{number}/retry?stage=N   in the same build, runs again the stages that did not
//          pass (or stage N) and those depending on them; Harrier's own, Drone only restarts whole builds
//   POST   /api/repos/{owner}/{name}/builds?branch=&commit=&KEY=VALUE   a manual build (event custom); other keys are parameters
//   POST   /api/repos/{owner}/{name}/builds/{number}/promote?target=&KEY=VALUE    event promote, DRONE_DEPLOY_TO=target
//   POST   /api/repos/{owner}/{name}/builds/{number}/rollback?target=&KEY=VALUE   event rollback, likewise
// As in Drone, any build can be promoted or rolled back to, finished or not.
// Drone approves and declines one stage at a time (…/approve/{stage}); Harrier blocks a
// build as a whole, so it approves and declines it as a whole.
import { Router } from 'express';
import { z } from 'zod';
import { repoAccess } from '../auth/repo-access.ts';
import { approveBuild, cancelBuild, declineBuild } from '../builds/build-state.ts';
import type { ServerContext } from '../context.ts';
import { conflict, notFound } from '../http/errors.ts';
import { buildFromRef } from '../trigger/build-from-ref.ts';
import { retryBuild } from '../builds/retry-build.ts';
import { restartBuild } from '../trigger/trigger.ts';
import { parseInput } from './body-validation.ts';
import { buildParams } from './build-params.ts';
import { buildJson } from './serialize.ts';

const BUILDS = '/api/repos/:owner/:name/builds';
const BUILD = `${BUILDS}/:number`;

// No control characters: the value reaches steps as a variable and the page as text.
const PLAIN = /^[^\x00-\x1f\x7f]*$/;
const createQuery = z.object({
  branch: z.string().max(255, 'must be at most 255 characters').regex(PLAIN, 'must not hold control characters').optional(),
  commit: z.string().regex(/^[0-9a-f]{7,64}$/i, 'must be a commit hash: 7 to 64 hexadecimal digits').optional(),
});
const targetQuery = z.object({
  target: z
    .string({ error: 'required: name the environment to deploy to, e.g. ?target=production' })
    .trim()
    .min(1, 'must not be empty: name the environment to deploy to, e.g. ?target=production')
    .max(255, 'must be at most 255 characters')
    .regex(PLAIN, 'must not hold control characters'),
});

const retryQuery = z.object({
  stage: z.string().regex(/^[1-9]\d{0,8}$/, 'must be a stage number (1, 2, …) as the build lists its stages').transform(Number).optional(),
});

export function buildActionRouter(ctx: ServerContext): Router {
  const router = Router();

  const findBuild = async (repoId: number, slug: string, raw: string) => {
    const number = Number(raw);
    const build = Number.isInteger(number) ? await ctx.db.build.findUnique({ where: { repoId_number: { repoId, number } } }) : null;
    if (!build) throw notFound(`${slug} has no build ${raw}`);
    return build;
  };
  const withStages = async (id: number) => buildJson((await ctx.db.build.findUnique({ where: { id }, include: { stages: { include: { steps: true, attempts: true } } } }))!);

  router.delete(BUILD, repoAccess(ctx, 'write'), async (req, res) => {
    const build = await findBuild(req.repo!.id, req.repo!.slug, String(req.params.number));
    if (!(await cancelBuild(ctx, build.id))) throw conflict(`build ${build.number} has already finished (${build.status}); there is nothing to cancel`);
    ctx.logger.info({ event: 'build_cancelled', repo: req.repo!.slug, build: build.number, by: req.user?.login }, 'build cancelled');
    res.json(await withStages(build.id));
  });

  router.post(BUILD, repoAccess(ctx, 'write'), async (req, res) => {
    const old = await findBuild(req.repo!.id, req.repo!.slug, String(req.params.number));
    if (!['success', 'failure', 'error', 'killed', 'skipped'].includes(old.status)) {
      throw conflict(`build ${old.number} is still ${old.status}; cancel it or wait for it to finish before restarting`);
    }
    const build = await restartBuild(ctx, req.repo!, old, req.user!.login);
    res.json(await withStages(build.id));
  });

  router.post(BUILDS, repoAccess(ctx, 'write'), async (req, res) => {
    const q = parseInput(createQuery, req.query, 'query');
    const params = buildParams(req.query, ['access_token', 'branch', 'commit']);
    const login = req.user!.login;
    const build = await buildFromRef(ctx, req.repo!, { event: 'custom', branch: q.branch, commit: q.commit, params, trigger: login, sender: login });
    ctx.logger.info({ event: 'build_requested', kind: 'custom', repo: req.repo!.slug, build: build.number, by: login }, 'manual build requested');
    res.json(await withStages(build.id));
  });

  router.post(`${BUILD}/retry`, repoAccess(ctx, 'write'), async (req, res) => {
    const build = await findBuild(req.repo!.id, req.repo!.slug, String(req.params.number));
    const { stage } = parseInput(retryQuery, req.query, 'query');
    await retryBuild(ctx, req.repo!, build, stage);
    res.json(await withStages(build.id));
  });

  for (const event of ['promote', 'rollback'] as const) {
    router.post(`${BUILD}/${event}`, repoAccess(ctx, 'write'), async (req, res) => {
      const from = await findBuild(req.repo!.id, req.repo!.slug, String(req.params.number));
      const { target } = parseInput(targetQuery, req.query, 'query');
      const params = buildParams(req.query, ['access_token', 'target']);
      // Drone's promotion keeps the promoted build's sender; the trigger is who promoted.
      const build = await buildFromRef(ctx, req.repo!, { event, from, params, deployTo: target, trigger: req.user!.login, sender: from.sender });
      ctx.logger.info({ event: 'build_requested', kind: event, repo: req.repo!.slug, build: build.number, parent: from.number, target, by: req.user!.login }, `${event} requested`);
      res.json(await withStages(build.id));
    });
  }

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
      res.json(await withStages(build.id));
    });
  };
  decide('approve', approveBuild);
  decide('decline', declineBuild);

  return router;
}
