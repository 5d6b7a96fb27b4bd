// Cron jobs (Drone's paths and JSON; write permission on the repository for every one of
// them, reading included, as Drone's router asks with acl.CheckWriteAccess):
//   GET    /api/repos/{owner}/{name}/cron          [cron]
//   POST   /api/repos/{owner}/{name}/cron          {name, expr, branch?, disabled?} -> the job
//   GET    /api/repos/{owner}/{name}/cron/{cron}   the job
//   PATCH  /api/repos/{owner}/{name}/cron/{cron}   {expr?, branch?, disabled?} -> the job
//   DELETE /api/repos/{owner}/{name}/cron/{cron}   204
//   POST   /api/repos/{owner}/{name}/cron/{cron}   runs it now -> the build
// {cron} is the job's name. Every change wakes the schedulers of all servers (CRON_CHANNEL).
// Mount after authenticate(ctx).
import { Router } from 'express';
import { z } from 'zod';
import { repoAccess } from '../auth/repo-access.ts';
import type { ServerContext } from '../context.ts';
import { cronProblem } from '../cron/cron-expr.ts';
import { CronBranchGone, runCronJob } from '../cron/cron-run.ts';
import { CRON_CHANNEL, cronJson, nextFor, type CronRow } from '../cron/cron-store.ts';
import { conflict, HttpError, notFound } from '../http/errors.ts';
import type { RepoRow } from '../http/request.ts';
import { parseInput } from './body-validation.ts';
import { buildJson } from './serialize.ts';

const CRONS = '/api/repos/:owner/:name/cron';
const CRON = `${CRONS}/:cron`;

/** The name is a path segment and DRONE_CRON's value: nothing that needs escaping in either. */
const CRON_NAME = /^[A-Za-z0-9_.-]+$/;
const MAX_NAME = 100;
/** Git refuses branch names with these; a job naming one could never build. */
const BAD_BRANCH = /[\s~^:?*[\\]|\.\.|^[/.-]|[/.]$|\.lock$|@\{/;

const expr = z
  .string({ error: 'must be a string, e.g. "0 3 * * *" (03:00 UTC every day) or "@daily"' })
  .superRefine((value, issue) => {
    const problem = cronProblem(value);
    if (problem) issue.addIssue({ code: 'custom', message: problem });
  });

const branch = z
  .string({ error: 'must be a string: the branch to build, e.g. "main"' })
  .min(1, 'must not be empty; leave it out to build the default branch')
  .max(255, 'must be at most 255 characters')
  .refine((b) => !BAD_BRANCH.test(b), 'is not a branch name git allows (no spaces, "..", "~", "^", ":", "?", "*", "[", "\\", no leading "-" or "/")');

const disabled = z.boolean({ error: 'must be true or false' });

export const cronCreateSchema = z.object({
  name: z
    .string({ error: 'must be a string, e.g. "nightly"' })
    .min(1, 'must not be empty')
    .max(MAX_NAME, `must be at most ${MAX_NAME} characters`)
    .regex(CRON_NAME, 'may contain only letters, digits, "_", "." and "-", e.g. "nightly"'),
  expr,
  branch: branch.optional(),
  disabled: disabled.optional(),
});

/** What PATCH changes. A job keeps its name: it is the job's address and the builds' DRONE_CRON. */
export const cronPatchSchema = z.object({ expr: expr.optional(), branch: branch.optional(), disabled: disabled.optional() });

/** Why a run made no build, as an HTTP answer. */
function runRefused(error: unknown): HttpError | undefined {
  return error instanceof CronBranchGone ? notFound(error.message) : undefined;
}

export function cronRouter(ctx: ServerContext): Router {
  const router = Router();

  const findCron = async (repo: RepoRow, name: string): Promise<CronRow> => {
    const job = await ctx.db.cron.findUnique({ where: { repoId_name: { repoId: repo.id, name } } });
    if (!job) throw notFound(`${repo.slug} has no cron job named "${name}"`);
    return job;
  };

  const announce = () =>
    ctx.events.publish(CRON_CHANNEL, {}).catch((err) => ctx.logger.warn({ err }, 'could not tell the schedulers about a cron job change; they see it within a minute'));

  router.get(CRONS, repoAccess(ctx, 'write'), async (req, res) => {
    const jobs = await ctx.db.cron.findMany({ where: { repoId: req.repo!.id }, orderBy: { name: 'asc' } });
    res.json(jobs.map(cronJson));
  });

  router.get(CRON, repoAccess(ctx, 'write'), async (req, res) => {
    res.json(cronJson(await findCron(req.repo!, String(req.params.cron))));
  });

  router.post(CRONS, repoAccess(ctx, 'write'), async (req, res) => {
    const input = parseInput(cronCreateSchema, req.body);
    const repo = req.repo!;
    const now = ctx.now();
    const off = input.disabled ?? false;
    const taken = () => conflict(`${repo.slug} already has a cron job named "${input.name}"; change it with PATCH, or delete it first`);
    if (await ctx.db.cron.findUnique({ where: { repoId_name: { repoId: repo.id, name: input.name } }, select: { id: true } })) throw taken();
    const created = await ctx.db.cron
      .create({
        data: {
          repoId: repo.id,
          name: input.name,
          expr: input.expr.trim(),
          branch: input.branch ?? repo.defaultBranch,
          disabled: off,
          next: nextFor(input.expr, off, now),
          createdAt: now,
          updatedAt: now,
        },
      })
      .catch((err: unknown) => {
        if ((err as { code?: string }).code === 'P2002') throw taken();
        throw err;
      });
    ctx.logger.info({ event: 'cron_created', repo: repo.slug, cron: created.name, expr: created.expr, branch: created.branch, by: req.user?.login }, 'cron job created');
    await announce();
    res.json(cronJson(created));
  });

  router.patch(CRON, repoAccess(ctx, 'write'), async (req, res) => {
    const patch = parseInput(cronPatchSchema, req.body);
    const repo = req.repo!;
    const job = await findCron(repo, String(req.params.cron));
    const now = ctx.now();
    const exprNow = patch.expr?.trim() ?? job.expr;
    const off = patch.disabled ?? job.disabled;
    // A new schedule, or a job switched back on, counts from now; otherwise its next time (or a run in progress) stands.
    const reschedule = exprNow !== job.expr || off !== job.disabled;
    // Conditional on the version read: of two changes made at once, the second is refused rather than lost.
    const { count } = await ctx.db.cron.updateMany({
      where: { id: job.id, version: job.version },
      data: {
        expr: exprNow,
        branch: patch.branch ?? job.branch,
        disabled: off,
        ...(reschedule && { next: nextFor(exprNow, off, now) }),
        updatedAt: now,
        version: { increment: 1 },
      },
    });
    if (!count) throw conflict(`cron job "${job.name}" of ${repo.slug} was changed or deleted meanwhile; read it again and repeat the change`);
    const saved = await findCron(repo, job.name);
    ctx.logger.info({ event: 'cron_updated', repo: repo.slug, cron: saved.name, expr: saved.expr, branch: saved.branch, disabled: saved.disabled, by: req.user?.login }, 'cron job updated');
    await announce();
    res.json(cronJson(saved));
  });

  router.delete(CRON, repoAccess(ctx, 'write'), async (req, res) => {
    const repo = req.repo!;
    const job = await findCron(repo, String(req.params.cron));
    await ctx.db.cron.deleteMany({ where: { id: job.id } });
    ctx.logger.info({ event: 'cron_deleted', repo: repo.slug, cron: job.name, by: req.user?.login }, 'cron job deleted');
    res.status(204).end();
  });

  router.post(CRON, repoAccess(ctx, 'write'), async (req, res) => {
    const repo = req.repo!;
    const job = await findCron(repo, String(req.params.cron));
    const result = await runCronJob(ctx, repo, job).catch((err: unknown) => {
      throw runRefused(err) ?? err;
    });
    if (result.kind === 'ignored') throw conflict(`cron job "${job.name}" made no build: ${result.reason}`);
    ctx.logger.info({ event: 'cron_run', repo: repo.slug, cron: job.name, build: result.build.number, by: req.user?.login }, 'cron job run now');
    const created = await ctx.db.build.findUnique({ where: { id: result.build.id }, include: { stages: { include: { steps: true } } } });
    res.json(buildJson(created!));
  });

  return router;
}
