// Retrying a finished build in place (POST …/builds/{number}/retry): only the stages that
// did not pass run again, with the stages that depend on them, under the same build number.
// Each such stage's run so far is archived as a StageAttempt and the Stage and Step rows
// start over under the next attempt number, so everything that reads the live rows (the
// queue, the runner protocol, the pages) sees an ordinary pending stage.
import type { Status } from '../../core/domain.ts';
import { isDone } from '../../core/domain.ts';
import type { ServerContext } from '../context.ts';
import type { Build as BuildRow, Repo as RepoRow, Step as StepRow } from '../db/generated/sqlite/client.ts';
import { conflict, notFound } from '../http/errors.ts';
import { advanceBuild, announceBuild } from './build-state.ts';

/** How StageAttempt.steps holds a step as it ended. */
export type ArchivedStep = Pick<StepRow, 'number' | 'name' | 'status' | 'exitCode' | 'error' | 'started' | 'stopped' | 'logCut'>;

/** Stage outcomes a plain retry runs again; `skipped` only counts in a cancelled build, where it means "never got to run". */
const NOT_PASSED: Status[] = ['failure', 'error', 'killed'];

interface RetryCandidate {
  number: number;
  name: string;
  status: string;
  dependsOn: string[];
}

/**
 * The stage numbers to run again: `only` (a stage number) or every stage that did not pass,
 * and, transitively, every stage that depends on one of them, since its result was made from theirs.
 */
export function stagesToRetry(stages: RetryCandidate[], cancelled: boolean, only?: number): Set<number> {
  const seeds = only !== undefined ? stages.filter((s) => s.number === only) : stages.filter((s) => NOT_PASSED.includes(s.status as Status) || (cancelled && s.status === 'skipped'));
  const chosen = new Set(seeds.map((s) => s.number));
  const names = new Set(seeds.map((s) => s.name));
  for (let grew = true; grew; ) {
    grew = false;
    for (const stage of stages) {
      if (chosen.has(stage.number) || !stage.dependsOn.some((d) => names.has(d))) continue;
      chosen.add(stage.number);
      names.add(stage.name);
      grew = true;
    }
  }
  return chosen;
}

/**
 * Runs again the chosen stages of a finished build (see stagesToRetry); 409 when the build is
 * not finished, was declined, or has nothing to retry, 404 for an unknown stage. One transaction,
 * each write conditional on what was read: of two retries sent together, one wins and the other
 * gets a 409, and a runner still holding an earlier attempt's token is refused (its hash is gone).
 */
export async function retryBuild(ctx: ServerContext, repo: RepoRow, build: BuildRow, only?: number): Promise<BuildRow> {
  const now = ctx.now();
  const retried = await ctx.db.$transaction(async (tx) => {
    const current = await tx.build.findUnique({ where: { id: build.id }, include: { stages: { include: { steps: true } } } });
    if (!current) throw notFound(`${repo.slug} has no build ${build.number}`);
    if (!isDone(current.status as Status)) throw conflict(`build ${current.number} is still ${current.status}; wait for it to finish (or cancel it) before retrying`);
    if (current.status === 'declined') throw conflict(`build ${current.number} was declined and never ran; restart it (POST …/builds/${current.number}) to ask for approval again`);
    if (only !== undefined && !current.stages.some((s) => s.number === only)) {
      throw notFound(`build ${current.number} of ${repo.slug} has no stage ${only}; its stages are ${current.stages.map((s) => s.number).join(', ') || 'none'}`);
    }
    const candidates = current.stages.map((s) => ({ ...s, dependsOn: JSON.parse(s.dependsOn) as string[] }));
    const chosen = stagesToRetry(candidates, current.cancelled, only);
    if (!chosen.size) throw conflict(`build ${current.number} has no failed, errored or cancelled stage to retry; retry one stage with ?stage=N, or restart the build`);
    const moved = await tx.build.updateMany({
      where: { id: current.id, version: current.version, status: current.status },
      data: { status: 'pending', error: '', finished: 0, cancelled: false, updatedAt: now, version: { increment: 1 } },
    });
    if (moved.count !== 1) throw conflict(`build ${current.number} changed while being retried (another retry or restart?); reload it and try again`);
    for (const stage of candidates.filter((s) => chosen.has(s.number))) {
      const steps: ArchivedStep[] = [...stage.steps]
        .sort((a, b) => a.number - b.number)
        .map(({ number, name, status, exitCode, error, started, stopped, logCut }) => ({ number, name, status, exitCode, error, started, stopped, logCut }));
      await tx.stageAttempt.create({
        data: { stageId: stage.id, attempt: stage.attempt, status: stage.status, error: stage.error, exitCode: stage.exitCode, machine: stage.machine, started: stage.started, stopped: stage.stopped, steps: JSON.stringify(steps) },
      });
      // A stage with dependencies waits for them even when they passed: whether it runs is the
      // same rule as in the first run (advanceBuild, pipeline/stage-readiness.ts).
      const { count } = await tx.stage.updateMany({
        where: { id: stage.id, version: stage.version, attempt: stage.attempt },
        data: {
          status: stage.dependsOn.length ? 'waiting_on_dependencies' : 'pending',
          attempt: { increment: 1 },
          error: '',
          exitCode: 0,
          machine: '',
          started: 0,
          stopped: 0,
          leaseUntil: 0,
          tokenHash: '',
          queuedAt: now,
          updatedAt: now,
          version: { increment: 1 },
        },
      });
      if (count !== 1) throw conflict(`stage ${stage.number} (${stage.name}) of build ${current.number} changed while being retried; reload the build and try again`);
      await tx.step.updateMany({
        where: { stageId: stage.id },
        data: { status: 'pending', exitCode: 0, error: '', started: 0, stopped: 0, logCut: false, version: { increment: 1 } },
      });
    }
    return { build: (await tx.build.findUnique({ where: { id: current.id } }))!, stages: [...chosen].sort((a, b) => a - b) };
  });
  ctx.logger.info({ event: 'build_retried', repo: repo.slug, build: build.number, stages: retried.stages }, 'build retried');
  await announceBuild(ctx, repo, retried.build);
  // Retried stages whose dependencies did not run again start (or are skipped) now.
  await advanceBuild(ctx, build.id);
  return retried.build;
}
