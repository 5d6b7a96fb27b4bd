// POST /hook: every registered provider's deliveries, told apart by their headers.
// Answers 400 for a body that is not a delivery, 401 for a missing or bad signature (an
// unsigned delivery is never accepted; see each provider's signature.ts), 413 (from
// the body parser) for more than 10 MB, and 200 for everything it accepted, built or
// deliberately ignored (a replayed body under a fresh delivery id is ignored as a duplicate).
// Every verified delivery also brings the repository's privacy up to date.
import { Router } from 'express';
import type { ServerContext } from '../context.ts';
import { HttpError } from '../http/errors.ts';
import { HookError, sha256Hex } from '../providers/hook-delivery.ts';
import { deliverySignatureProblem } from '../providers/verify-signature.ts';
import { buildJson } from '../api/serialize.ts';
import { hookSecretOf } from '../secrets/stored-credentials.ts';
import { DuplicateDeliveryError, trigger } from '../trigger/trigger.ts';
import { applyDeliveredPrivacy } from '../trigger/repo-privacy.ts';

export function webhookRouter(ctx: ServerContext): Router {
  const router = Router();
  router.post('/', async (req, res) => {
    const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    try {
      const provider = ctx.providers.forDelivery(req.headers);
      const log = ctx.logger.child({ delivery: provider.webhook.deliveryId(req.headers, body) });
      const identity = provider.webhook.identify(req.headers, body);
      const ignored = (reason: string) => {
        log.info({ event: 'hook_ignored', provider: identity.provider, hook: identity.event, reason }, 'webhook ignored');
        ctx.metrics.delivery('ignored');
        res.json({ message: reason });
      };
      if (!identity.repo) return ignored('the delivery names no repository');
      const found =
        (identity.repo.uid && (await ctx.db.repo.findUnique({ where: { provider_uid: { provider: identity.provider, uid: identity.repo.uid } } }))) ||
        (await ctx.db.repo.findUnique({ where: { provider_slug: { provider: identity.provider, slug: identity.repo.slug } } }));
      if (!found || !found.active) return ignored(`repository ${identity.repo.slug} is not active in Harrier`);
      const secret = hookSecretOf(ctx.config, found);
      const problem = await deliverySignatureProblem(provider.webhook, req.headers, body, secret, found.slug);
      if (problem) throw new HttpError(401, problem);
      const repo = await applyDeliveredPrivacy(ctx, found, identity.repo.privacy);
      const parsed = provider.webhook.parse(req.headers, body);
      if (parsed.kind === 'ignored') return ignored(parsed.reason);
      // Look the repository up by what the verified payload says, in case uid was missing before.
      const hook = { ...parsed.hook, repo: { ...parsed.hook.repo, uid: repo.uid } };
      const result = await trigger(ctx, hook, { requireNewHead: parsed.requireNewHead, bodyHash: sha256Hex(body) });
      if (result.kind === 'ignored') return ignored(result.reason);
      ctx.metrics.delivery('build');
      res.json(buildJson(result.build));
    } catch (error) {
      if (error instanceof DuplicateDeliveryError) {
        ctx.metrics.delivery('ignored');
        res.json({ message: error.message });
        return;
      }
      const status = error instanceof HookError || error instanceof HttpError ? error.status : 500;
      ctx.metrics.delivery(status < 500 ? 'refused' : 'failed');
      if (error instanceof HookError) throw new HttpError(error.status, error.message);
      throw error;
    }
  });
  return router;
}
