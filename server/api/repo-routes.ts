// One repository (Drone's paths):
//   GET    /api/repos/{owner}/{name}   the repository with the caller's permissions (read), and its webhook for admins
//   POST   /api/repos/{owner}/{name}   activate: webhook on the provider, repository active (admin)
//   PATCH  /api/repos/{owner}/{name}   settings (admin; "trusted" needs a Harrier administrator, as in Drone)
//   DELETE /api/repos/{owner}/{name}   deactivate: webhook removed, repository inactive (admin)
// Mount after authenticate(ctx).
import { Router } from 'express';
import { z } from 'zod';
import type { Permission } from '../../core/domain.ts';
import type { ServerContext } from '../context.ts';
import { repoAccess } from '../auth/repo-access.ts';
import { scmTokenFor } from '../auth/scm-token.ts';
import { sealHookSecret } from '../secrets/stored-credentials.ts';
import { randomSecret } from '../auth/secrets.ts';
import { forbidden, HttpError } from '../http/errors.ts';
import { detectLanguageOnActivation } from '../language/language-settings.ts';
import type { RepoRow } from '../http/request.ts';
import { ScmError } from '../providers/scm.ts';
import { parseInput } from './body-validation.ts';
import { repoJson as serializeRepo } from './serialize.ts';

const REPO = '/api/repos/:owner/:name';

export const DEFAULT_CONFIG_PATH = '.drone.yml';

/** What PATCH accepts. Other fields Drone's clients send (counter, throttle, cancel_*) are ignored. */
export const repoPatchSchema = z.object({
  config_path: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(255, 'must be at most 255 characters')
    .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'must be a path inside the repository, e.g. .drone.yml')
    .optional(),
  trusted: z.boolean().optional(),
  protected: z.boolean().optional(),
  timeout: z
    .number({ error: 'must be a number of minutes' })
    .int('must be a whole number of minutes')
    .min(1, 'must be between 1 and 1440 minutes')
    .max(1440, 'must be between 1 and 1440 minutes')
    .optional(),
  visibility: z.enum(['public', 'private', 'internal'], { error: 'must be public, private or internal' }).optional(),
  ignore_forks: z.boolean().optional(),
  ignore_pull_requests: z.boolean().optional(),
});

export function repoRouter(ctx: ServerContext): Router {
  const router = Router();
  // Every answer here is about one repository, so admins also see its webhook.
  const repoJson = (row: RepoRow, perm?: Permission) => serializeRepo(row, perm, ctx.config.host);

  router.get(REPO, repoAccess(ctx, 'read'), (req, res) => {
    res.json(repoJson(req.repo!, req.perm));
  });

  router.post(REPO, repoAccess(ctx, 'admin'), async (req, res) => {
    const repo = req.repo!;
    if (repo.active) return res.json(repoJson(repo, req.perm));
    const user = req.user!;
    const token = await scmTokenFor(ctx, user);
    const scm = ctx.providers.get(repo.provider);
    const secret = randomSecret();
    let hookId: string;
    try {
      hookId = await scm.createHook(token, repo.slug, `${ctx.config.host}/hook`, secret);
    } catch (err) {
      throw providerRefused(ctx, err, repo, 'create the webhook for');
    }
    const now = ctx.now();
    // Only an inactive row is activated: a concurrent activation that won keeps its hook, ours is removed.
    const { count } = await ctx.db.repo
      .updateMany({
        where: { id: repo.id, active: false },
        data: {
          active: true,
          hookId,
          hookSecret: sealHookSecret(ctx.config, repo.id, secret),
          userId: user.id,
          configPath: repo.configPath || DEFAULT_CONFIG_PATH,
          updatedAt: now,
          version: { increment: 1 },
        },
      })
      .catch(async (err) => {
        await removeHook(ctx, token, repo, hookId);
        throw err;
      });
    if (count === 0) await removeHook(ctx, token, repo, hookId);
    else await detectLanguageOnActivation(ctx, repo, token);
    const saved = await ctx.db.repo.findUniqueOrThrow({ where: { id: repo.id } });
    res.json(repoJson(saved, req.perm));
  });

  router.patch(REPO, repoAccess(ctx, 'admin'), async (req, res) => {
    const patch = parseInput(repoPatchSchema, req.body);
    const repo = req.repo!;
    if (patch.trusted !== undefined && patch.trusted !== repo.trusted && !req.user!.admin) {
      throw forbidden(
        'only a Harrier administrator may change "trusted": trusted pipelines can run privileged containers and mount host paths on the runners',
      );
    }
    const saved = await ctx.db.repo.update({
      where: { id: repo.id },
      data: {
        ...(patch.config_path !== undefined && { configPath: patch.config_path }),
        ...(patch.trusted !== undefined && { trusted: patch.trusted }),
        ...(patch.protected !== undefined && { protected: patch.protected }),
        ...(patch.timeout !== undefined && { timeout: patch.timeout }),
        ...(patch.visibility !== undefined && { visibility: patch.visibility }),
        ...(patch.ignore_forks !== undefined && { ignoreForks: patch.ignore_forks }),
        ...(patch.ignore_pull_requests !== undefined && { ignorePullRequests: patch.ignore_pull_requests }),
        updatedAt: ctx.now(),
        version: { increment: 1 },
      },
    });
    res.json(repoJson(saved, req.perm));
  });

  router.delete(REPO, repoAccess(ctx, 'admin'), async (req, res) => {
    const repo = req.repo!;
    if (!repo.active && !repo.hookId) return res.json(repoJson(repo, req.perm));
    if (repo.hookId) {
      const token = await scmTokenFor(ctx, req.user!);
      try {
        await ctx.providers.get(repo.provider).deleteHook(token, repo.slug, repo.hookId);
      } catch (err) {
        throw providerRefused(ctx, err, repo, 'delete the webhook of');
      }
    }
    const saved = await ctx.db.repo.update({
      where: { id: repo.id },
      data: { active: false, hookId: '', hookSecret: '', updatedAt: ctx.now(), version: { increment: 1 } },
    });
    res.json(repoJson(saved, req.perm));
  });

  return router;
}

/**
 * A provider's refusal, as an answer that says it was the provider and why:
 * its validation errors stay 422, its permission errors become 403 (a 401 from
 * the provider is about the provider token, not the Harrier session), and an
 * unreachable or failing provider is 502.
 */
function providerRefused(ctx: ServerContext, err: unknown, repo: RepoRow, what: string): unknown {
  if (!(err instanceof ScmError)) return err;
  const name = ctx.providers.nameOf(repo.provider);
  const status =
    err.status === 401 || err.status === 403 || err.status === 404
      ? 403
      : err.status === 400 || err.status === 409 || err.status === 422
        ? 422
        : err.status === 429
          ? 429
          : 502;
  const hint =
    status === 403
      ? `; check that you are an admin of ${repo.slug} on ${name} and that Harrier's OAuth app is allowed in its organisation or workspace`
      : status === 502
        ? `; try again when ${name} answers`
        : '';
  return new HttpError(status, `${name} refused to ${what} ${repo.slug}: ${err.message}${hint}`);
}

/** Best effort: a hook left behind is harmless (its deliveries fail the signature check) but untidy. */
async function removeHook(ctx: ServerContext, token: string, repo: RepoRow, hookId: string): Promise<void> {
  try {
    await ctx.providers.get(repo.provider).deleteHook(token, repo.slug, hookId);
  } catch (err) {
    ctx.logger.warn({ err, repo: repo.slug, hookId }, 'could not remove a webhook created for a failed activation');
  }
}
