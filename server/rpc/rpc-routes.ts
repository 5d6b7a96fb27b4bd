// The server side of core/protocol.ts: runners poll for stages, accept them, and
// report steps, stages and log lines back.
import { Router, type Request, type Response } from 'express';
import type { Provider } from '../../core/domain.ts';
import { isDone } from '../../core/domain.ts';
import type { StageDetails, WatchResponse } from '../../core/protocol.ts';
import { LONG_POLL_MS } from '../../core/protocol.ts';
import { buildJson, repoJson, stageJson, stepJson } from '../api/serialize.ts';
import { updateStage, updateStep } from '../builds/build-state.ts';
import type { ServerContext } from '../context.ts';
import { channels } from '../events/event-bus.ts';
import { conflict, notFound } from '../http/errors.ts';
import { appendLogLines } from '../logs/log-store.ts';
import { repoToken } from '../builds/repo-token.ts';
import { secretBoxFor } from '../secrets/secret-box.ts';
import { stageSecrets } from '../secrets/stage-secrets.ts';
import { systemInfo } from '../system-info.ts';
import { rpcAuth } from './rpc-auth.ts';
import { acceptSchema, logBatchSchema, runnerInfoSchema, stageUpdateSchema, stepUpdateSchema } from './rpc-schemas.ts';

function id(req: Request, name: string): number {
  const value = Number(req.params[name]);
  if (!Number.isInteger(value) || value <= 0) throw notFound(`${name} "${req.params[name]}" is not an id`);
  return value;
}

/** Aborts when the runner hangs up or the server is stopping. */
function requestSignal(res: Response, shutdown: AbortSignal): AbortSignal {
  const controller = new AbortController();
  res.on('close', () => controller.abort());
  return AbortSignal.any([controller.signal, shutdown]);
}

export function rpcRouter(ctx: ServerContext, shutdown: AbortSignal): Router {
  const router = Router();
  router.use(rpcAuth(ctx.config.rpcSecret));

  router.post('/ping', async (req, res) => {
    await recordRunner(ctx, runnerInfoSchema.parse(req.body));
    res.status(204).end();
  });

  router.post('/request', async (req, res) => {
    const info = runnerInfoSchema.parse(req.body);
    await recordRunner(ctx, info);
    const stage = await ctx.queue.waitForStage(info, LONG_POLL_MS, requestSignal(res, shutdown));
    if (!stage) {
      if (!res.headersSent && !res.writableEnded) res.status(204).end();
      return;
    }
    const steps = await ctx.db.step.findMany({ where: { stageId: stage.id } });
    res.json({ stage: stageJson({ ...stage, steps }) });
  });

  router.post('/stages/:stage/accept', async (req, res) => {
    const { machine } = acceptSchema.parse(req.body);
    const stage = await ctx.queue.claim(id(req, 'stage'), machine, ctx.now());
    if (!stage) throw conflict('another runner has taken this stage, or it was cancelled; request another');
    ctx.logger.info({ event: 'stage_accepted', stage: stage.id, build: stage.buildId, machine }, 'stage accepted');
    const steps = await ctx.db.step.findMany({ where: { stageId: stage.id } });
    res.json(stageJson({ ...stage, steps }));
  });

  router.get('/stages/:stage/details', async (req, res) => {
    const stage = await ctx.db.stage.findUnique({ where: { id: id(req, 'stage') }, include: { steps: true, build: { include: { repo: true } } } });
    if (!stage) throw notFound(`stage ${req.params.stage} does not exist`);
    const { build } = stage;
    const { repo } = build;
    const details: StageDetails = {
      repo: repoJson(repo),
      build: buildJson(build),
      stage: stageJson(stage),
      config: build.config,
      netrc: repo.private ? ctx.scms[repo.provider as Provider].netrc(await repoToken(ctx, repo), repo.cloneUrl) : null,
      // Secrets go only to a stage a runner holds and has not finished.
      secrets: stage.machine === '' || isDone(stage.status as never) ? [] : await stageSecrets({
        db: ctx.db,
        logger: ctx.logger,
        box: secretBoxFor(ctx.config.databaseSecret),
        build,
        repoSlug: repo.slug,
        stageName: stage.name,
      }),
      changed_files: build.changedFiles ? (JSON.parse(build.changedFiles) as string[]) : null,
      system: systemInfo(ctx.config.host),
    };
    res.json(details);
  });

  router.post('/stages/:stage', async (req, res) => {
    const stage = await updateStage(ctx, id(req, 'stage'), stageUpdateSchema.parse(req.body));
    res.json(stageJson(stage));
  });

  router.post('/steps/:step', async (req, res) => {
    const step = await updateStep(ctx, id(req, 'step'), stepUpdateSchema.parse(req.body));
    res.json(stepJson(step));
  });

  router.post('/steps/:step/logs', async (req, res) => {
    await appendLogLines(ctx, id(req, 'step'), logBatchSchema.parse(req.body));
    res.status(204).end();
  });

  router.post('/builds/:build/watch', async (req, res) => {
    const buildId = id(req, 'build');
    const check = async (): Promise<WatchResponse | undefined> => {
      const build = await ctx.db.build.findUnique({ where: { id: buildId }, select: { status: true, cancelled: true } });
      if (!build) throw notFound(`build ${buildId} does not exist`);
      if (build.cancelled || isDone(build.status as never)) return { cancelled: build.cancelled, status: build.status as never };
      return undefined;
    };
    const answer = await ctx.events.waitFor(channels.build(buildId), check, LONG_POLL_MS, requestSignal(res, shutdown));
    if (res.writableEnded) return;
    if (answer) res.json(answer);
    else res.status(204).end();
  });

  return router;
}

async function recordRunner(ctx: ServerContext, info: ReturnType<typeof runnerInfoSchema.parse>): Promise<void> {
  const data = {
    labels: JSON.stringify(info.labels),
    capacity: info.capacity,
    running: JSON.stringify(info.running),
    os: info.os,
    arch: info.arch,
    version: info.version,
    lastSeen: ctx.now(),
  };
  await ctx.db.runner.upsert({ where: { name: info.name }, create: { name: info.name, ...data }, update: data });
}


