// The runners page (a Harrier addition; signed-in users):
//   GET /api/runners   every runner the server has heard from, sorted by name, with what it runs
// Stages of repositories the caller cannot read are left out of `running`, so the page
// does not leak private repository names.
// Runner tokens, in place of the shared HARRIER_RPC_SECRET (administrators only):
//   GET    /api/runners/tokens        every token issued, newest first, revoked ones too
//   POST   /api/runners/tokens        {runner} -> 201 RunnerTokenIssuedJson: the token, shown this once
//   DELETE /api/runners/tokens/{id}   revokes it: refused (401) from the runner's next call on
// Mount after authenticate(ctx).
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { RunnerJson, RunnerTokenJson, RunningStageJson, Status } from '../../core/domain.ts';
import { requireUser } from '../auth/authenticate.ts';
import { providerPermsKnown } from '../auth/scm-token.ts';
import type { ServerContext } from '../context.ts';
import { forbidden, notFound } from '../http/errors.ts';
import type { UserRow } from '../http/request.ts';
import { knownRunners, type KnownRunner } from '../runners/known-runners.ts';
import { issueRunnerToken, listRunnerTokens, revokeRunnerToken, type RunnerTokenRow } from '../runners/runner-tokens.ts';
import { parseInput } from './body-validation.ts';

const issueSchema = z.object({
  runner: z
    .string({ message: 'name the runner the token is for, as its HARRIER_RUNNER_NAME: {"runner": "build-1"}' })
    .regex(/^[!-~]{1,255}$/, 'a runner name (its HARRIER_RUNNER_NAME): 1 to 255 printable ASCII characters, no spaces'),
});

const requireAdmin: RequestHandler = (req, _res, next) => {
  next(req.user!.admin ? undefined : forbidden(`${req.user!.login} is not an administrator of Harrier; runner tokens are for administrators`));
};

export function runnerRouter(ctx: ServerContext): Router {
  const router = Router();

  router.get('/api/runners', requireUser, async (req, res) => {
    const runners = await knownRunners(ctx);
    const stages = await visibleStages(ctx, req.user!, runners.flatMap((r) => r.running));
    res.json(runners.map((r) => runnerJson(r, stages)));
  });

  router.get('/api/runners/tokens', requireUser, requireAdmin, async (_req, res) => {
    res.json((await listRunnerTokens(ctx)).map(tokenJson));
  });

  router.post('/api/runners/tokens', requireUser, requireAdmin, async (req, res) => {
    const { runner } = parseInput(issueSchema, req.body);
    const { token, row } = await issueRunnerToken(ctx, runner, req.user!.login);
    ctx.logger.info({ event: 'runner_token_issued', runner, id: row.id, by: req.user!.login }, `runner token issued for ${runner}`);
    res.status(201).json({ ...tokenJson(row), token });
  });

  router.delete('/api/runners/tokens/:id', requireUser, requireAdmin, async (req, res) => {
    const row = await revokeRunnerToken(ctx, String(req.params.id));
    if (!row) throw notFound(`no runner token has the id ${req.params.id}; GET /api/runners/tokens lists them`);
    ctx.logger.info({ event: 'runner_token_revoked', runner: row.runner, id: row.id, by: req.user!.login }, `runner token of ${row.runner} revoked`);
    res.json(tokenJson(row));
  });

  return router;
}

function tokenJson(row: RunnerTokenRow): RunnerTokenJson {
  return { id: row.id, runner: row.runner, created_by: row.createdBy, created: row.createdAt, last_used: row.lastUsed, revoked: row.revokedAt };
}

function runnerJson(r: KnownRunner, stages: Map<number, RunningStageJson>): RunnerJson {
  return {
    name: r.name,
    labels: r.labels,
    capacity: r.capacity,
    os: r.os,
    arch: r.arch,
    version: r.version,
    last_contact: r.lastSeen,
    online: r.online,
    sick: r.sick ?? '',
    stopping: r.stopping ?? false,
    running: r.running.flatMap((id) => stages.get(id) ?? []),
  };
}

/**
 * The stages with these ids whose repositories the user may read: public ones, ones the provider
 * granted, or all for Harrier's administrator. After the provider refused the user's token the
 * stored grants may be revoked ones, so only public repositories' stages are shown, as to anyone.
 */
async function visibleStages(ctx: ServerContext, user: UserRow, ids: number[]): Promise<Map<number, RunningStageJson>> {
  if (ids.length === 0) return new Map();
  const stages = await ctx.db.stage.findMany({
    where: { id: { in: [...new Set(ids)] } },
    select: { id: true, name: true, status: true, repoId: true, build: { select: { number: true, repo: { select: { slug: true, visibility: true } } } } },
  });
  const granted = providerPermsKnown(user)
    ? await ctx.db.perm.findMany({ where: { userId: user.id, read: true, repoId: { in: stages.map((s) => s.repoId) } }, select: { repoId: true } })
    : [];
  const readable = new Set(granted.map((p) => p.repoId));
  const visible = stages.filter((s) => user.admin || s.build.repo.visibility === 'public' || readable.has(s.repoId));
  return new Map(
    visible.map((s) => [s.id, { stage_id: s.id, stage: s.name, build: s.build.number, repo: s.build.repo.slug, status: s.status as Status }]),
  );
}
