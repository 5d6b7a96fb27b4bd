// Finds a step by the numbers in an API path: build number, stage number, step number,
// with its stage's current attempt (whose log is the step's current log).
import type { ServerContext } from '../context.ts';
import type { Repo as RepoRow, Step as StepRow } from '../db/generated/sqlite/client.ts';
import { notFound } from '../http/errors.ts';

export async function findStep(
  ctx: Pick<ServerContext, 'db'>,
  repo: Pick<RepoRow, 'id' | 'slug'>,
  number: number,
  stageNumber: number,
  stepNumber: number,
): Promise<StepRow & { stageAttempt: number }> {
  const build = await ctx.db.build.findUnique({ where: { repoId_number: { repoId: repo.id, number } }, select: { id: true } });
  if (!build) throw notFound(`${repo.slug} has no build ${number}`);
  const stage = await ctx.db.stage.findUnique({ where: { buildId_number: { buildId: build.id, number: stageNumber } }, select: { id: true, name: true, attempt: true } });
  if (!stage) throw notFound(`build ${number} of ${repo.slug} has no stage ${stageNumber}`);
  const step = await ctx.db.step.findUnique({ where: { stageId_number: { stageId: stage.id, number: stepNumber } } });
  if (!step) throw notFound(`stage ${stageNumber} (${stage.name}) of build ${number} of ${repo.slug} has no step ${stepNumber}`);
  return { ...step, stageAttempt: stage.attempt };
}
