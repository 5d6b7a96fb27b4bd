// The server side of core/protocol.ts: runners poll for stages, accept them, and
// report steps, stages and log lines back. Every call that names a stage or step is
// checked against the stage's holder and its stage token (stage-state.ts); bodies are
// checked with zod and a malformed one is a 400, which runners do not send again.
// Mount after rpcAuth(ctx) and a JSON body parser (server/app.ts).
import { Router, type Request, type Response } from 'express';
import { isDone } from '../../core/domain.ts';
import type { AcceptResponse, PingResponse, RunnerInfo, StageDetails, WatchResponse } from '../../core/protocol.ts';
import { LONG_POLL_MS, RUNNER_HEADER, STAGE_TOKEN_HEADER } from '../../core/protocol.ts';
import { parseInput } from '../api/body-validation.ts';
import { buildJson, repoJson, stageJson, stepJson } from '../api/serialize.ts';
import { acceptStage, assertWatcher, forgetRunnerStages, heldStage, releaseStage, renewLeases, type StageCaller, updateStage, updateStep } from '../builds/stage-state.ts';
import type { ServerContext } from '../context.ts';
import { channels } from '../events/event-bus.ts';
import { badRequest, notFound } from '../http/errors.ts';
import { appendLogLines } from '../logs/log-store.ts';
import { repoToken } from '../builds/repo-token.ts';
import { trustedFor } from '../builds/fork-powers.ts';
import { secretBoxFor } from '../secrets/secret-box.ts';
import { stageSecrets } from '../secrets/stage-secrets.ts';
import { systemInfo } from '../system-info.ts';
import { assertSpeaksFor, rpcCredential } from './rpc-auth.ts';
import { acceptSchema, parseLogBatch, runnerInfoSchema, stageUpdateSchema, stepUpdateSchema } from './rpc-schemas.ts';

function id(req: Request, name: string): number {
  const value = Number(req.params[name]);
  if (!Number.isInteger(value) || value <= 0) throw notFound(`${name} "${req.params[name]}" is not an id`);
  return value;
}

/**
 * The runner making the call, as RUNNER_HEADER names it (a runner token's own name when the
 * header is absent; rpcAuth refused a header naming another), and the stage token it sent.
 */
function caller(req: Request, res: Response): StageCaller {
  const credential = rpcCredential(res);
  const runner = req.get(RUNNER_HEADER) || (credential.via === 'runner-token' ? credential.runner : '');
  if (!runner) throw badRequest(`calls that name a stage or step must carry the runner's name in the ${RUNNER_HEADER} header`);
  return { runner, token: req.get(STAGE_TOKEN_HEADER) ?? '' };
}

/** Aborts when the runner hangs up or the server is stopping. */
function requestSignal(res: Response, shutdown: AbortSignal): AbortSignal {
  const controller = new AbortController();
  res.on('close', () => controller.abort());
  return AbortSignal.any([controller.signal, shutdown]);
}

export function rpcRouter(ctx: ServerContext, shutdown: AbortSignal): Router {
  const router = Router();

  router.post('/ping', async (req, res) => {
    const info = parseInput(runnerInfoSchema, req.body);
    assertSpeaksFor(res, info.name);
    const lost = await recordRunner(ctx, info);
    const answer: PingResponse = { lease_seconds: ctx.config.leaseSeconds, lost };
    res.json(answer);
  });

  router.post('/request', async (req, res) => {
    const info = parseInput(runnerInfoSchema, req.body);
    assertSpeaksFor(res, info.name);
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
    // The body names the runner taking the stage, as in Drone's protocol, and the stage token it will send.
    const { machine, token } = parseInput(acceptSchema, req.body);
    assertSpeaksFor(res, machine);
    const answer: AcceptResponse = { ...stageJson(await acceptStage(ctx, id(req, 'stage'), { runner: machine, token })), token };
    res.json(answer);
  });

  router.post('/stages/:stage/release', async (req, res) => {
    await releaseStage(ctx, id(req, 'stage'), caller(req, res));
    res.status(204).end();
  });

  router.get('/stages/:stage/details', async (req, res) => {
    const held = await heldStage(ctx, id(req, 'stage'), caller(req, res));
    const stage = await ctx.db.stage.findUnique({ where: { id: held.id }, include: { steps: true, build: { include: { repo: true } } } });
    if (!stage) throw notFound(`stage ${req.params.stage} does not exist`);
    const { build } = stage;
    const { repo } = build;
    // A fork's pull request gets the repository's trusted powers only once approved (builds/fork-powers.ts).
    const facts = { repo: { ...repoJson(repo), trusted: trustedFor(repo, build) }, build: buildJson(build), system: systemInfo(ctx.config.host) };
    const details: StageDetails = {
      repo: facts.repo,
      build: facts.build,
      stage: stageJson(stage),
      config: build.config,
      // The repository's credentials are for the repository: a fork's clone goes without them.
      netrc: repo.private && !build.sourceCloneUrl ? ctx.providers.get(repo.provider).netrc(await repoToken(ctx, repo), repo.cloneUrl) : null,
      ...(build.sourceCloneUrl ? { clone_url: build.sourceCloneUrl } : {}),
      // Secrets go only to the runner holding the stage with its token, while it has not finished (heldStage).
      secrets: await stageSecrets({
        db: ctx.db,
        logger: ctx.logger,
        box: secretBoxFor(ctx.config.databaseSecret),
        build,
        repo,
        stageName: stage.name,
        // The names as the runner will read them: with the build's facts substituted.
        parse: (config) => ctx.pipelines.parse(config, facts),
      }),
      changed_files: build.changedFiles ? (JSON.parse(build.changedFiles) as string[]) : null,
      system: facts.system,
    };
    res.json(details);
  });

  router.post('/stages/:stage', async (req, res) => {
    const stage = await updateStage(ctx, id(req, 'stage'), caller(req, res), parseInput(stageUpdateSchema, req.body));
    res.json(stageJson(stage));
  });

  router.post('/steps/:step', async (req, res) => {
    const step = await updateStep(ctx, id(req, 'step'), caller(req, res), parseInput(stepUpdateSchema, req.body));
    res.json(stepJson(step));
  });

  router.post('/steps/:step/logs', async (req, res) => {
    const stepId = id(req, 'step');
    const who = caller(req, res);
    const lines = parseLogBatch(req.body);
    const step = await ctx.db.step.findUnique({ where: { id: stepId }, select: { stageId: true } });
    if (!step) throw notFound(`step ${stepId} does not exist`);
    // The lines belong to the attempt the caller's token was given for: a retry changes both.
    const stage = await heldStage(ctx, step.stageId, who);
    await appendLogLines(ctx, stepId, lines, stage.attempt);
    res.status(204).end();
  });

  router.post('/builds/:build/watch', async (req, res) => {
    const buildId = id(req, 'build');
    await assertWatcher(ctx, buildId, caller(req, res));
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
