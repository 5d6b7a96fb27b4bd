// A repository's webhook deliveries and what became of them, as GitHub's webhook page
// shows them (admin permission, as the repository's webhook settings; a delivery's body
// may hold what only the repository's admins see on the provider):
//   GET  /api/repos/{owner}/{name}/deliveries                  newest first; ?page, ?per_page (25, at most 100)
//   POST /api/repos/{owner}/{name}/deliveries/{id}/redeliver   stores a copy under a fresh guid, 202 with it
// Mount after authenticate(ctx).
import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import type { DeliveryJson, DeliveryStatus } from '../../core/domain.ts';
import type { ServerContext } from '../context.ts';
import { repoAccess } from '../auth/repo-access.ts';
import { listDeliveries, storeRedelivery, type DeliveryRow } from '../deliveries/delivery-store.ts';
import { notFound } from '../http/errors.ts';
import { parseInput } from './body-validation.ts';
import { DEFAULT_PER_PAGE, MAX_PER_PAGE } from './build-routes.ts';

const DELIVERIES = '/api/repos/:owner/:name/deliveries';

const positive = (what: string) =>
  z.coerce.number({ error: `must be a ${what}` }).int(`must be a whole ${what}`).min(1, `must be a ${what} of at least 1`);

const listQuery = z.object({
  page: positive('page number').default(1),
  per_page: positive('number').default(DEFAULT_PER_PAGE).transform((n) => Math.min(n, MAX_PER_PAGE)),
});

export function deliveryJson(ctx: ServerContext, d: DeliveryRow): DeliveryJson {
  return {
    id: d.id,
    guid: d.guid,
    event: d.event,
    action: actionOf(ctx, d),
    status: d.status as DeliveryStatus,
    reason: d.reason,
    build: d.buildNumber || null,
    attempts: d.attempts,
    created: d.createdAt,
    finished: d.finishedAt,
    redelivery_of: d.redeliveryOf || null,
  };
}

/** What the provider's webhook code reads as the delivery's action; rows from before deliveries were stored whole have no body. */
function actionOf(ctx: ServerContext, d: DeliveryRow): string {
  if (!d.body) return '';
  try {
    const parsed = ctx.providers.get(d.provider as never).webhook.parse(JSON.parse(d.headers) as Record<string, string>, Buffer.from(d.body, 'utf8'));
    return parsed.kind === 'hook' ? parsed.hook.action : '';
  } catch {
    return '';
  }
}

export function deliveryRouter(ctx: ServerContext): Router {
  const router = Router();

  router.get(DELIVERIES, repoAccess(ctx, 'admin'), async (req, res) => {
    const q = parseInput(listQuery, req.query, 'query');
    const rows = await listDeliveries(ctx, req.repo!.id, q.page, q.per_page);
    res.json(rows.map((d) => deliveryJson(ctx, d)));
  });

  router.post(`${DELIVERIES}/:id/redeliver`, repoAccess(ctx, 'admin'), async (req, res) => {
    const { id } = parseInput(z.object({ id: positive('delivery id') }), { id: req.params.id }, 'path');
    const repo = req.repo!;
    const of = await ctx.db.delivery.findFirst({ where: { id, repoId: repo.id } });
    if (!of) throw notFound(`delivery ${id} not found in ${repo.slug}; GET /api/repos/${repo.slug}/deliveries lists them`);
    // Rows from before deliveries were stored whole kept only their ids, for dedupe.
    if (!of.body) throw notFound(`delivery ${id} of ${repo.slug} was received before Harrier stored delivery bodies, so it cannot be sent again; push again instead`);
    const copy = await storeRedelivery(ctx, of, `redelivery-${randomUUID()}`);
    ctx.logger.info({ event: 'delivery_redelivered', repo: repo.slug, delivery: copy.id, of: of.id, by: req.user?.login }, 'delivery sent again');
    ctx.deliveries.stored();
    res.status(202).json(deliveryJson(ctx, copy));
  });

  return router;
}
