// POST /hook: every registered provider's deliveries, told apart by their headers.
// Answers 400 for a body that is not a delivery, 401 for a missing or bad signature (an
// unsigned delivery is never accepted; see each provider's signature.ts), 413 (from
// the body parser) for more than 10 MB, and 200 {message} for a delivery about no
// repository, or one Harrier does not build.
//
// A verified delivery is stored in one INSERT and answered at once, before any provider
// call: 202 {id, status: "pending"}; workers (deliveries/delivery-workers.ts) build it.
// Deliveries arriving together share the repository query and the INSERT.
// A delivery id already stored (the provider's own retry) answers 200 with the earlier
// delivery's id and stores nothing; a replayed body under a fresh delivery id is stored
// as ignored, with why, and answered 200 {id, status: "ignored", message}, as is an event
// Harrier does not build (a ping, a deleted branch).
// Every verified delivery also brings the repository's privacy up to date (a write only
// when the provider says it changed).
import { Router } from 'express';
import type { ServerContext } from '../context.ts';
import { batched } from '../db/batched.ts';
import { keptHeaders, type NewDelivery, type Stored, storeDeliveries } from '../deliveries/delivery-store.ts';
import { HttpError } from '../http/errors.ts';
import { decodeBody, HookError, sha256Hex } from '../providers/hook-delivery.ts';
import { deliverySignatureProblem } from '../providers/verify-signature.ts';
import { hookSecretOf } from '../secrets/stored-credentials.ts';
import { applyDeliveredPrivacy } from '../trigger/repo-privacy.ts';
import { type HookRepoKey, hookRepos } from './hook-repos.ts';

export function webhookRouter(ctx: ServerContext): Router {
  const router = Router();
  // Deliveries that arrive together are looked up in one query and stored in one INSERT (db/batched.ts).
  const findRepo = batched((keys: HookRepoKey[]) => hookRepos(ctx.db, keys));
  const store = batched<NewDelivery, Stored>((ds) => storeDeliveries(ctx, ds));
  router.post('/', async (req, res) => {
    const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    try {
      const provider = ctx.providers.forDelivery(req.headers);
      const identity = provider.webhook.identify(req.headers, body);
      const ignored = (reason: string) => {
        ctx.logger.info({ event: 'hook_ignored', provider: identity.provider, delivery: identity.deliveryId, hook: identity.event, reason }, 'webhook ignored');
        ctx.metrics.delivery('ignored');
        res.json({ message: reason });
      };
      if (!identity.repo) return ignored('the delivery names no repository');
      const found = await findRepo({ provider: identity.provider, uid: identity.repo.uid ?? '', slug: identity.repo.slug });
      if (!found || !found.active) return ignored(`repository ${identity.repo.slug} is not active in Harrier`);
      const secret = hookSecretOf(ctx.config, found);
      const problem = await deliverySignatureProblem(provider.webhook, req.headers, body, secret, found.slug);
      if (problem) throw new HttpError(401, problem);
      // Compared in memory; written only when the provider says the privacy changed.
      await applyDeliveredPrivacy(ctx, found, identity.repo.privacy);
      // Parsed here too, so a malformed payload is still answered 400 and an event Harrier
      // does not build is recorded as ignored without waking a worker.
      const parsed = provider.webhook.parse(req.headers, body);
      const stored = await store({
        provider: identity.provider,
        guid: identity.deliveryId,
        bodyHash: sha256Hex(body),
        repoId: found.id,
        event: identity.event,
        headers: keptHeaders(req.headers),
        // identify() has decoded the body as strict UTF-8 (and keeps the text), so this keeps every byte.
        body: decodeBody(body, provider.name),
        ignored: parsed.kind === 'ignored' ? parsed.reason : '',
      });
      if (stored.kind === 'seen') {
        res.json({ id: stored.id, status: stored.status, message: `delivery ${identity.deliveryId} was already received as delivery ${stored.id}; it is handled once` });
        return;
      }
      if (stored.status === 'ignored') {
        ctx.metrics.delivery('ignored');
        res.json({ id: stored.id, status: stored.status, message: stored.reason });
        return;
      }
      ctx.deliveries.stored();
      res.status(202).json({ id: stored.id, status: stored.status });
    } catch (error) {
      const status = error instanceof HookError || error instanceof HttpError ? error.status : 500;
      ctx.metrics.delivery(status < 500 ? 'refused' : 'failed');
      if (error instanceof HookError) throw new HttpError(error.status, error.message);
      throw error;
    }
  });
  return router;
}
