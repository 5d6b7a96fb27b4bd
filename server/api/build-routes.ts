// A repository's builds, read side (Drone's paths; read permission):
//   GET /api/repos/{owner}/{name}/builds                                   newest first; ?page, ?per_page (25, at most 100), ?branch
//   GET /api/repos/{owner}/{name}/builds/{number}                          with stages[].steps[], and stages[].waiting for stages not yet started
//   GET /api/repos/{owner}/{name}/builds/latest                            the newest build (?branch, ?ref), as in Drone
//   GET /api/repos/{owner}/{name}/builds/{number}/logs/{stage}/{step}      [{pos,out,time}] by pos, streamed page by page;
//                                                                          ?offset, ?limit (server/logs/log-json.ts)
// Mount after authenticate(ctx).
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { ServerContext } from '../context.ts';
import { repoAccess } from '../auth/repo-access.ts';
import { waitingReasons } from '../builds/waiting-reason.ts';
import { notFound } from '../http/errors.ts';
import { parseInput } from './body-validation.ts';
import { parseLogQuery, sendLogJson } from '../logs/log-json.ts';
import { findStep } from './find-step.ts';
import { buildJson } from './serialize.ts';

const BUILDS = '/api/repos/:owner/:name/builds';

export const DEFAULT_PER_PAGE = 25;
export const MAX_PER_PAGE = 100;

const positive = (what: string) =>
  z.coerce.number({ error: `must be a ${what}` }).int(`must be a whole ${what}`).min(1, `must be a ${what} of at least 1`);

const listQuery = z.object({
  page: positive('page number').default(1),
  // Asking for more than the maximum gets the maximum, as in Drone.
  per_page: positive('number').default(DEFAULT_PER_PAGE).transform((n) => Math.min(n, MAX_PER_PAGE)),
  branch: z.string().optional(),
});

const latestQuery = z.object({ branch: z.string().optional(), ref: z.string().optional() });

const numberParam = (req: Request, name: string, what: string): number =>
  parseInput(z.object({ [name]: positive(what) }), { [name]: req.params[name] }, 'path')[name] as number;

export function buildRouter(ctx: ServerContext): Router {
  const router = Router();

  router.get(BUILDS, repoAccess(ctx, 'read'), async (req, res) => {
    const q = parseInput(listQuery, req.query, 'query');
    const builds = await ctx.db.build.findMany({
      where: { repoId: req.repo!.id, ...(q.branch ? { target: q.branch } : {}) },
      orderBy: { number: 'desc' },
      skip: (q.page - 1) * q.per_page,
      take: q.per_page,
    });
    res.json(builds.map((b) => buildJson(b)));
  });

  router.get(`${BUILDS}/latest`, repoAccess(ctx, 'read'), async (req, res) => {
    const q = parseInput(latestQuery, req.query, 'query');
    const build = await ctx.db.build.findFirst({
      where: { repoId: req.repo!.id, ...(q.branch ? { target: q.branch } : {}), ...(q.ref ? { ref: q.ref } : {}) },
      orderBy: { number: 'desc' },
      include: { stages: { include: { steps: true, attempts: true } } },
    });
    if (!build) {
      const filter = [q.branch && `branch ${q.branch}`, q.ref && `ref ${q.ref}`].filter(Boolean).join(' and ');
      throw notFound(`${req.repo!.slug} has no builds${filter ? ` for ${filter}` : ''} yet`);
    }
    res.json(buildJson(build, await waitingReasons(ctx, build.stages)));
  });

  router.get(`${BUILDS}/:number`, repoAccess(ctx, 'read'), async (req, res) => {
    const number = numberParam(req, 'number', 'build number');
    const build = await ctx.db.build.findUnique({
      where: { repoId_number: { repoId: req.repo!.id, number } },
      include: { stages: { include: { steps: true, attempts: true } } },
    });
    if (!build) throw notFound(`${req.repo!.slug} has no build ${number}`);
    res.json(buildJson(build, await waitingReasons(ctx, build.stages)));
  });

  router.get(`${BUILDS}/:number/logs/:stage/:step`, repoAccess(ctx, 'read'), async (req, res) => {
    const number = numberParam(req, 'number', 'build number');
    const step = await findStep(ctx, req.repo!, number, numberParam(req, 'stage', 'stage number'), numberParam(req, 'step', 'step number'));
    const build = await ctx.db.build.findUniqueOrThrow({ where: { repoId_number: { repoId: req.repo!.id, number } }, select: { logsPurged: true } });
    const attempt = parseLogQuery(req.query).attempt ?? step.stageAttempt;
    if (attempt > step.stageAttempt) {
      throw notFound(`stage ${req.params.stage} of build ${number} has had ${step.stageAttempt} attempt${step.stageAttempt === 1 ? '' : 's'}, not ${attempt}; ask for ?attempt=1 to ${step.stageAttempt}`);
    }
    await sendLogJson(ctx, req, res, step.id, attempt, build.logsPurged);
  });

  return router;
}
