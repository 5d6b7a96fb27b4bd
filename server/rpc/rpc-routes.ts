// The server side of core/protocol.ts: runners poll for stages, accept them, and
// report steps, stages and log lines back. Every call that names a stage or step is
// checked against the stage's holder (stage-state.ts); bodies are checked with zod
// and a malformed one is a 400, which runners do not send again.
import { Router, type Request, type Response } from 'express';
import type { Provider } from '../../core/domain.ts';
import { isDone } from '../../core/domain.ts';
import type { PingResponse, RunnerInfo, StageDetails, WatchResponse } from '../../core/protocol.ts';
import { LONG_POLL_MS, RUNNER_HEADER } from '../../core/protocol.ts';
import { parseInput } from '../api/body-validation.ts';
import { buildJson, repoJson, stageJson, stepJson } from '../api/serialize.ts';
import { acceptStage, forgetRunnerStages, heldStage, releaseStage, renewLeases, updateStage, updateStep } from '../builds/stage-state.ts';
import type { ServerContext } from '../context.ts';
import { channels } from '../events/event-bus.ts';
import { badRequest, notFound } from '../http/errors.ts';
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

/** The runner making the call, as RUNNER_HEADER names it. */
function caller(req: Request): string {
  const name = req.get(RUNNER_HEADER) ?? '';
  if (!name) throw badRequest(`calls that name a stage or step must carry the runner's name in the ${RUNNER_HEADER} header`);
  return name;
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
    const info = parseInput(runnerInfoSchema, req.body);
    const lost = await recordRunner(ctx, info);
    const answer: PingResponse = { lease_seconds: ctx.config.leaseSeconds, lost };
    res.json(answer);
  });

  router.post('/request', async (req, res) => {
    const info = parseInput(runnerInfoSchema, req.body);
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
    // The body names the runner taking the stage, as in Drone's protocol.
    const { machine } = parseInput(acceptSchema, req.body);
    res.json(stageJson(await acceptStage(ctx, id(req, 'stage'), machine)));
  });

  router.post('/stages/:stage/release', async (req, res) => {
    await releaseStage(ctx, id(req, 'stage'), caller(req));
    res.status(204).end();
  });

  router.get('/stages/:stage/details', async (req, res) => {
    const held = await heldStage(ctx, id(req, 'stage'), caller(req));
    const stage = await ctx.db.stage.findUnique({ where: { id: held.id }, include: { steps: true, build: { include: { repo: true } } } });
    if (!stage) throw notFound(`stage ${req.params.stage} does not exist`);
    const { build } = stage;
    const { repo } = build;
    const details: StageDetails = {
      repo: repoJson(repo),
      build: buildJson(build),
      stage: stageJson(stage),
      config: build.config,
      netrc: repo.private ? ctx.scms[repo.provider as Provider].netrc(await repoToken(ctx, repo), repo.cloneUrl) : null,
      // Secrets go only to the runner holding the stage, while it has not finished (heldStage).
      secrets: await stageSecrets({
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
    const stage = await updateStage(ctx, id(req, 'stage'), caller(req), parseInput(stageUpdateSchema, req.body));
    res.json(stageJson(stage));
  });

  router.post('/steps/:step', async (req, res) => {
    const step = await updateStep(ctx, id(req, 'step'), caller(req), parseInput(stepUpdateSchema, req.body));
    res.json(stepJson(step));
  });

  router.post('/steps/:step/logs', async (req, res) => {
    const stepId = id(req, 'step');
    const runner = caller(req);
    const lines = parseInput(logBatchSchema, req.body, 'log batch');
    const step = await ctx.db.step.findUnique({ where: { id: stepId }, select: { stageId: true } });
    if (!step) throw notFound(`step ${stepId} does not exist`);
    await heldStage(ctx, step.stageId, runner);
    await appendLogLines(ctx, stepId, lines);
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

/**
 * Records the runner's contact and renews its leases; returns the stages it listed as
 * running that it no longer holds. A new process under a known name means the earlier
 * one is gone: the stages it held end now rather than when their leases run out.
 */
async function recordRunner(ctx: ServerContext, info: RunnerInfo): Promise<number[]> {
  const data = {
    labels: JSON.stringify(info.labels),
    capacity: info.capacity,
    running: JSON.stringify(info.running),
    os: info.os,
    arch: info.arch,
    version: info.version,
    lastSeen: ctx.now(),
    sick: info.sick ?? '',
    stopping: info.stopping ?? false,
    ...(info.instance ? { instance: info.instance } : {}),
  };
  const before = info.instance ? await ctx.db.runner.findUnique({ where: { name: info.name }, select: { instance: true } }) : null;
  await ctx.db.runner.upsert({ where: { name: info.name }, create: { name: info.name, ...data }, update: data });
  if (before?.instance && info.instance && before.instance !== info.instance) {
    ctx.logger.warn({ event: 'runner_restarted', runner: info.name }, `runner ${info.name} restarted; ending the stages its earlier process held (runner names must be unique)`);
    await forgetRunnerStages(ctx, info.name, info.running);
  }
  return renewLeases(ctx, info.name, info.running);
}
