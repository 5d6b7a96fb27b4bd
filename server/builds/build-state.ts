// How a build moves: from its stages' results (reported by runners, stage-state.ts)
// the server starts the stages that waited on others and settles the build's own
// status. Every transition is a conditional update, so several server processes
// handling reports for one build at once still move it exactly once.
import type { Status } from '../../core/domain.ts';
import { isDone } from '../../core/domain.ts';
import type { ServerContext } from '../context.ts';
import type { Build as BuildRow, Repo as RepoRow, Stage as StageRow } from '../db/generated/sqlite/client.ts';
import { channels } from '../events/event-bus.ts';
import { readyStages as readyOf } from '../../pipeline/stage-readiness.ts';
import { reportCommitStatus } from './commit-status.ts';

const UNFINISHED: Status[] = ['pending', 'running', 'waiting_on_dependencies', 'blocked'];

// A runner that stops early (a failed clone, a malformed pipeline) may leave steps
// it never reached; they did not run.
export async function settleSteps(ctx: ServerContext, stage: StageRow): Promise<void> {
  const now = ctx.now();
  await ctx.db.step.updateMany({ where: { stageId: stage.id, status: 'pending' }, data: { status: 'skipped' } });
  await ctx.db.step.updateMany({
    where: { stageId: stage.id, status: 'running' },
    data: { status: stage.status === 'success' ? 'success' : 'killed', stopped: stage.stopped || now },
  });
}

/** Stages whose dependencies have all finished, split by whether they should run (pipeline/stage-readiness.ts). */
function readyStages(stages: StageRow[]): { run: StageRow[]; skip: StageRow[] } {
  const records = stages.map((row) => ({ row, name: row.name, status: row.status as Status, dependsOn: JSON.parse(row.dependsOn) as string[], onSuccess: row.onSuccess, onFailure: row.onFailure, errignore: row.errignore }));
  const { run, skip } = readyOf(records);
  return { run: run.map((r) => r.row), skip: skip.map((r) => r.row) };
}

function finalStatus(stages: StageRow[], cancelled: boolean): Status {
  const statuses = stages.filter((s) => !s.errignore).map((s) => s.status as Status);
  if (cancelled || statuses.includes('killed')) return 'killed';
  if (statuses.includes('error')) return 'error';
  if (statuses.includes('failure')) return 'failure';
  return 'success';
}

export async function advanceBuild(ctx: ServerContext, buildId: number): Promise<void> {
  const now = ctx.now();
  let stages = await ctx.db.stage.findMany({ where: { buildId }, orderBy: { number: 'asc' } });
  if (stages.some((s) => s.status !== 'pending' && s.status !== 'waiting_on_dependencies')) {
    await ctx.db.build.updateMany({ where: { id: buildId, status: 'pending' }, data: { status: 'running', started: now, updatedAt: now } });
  }
  // Starting or skipping stages can unblock others (a skipped stage counts as finished).
  for (let changed = true; changed; ) {
    changed = false;
    const { run, skip } = readyStages(stages);
    for (const stage of skip) {
      const { count } = await ctx.db.stage.updateMany({
        where: { id: stage.id, status: 'waiting_on_dependencies' },
        data: { status: 'skipped', updatedAt: now },
      });
      if (count) await ctx.db.step.updateMany({ where: { stageId: stage.id }, data: { status: 'skipped' } });
      changed ||= count > 0;
    }
    for (const stage of run) {
      const { count } = await ctx.db.stage.updateMany({
        where: { id: stage.id, status: 'waiting_on_dependencies' },
        data: { status: 'pending', queuedAt: now, updatedAt: now },
      });
      if (count) ctx.queue.announce([stage.lane]);
      changed ||= count > 0;
    }
    if (changed) stages = await ctx.db.stage.findMany({ where: { buildId }, orderBy: { number: 'asc' } });
  }
  if (stages.every((s) => isDone(s.status as Status))) await finishBuild(ctx, buildId, stages);
  await publishBuild(ctx, buildId);
}

async function finishBuild(ctx: ServerContext, buildId: number, stages: StageRow[]): Promise<void> {
  const now = ctx.now();
  const build = await ctx.db.build.findUnique({ where: { id: buildId } });
  if (!build) return;
  const status = finalStatus(stages, build.cancelled);
  const { count } = await ctx.db.build.updateMany({
    where: { id: buildId, status: { in: UNFINISHED } },
    data: { status, finished: now, started: build.started || now, updatedAt: now, version: { increment: 1 } },
  });
  if (count !== 1) return;
  ctx.metrics.buildFinished(status, Math.max(0, now - (build.started || build.createdAt)));
  const [repo, finished] = await Promise.all([
    ctx.db.repo.findUnique({ where: { id: build.repoId } }),
    ctx.db.build.findUnique({ where: { id: buildId } }),
  ]);
  if (repo && finished) await reportCommitStatus(ctx, repo, finished);
  ctx.logger.info({ event: 'build_finished', repo: repo?.slug, build: build.number, status }, 'build finished');
}

/** Cancels a build: stages not yet started are skipped, running ones are killed by their runners (they watch the build). */
export async function cancelBuild(ctx: ServerContext, buildId: number): Promise<boolean> {
  const now = ctx.now();
  const { count } = await ctx.db.build.updateMany({
    where: { id: buildId, status: { in: UNFINISHED } },
    data: { cancelled: true, status: 'killed', finished: now, updatedAt: now, version: { increment: 1 } },
  });
  if (count !== 1) return false;
  const waiting = await ctx.db.stage.findMany({
    where: { buildId, status: { in: ['pending', 'waiting_on_dependencies', 'blocked'] }, machine: '' },
  });
  for (const stage of waiting) {
    const skipped = await ctx.db.stage.updateMany({
      where: { id: stage.id, status: stage.status, machine: '' },
      data: { status: 'skipped', updatedAt: now },
    });
    if (!skipped.count) continue;
    await ctx.db.step.updateMany({ where: { stageId: stage.id }, data: { status: 'skipped' } });
  }
  const build = await ctx.db.build.findUnique({ where: { id: buildId }, include: { repo: true } });
  if (build) await reportCommitStatus(ctx, build.repo, build);
  await publishBuild(ctx, buildId);
  return true;
}

/**
 * Approves a blocked build (Drone's approve, for the whole build): its stages are queued as
 * a new build's would be, and the approver is recorded, which lets a fork's pull request use
 * the repository's trusted powers (fork-powers.ts). The build row moves first and
 * conditionally, so of two approvals (or an approval and a decline) exactly one wins.
 */
export async function approveBuild(ctx: ServerContext, buildId: number, login: string): Promise<boolean> {
  const now = ctx.now();
  const lanes = await ctx.db.$transaction(async (tx) => {
    const { count } = await tx.build.updateMany({
      where: { id: buildId, status: 'blocked' },
      data: { status: 'pending', approvedBy: login, updatedAt: now, version: { increment: 1 } },
    });
    if (count !== 1) return undefined;
    const stages = await tx.stage.findMany({ where: { buildId, status: 'blocked' } });
    const queued: string[] = [];
    for (const stage of stages) {
      const waits = (JSON.parse(stage.dependsOn) as string[]).length > 0;
      await tx.stage.updateMany({
        where: { id: stage.id, status: 'blocked' },
        data: { status: waits ? 'waiting_on_dependencies' : 'pending', queuedAt: now, updatedAt: now },
      });
      if (!waits) queued.push(stage.lane);
    }
    return queued;
  });
  if (!lanes) return false;
  ctx.queue.announce(lanes);
  const build = await ctx.db.build.findUnique({ where: { id: buildId }, include: { repo: true } });
  if (build) await reportCommitStatus(ctx, build.repo, build);
  // A build without stages (no pipeline matched on restart) finishes here.
  await advanceBuild(ctx, buildId);
  return true;
}

/** Declines a blocked build (Drone's decline): it ends `declined` and none of its stages ever runs. */
export async function declineBuild(ctx: ServerContext, buildId: number, login: string): Promise<boolean> {
  const now = ctx.now();
  const declined = await ctx.db.$transaction(async (tx) => {
    const { count } = await tx.build.updateMany({
      where: { id: buildId, status: 'blocked' },
      data: { status: 'declined', approvedBy: login, finished: now, updatedAt: now, version: { increment: 1 } },
    });
    if (count !== 1) return false;
    const stages = await tx.stage.findMany({ where: { buildId, status: 'blocked' }, select: { id: true } });
    await tx.stage.updateMany({ where: { buildId, status: 'blocked' }, data: { status: 'declined', updatedAt: now } });
    await tx.step.updateMany({ where: { stageId: { in: stages.map((s) => s.id) } }, data: { status: 'skipped' } });
    return true;
  });
  if (!declined) return false;
  const build = await ctx.db.build.findUnique({ where: { id: buildId }, include: { repo: true } });
  if (build) await reportCommitStatus(ctx, build.repo, build);
  await publishBuild(ctx, buildId);
  return true;
}

/** Tells the build's watchers (runners, live build lists) that it changed. */
/** A build that has (again) stages to run: runners hear of its pending stages, live pages of it, and the provider of its pending status. */
export async function announceBuild(ctx: ServerContext, repo: RepoRow, build: BuildRow): Promise<void> {
  const pending = await ctx.db.stage.findMany({ where: { buildId: build.id, status: 'pending' }, select: { lane: true } });
  ctx.queue.announce(pending.map((s) => s.lane));
  // Live build lists (GET /api/stream/{owner}/{name}) show the build at once.
  await publishBuild(ctx, build.id);
  void reportCommitStatus(ctx, repo, build);
}

export async function publishBuild(ctx: ServerContext, buildId: number): Promise<void> {
  const build = await ctx.db.build.findUnique({ where: { id: buildId }, select: { id: true, repoId: true, number: true, status: true, cancelled: true } });
  if (!build) return;
  const message = { build: build.id, number: build.number, status: build.status, cancelled: build.cancelled };
  await Promise.all([ctx.events.publish(channels.build(build.id), message), ctx.events.publish(channels.repoBuilds(build.repoId), message)]);
}
