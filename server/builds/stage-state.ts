// What runners do to stages and steps, and what happens when a runner goes quiet.
// Every write here is conditional on the state it leaves (status, holder, version),
// so a late, repeated or foreign call changes nothing, and several server processes
// acting on one stage at once move it exactly once.
//
// A runner holds a stage under a lease (Stage.leaseUntil) from accept on; its pings
// renew it. When a lease runs out, a stage whose steps had not started goes back to
// the queue; one whose steps had started ends `error` with the reason, and the build
// settles as if the runner had reported it.
//
// Accepting puts the runner's stage token in force (Stage.tokenHash, stage-token.ts): every
// later call about the stage must carry it (403 otherwise), checked after the holder (409).
// The hash goes when the runner no longer holds the stage (handed back, requeued, taken back
// at lease expiry). A stage the runner itself ended keeps it, so that the runner's repeat of
// its final report (an answer lost) is still answered; nothing else is allowed on an ended stage.
import type { Status } from '../../core/domain.ts';
import { isDone } from '../../core/domain.ts';
import { STAGE_TOKEN_HEADER, type StageUpdate, type StepUpdate } from '../../core/protocol.ts';
import type { ServerContext } from '../context.ts';
import type { Stage as StageRow, Step as StepRow } from '../db/generated/sqlite/client.ts';
import { channels } from '../events/event-bus.ts';
import { conflict, forbidden, notFound } from '../http/errors.ts';
import { labelSetKey, labelSetOf, parseLane } from '../queue/lanes.ts';
import { HELD, HELD_STATUS } from '../queue/stage-queue.ts';
import { advanceBuild, publishBuild, settleSteps } from './build-state.ts';
import { assertStageToken, hashStageToken, stageTokenMatches } from './stage-token.ts';

/** Who makes a call about a stage: the runner's name and the stage token it sent ('' when none). */
export interface StageCaller {
  runner: string;
  token: string;
}

/** The columns a runner's report sets; fields it left out stay as they are. */
function progress(update: StepUpdate | StageUpdate) {
  return {
    status: update.status,
    ...(update.error !== undefined ? { error: update.error } : {}),
    ...(update.exit_code !== undefined ? { exitCode: update.exit_code } : {}),
    ...(update.started !== undefined ? { started: update.started } : {}),
    ...(update.stopped !== undefined ? { stopped: update.stopped } : {}),
  };
}

/** The stage, when the caller holds it, it has not ended, and the caller sent its token; a 409 or 403 that says why otherwise. */
export async function heldStage(ctx: ServerContext, stageId: number, caller: StageCaller): Promise<StageRow> {
  const stage = await ctx.db.stage.findUnique({ where: { id: stageId } });
  if (!stage) throw notFound(`stage ${stageId} does not exist`);
  assertHolder(stage, caller.runner);
  assertStageToken(stage, caller.token);
  return stage;
}

/**
 * A build may be watched only by a runner holding one of its stages, with that stage's token:
 * 403 otherwise. Several stages of one build may run on one runner; any of their tokens will do.
 */
export async function assertWatcher(ctx: ServerContext, buildId: number, caller: StageCaller): Promise<void> {
  const held = await ctx.db.stage.findMany({ where: { buildId, machine: caller.runner, ...HELD_STATUS }, select: { tokenHash: true } });
  // Every candidate is compared, so the answer takes as long whichever one matches.
  const matches = held.map((s) => stageTokenMatches(caller.token, s.tokenHash));
  if (matches.includes(true)) return;
  throw forbidden(
    held.length
      ? `watching build ${buildId} needs the token of a stage of it that runner ${caller.runner} accepted, in the ${STAGE_TOKEN_HEADER} header`
      : `runner ${caller.runner} holds no stage of build ${buildId}; only a runner running one of its stages may watch it`,
  );
}

function assertHolder(stage: Pick<StageRow, 'id' | 'machine' | 'status'>, runner: string): void {
  if (stage.machine !== runner) {
    throw conflict(
      stage.machine
        ? `stage ${stage.id} is held by runner ${stage.machine}, not ${runner}; stop it and report nothing more`
        : `runner ${runner} does not hold stage ${stage.id} (its lease ended or it was never accepted); stop it and report nothing more`,
    );
  }
  if (isDone(stage.status as Status)) throw conflict(`stage ${stage.id} has ended (${stage.status}); it cannot change any more`);
}

/**
 * Gives a waiting stage to the runner under its stage token; for the runner already holding
 * it with the same token, the same stage again (its answer to an earlier accept may have been
 * lost). The same name with another token is someone else: 409.
 */
export async function acceptStage(ctx: ServerContext, stageId: number, caller: StageCaller): Promise<StageRow & { steps: StepRow[] }> {
  const { runner, token } = caller;
  const now = ctx.now();
  const current = await ctx.db.stage.findFirst({ where: { id: stageId, machine: runner, ...HELD_STATUS } });
  if (current && !stageTokenMatches(token, current.tokenHash)) {
    throw conflict(`runner ${runner} already holds stage ${stageId} under another stage token: another process accepted it under this runner's name (runner names must be unique); request another`);
  }
  const renewed = current
    ? await ctx.db.stage.updateMany({
        where: { id: stageId, machine: runner, tokenHash: current.tokenHash, ...HELD_STATUS },
        data: { leaseUntil: now + ctx.config.leaseSeconds },
      })
    : { count: 0 };
  let stage = renewed.count ? await ctx.db.stage.findUnique({ where: { id: stageId } }) : await ctx.queue.claim(stageId, runner, now, ctx.config.leaseSeconds);
  if (stage && !renewed.count) {
    // Nothing can be asked about the stage before the runner has this answer, so the token may follow the claim.
    const tokenHash = hashStageToken(token);
    const { count } = await ctx.db.stage.updateMany({ where: { id: stageId, machine: runner, version: stage.version }, data: { tokenHash } });
    stage = count ? { ...stage, tokenHash } : null;
  }
  if (!stage) throw conflict('another runner has taken this stage, or it was cancelled; request another');
  if (!renewed.count) {
    ctx.logger.info({ event: 'stage_accepted', stage: stage.id, build: stage.buildId, machine: runner }, 'stage accepted');
    ctx.metrics.queueWait(Math.max(0, now - (stage.queuedAt || stage.createdAt)), parseLane(stage.lane)?.key ?? labelSetKey(labelSetOf(stage)));
  }
  const steps = await ctx.db.step.findMany({ where: { stageId: stage.id } });
  return { ...stage, steps };
}

/** Whether any of the stage's steps began: such a stage cannot simply run again elsewhere. */
function stepsStarted(steps: Pick<StepRow, 'status' | 'started'>[]): boolean {
  return steps.some((s) => s.started > 0 || !['pending', 'skipped'].includes(s.status));
}

/** The runner hands back a stage whose steps have not started; it goes back to the queue. */
export async function releaseStage(ctx: ServerContext, stageId: number, caller: StageCaller): Promise<void> {
  const { runner } = caller;
  const stage = await heldStage(ctx, stageId, caller);
  const steps = await ctx.db.step.findMany({ where: { stageId } });
  if (stepsStarted(steps)) throw conflict(`stage ${stageId} has started steps; it cannot be handed back, report its end instead`);
  if (!(await requeue(ctx, stage))) throw conflict(`stage ${stageId} changed while being handed back; ask again`);
  ctx.logger.info({ event: 'stage_released', stage: stageId, build: stage.buildId, machine: runner }, 'stage handed back to the queue');
}

/**
 * Puts a held stage back in the queue, unless it changed meanwhile (the holder reported).
 * A stage of a build cancelled (or ended) while it was held does not run again: it is skipped.
 */
async function requeue(ctx: ServerContext, stage: StageRow): Promise<boolean> {
  const now = ctx.now();
  const build = await ctx.db.build.findUnique({ where: { id: stage.buildId }, select: { cancelled: true, status: true } });
  if (!build || build.cancelled || isDone(build.status as Status)) {
    const skipped = await ctx.db.stage.updateMany({
      where: { id: stage.id, version: stage.version, ...HELD },
      data: { status: 'skipped', leaseUntil: 0, tokenHash: '', updatedAt: now, version: { increment: 1 } },
    });
    if (!skipped.count) return false;
    await ctx.db.step.updateMany({ where: { stageId: stage.id }, data: { status: 'skipped' } });
    await ctx.queue.finished(stage);
    await advanceBuild(ctx, stage.buildId);
    return true;
  }
  const { count } = await ctx.db.stage.updateMany({
    where: { id: stage.id, version: stage.version, ...HELD },
    data: { status: 'pending', machine: '', leaseUntil: 0, tokenHash: '', started: 0, stopped: 0, error: '', exitCode: 0, queuedAt: now, updatedAt: now, version: { increment: 1 } },
  });
  if (!count) return false;
  await ctx.db.step.updateMany({ where: { stageId: stage.id }, data: { status: 'pending', started: 0, stopped: 0, error: '', exitCode: 0 } });
  ctx.queue.announce([stage.lane]);
  await publishBuild(ctx, stage.buildId);
  return true;
}

export async function updateStep(ctx: ServerContext, stepId: number, caller: StageCaller, update: StepUpdate): Promise<StepRow> {
  const { runner } = caller;
  const step = await ctx.db.step.findUnique({
    where: { id: stepId },
    include: { stage: { select: { id: true, machine: true, status: true, buildId: true, tokenHash: true } } },
  });
  if (!step) throw notFound(`step ${stepId} does not exist`);
  const { stage, ...row } = step;
  if (isDone(step.status as Status)) {
    // A repeat of the report that ended it (its answer was lost) is answered as before.
    if (step.status === update.status && stage.machine === runner && stageTokenMatches(caller.token, stage.tokenHash)) return row;
    throw conflict(`step ${stepId} has ended (${step.status}); it cannot change any more`);
  }
  assertHolder(stage, runner);
  assertStageToken(stage, caller.token);
  const { count } = await ctx.db.step.updateMany({
    where: { id: stepId, version: step.version },
    data: { ...progress(update), ...(update.log_cut ? { logCut: true } : {}), version: { increment: 1 } },
  });
  if (!count) throw conflict(`step ${stepId} changed while being updated; send the update again`);
  const updated = (await ctx.db.step.findUnique({ where: { id: stepId } }))!;
  if (isDone(update.status)) {
    await ctx.events.publish(channels.stepLog(stepId), { done: true, status: update.status });
    if (updated.started) ctx.metrics.stepFinished(update.status, Math.max(0, (updated.stopped || ctx.now()) - updated.started));
  }
  await publishBuild(ctx, stage.buildId);
  return updated;
}

export async function updateStage(ctx: ServerContext, stageId: number, caller: StageCaller, update: StageUpdate): Promise<StageRow> {
  const { runner } = caller;
  const stage = await ctx.db.stage.findUnique({ where: { id: stageId } });
  if (!stage) throw notFound(`stage ${stageId} does not exist`);
  if (isDone(stage.status as Status) && stage.status === update.status && stage.machine === runner && stageTokenMatches(caller.token, stage.tokenHash)) return stage;
  assertHolder(stage, runner);
  assertStageToken(stage, caller.token);
  const now = ctx.now();
  const ending = isDone(update.status);
  const { count } = await ctx.db.stage.updateMany({
    where: { id: stageId, version: stage.version, machine: runner },
    data: { ...progress(update), ...(ending ? { leaseUntil: 0 } : {}), updatedAt: now, version: { increment: 1 } },
  });
  if (!count) throw conflict(`stage ${stageId} changed while being updated; send the update again`);
  const updated = (await ctx.db.stage.findUnique({ where: { id: stageId } }))!;
  if (ending) {
    await settleSteps(ctx, updated);
    await ctx.queue.finished(updated);
  }
  await advanceBuild(ctx, updated.buildId);
  return updated;
}

/**
 * A runner's ping or poll: renews the leases of the stages it runs, and names those it
 * listed but no longer holds, so it stops them.
 */
export async function renewLeases(ctx: ServerContext, runner: string, running: number[]): Promise<number[]> {
  if (running.length === 0) return [];
  const now = ctx.now();
  await ctx.db.stage.updateMany({ where: { id: { in: running }, machine: runner, ...HELD_STATUS }, data: { leaseUntil: now + ctx.config.leaseSeconds } });
  const held = await ctx.db.stage.findMany({ where: { id: { in: running }, machine: runner, ...HELD_STATUS }, select: { id: true } });
  const kept = new Set(held.map((s) => s.id));
  return running.filter((id) => !kept.has(id));
}

/** Ends every lease that ran out. Returns how many stages it took back. */
export async function expireLeases(ctx: ServerContext): Promise<number> {
  const expired = await ctx.db.stage.findMany({ where: { ...HELD, leaseUntil: { lt: ctx.now() } } });
  let ended = 0;
  for (const stage of expired) if (await endLease(ctx, stage, 'stopped answering')) ended++;
  return ended;
}

/** A runner restarted: the stages its earlier process held will never be reported; end their leases now. */
export async function forgetRunnerStages(ctx: ServerContext, runner: string, keep: number[]): Promise<void> {
  const stages = await ctx.db.stage.findMany({ where: { machine: runner, ...HELD_STATUS, id: { notIn: keep } } });
  for (const stage of stages) await endLease(ctx, stage, 'restarted');
}

/**
 * Takes a stage back from a runner that went away: back to the queue when none of its
 * steps started, else `error` with a reason a person understands.
 */
async function endLease(ctx: ServerContext, stage: StageRow, why: 'stopped answering' | 'restarted'): Promise<boolean> {
  const steps = await ctx.db.step.findMany({ where: { stageId: stage.id }, orderBy: { number: 'asc' } });
  const runner = await ctx.db.runner.findUnique({ where: { name: stage.machine }, select: { lastSeen: true } });
  const now = ctx.now();
  const heard = runner ? `last heard ${now - runner.lastSeen} s ago` : 'never heard from';
  if (!stepsStarted(steps)) {
    if (!(await requeue(ctx, stage))) return false;
    ctx.metrics.leaseExpired('requeued');
    ctx.logger.warn({ event: 'lease_expired', stage: stage.id, build: stage.buildId, machine: stage.machine, outcome: 'requeued', why }, `runner ${stage.machine} ${why} before the stage's steps started (${heard}); stage back in the queue`);
    return true;
  }
  const running = steps.filter((s) => s.status === 'running');
  const current = running.length ? running : steps.filter((s) => s.started > 0).slice(-1);
  const during = current.length ? `during step ${current.map((s) => s.name).join(', ')}` : 'between steps';
  const reason = `runner ${stage.machine} ${why} ${during}; ${heard}`;
  // The stage and its steps end together: a reader never sees an errored stage with a step still running.
  const ended = await ctx.db.$transaction(async (tx) => {
    const { count } = await tx.stage.updateMany({
      where: { id: stage.id, version: stage.version, ...HELD },
      data: { status: 'error', error: reason, stopped: now, started: stage.started || now, leaseUntil: 0, tokenHash: '', updatedAt: now, version: { increment: 1 } },
    });
    if (!count) return false;
    await tx.step.updateMany({ where: { stageId: stage.id, status: 'running' }, data: { status: 'error', error: reason, stopped: now, version: { increment: 1 } } });
    await tx.step.updateMany({ where: { stageId: stage.id, status: 'pending' }, data: { status: 'skipped' } });
    return true;
  });
  if (!ended) return false;
  for (const step of running) await ctx.events.publish(channels.stepLog(step.id), { done: true, status: 'error' });
  const updated = (await ctx.db.stage.findUnique({ where: { id: stage.id } }))!;
  ctx.metrics.leaseExpired('errored');
  ctx.logger.warn({ event: 'lease_expired', stage: stage.id, build: stage.buildId, machine: stage.machine, outcome: 'errored', why, reason }, reason);
  await ctx.queue.finished(updated);
  await advanceBuild(ctx, stage.buildId);
  return true;
}
