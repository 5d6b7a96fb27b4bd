// GET /metrics: Prometheus' text format. The figures say how busy the installation is
// and which label sets its repositories use, so they are not public: with
// HARRIER_METRICS_TOKEN set, a scraper sends it as `Authorization: Bearer <token>`;
// without it, only a local install (HARRIER_HOST on localhost) answers, for trying out.
// Mount before authenticate(ctx): the metrics token is not a user's token.
import { Router, type Request } from 'express';
import { sameSecret, sha256 } from '../auth/secrets.ts';
import type { ServerContext } from '../context.ts';
import { forbidden, unauthorized } from '../http/errors.ts';
import { queueFigures } from '../queue/queue-figures.ts';

const LOCAL_HOSTNAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

export function metricsRouter(ctx: ServerContext): Router {
  const router = Router();
  const local = LOCAL_HOSTNAMES.has(new URL(ctx.config.host).hostname);

  router.get('/metrics', async (req, res) => {
    checkAccess(req, ctx.config.metricsToken, local);
    const text = await ctx.metrics.exposition(await queueFigures(ctx));
    res.set('Content-Type', ctx.metrics.contentType).send(text);
  });

  return router;
}

function checkAccess(req: Request, token: string, local: boolean): void {
  if (!token) {
    if (local) return;
    throw forbidden(
      'set HARRIER_METRICS_TOKEN on the server and send it as Authorization: Bearer <token>; ' +
        'without a token, /metrics answers only when HARRIER_HOST is localhost, 127.0.0.1 or ::1',
    );
  }
  const sent = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '')?.[1];
  if (!sent) throw unauthorized("/metrics needs the server's HARRIER_METRICS_TOKEN as Authorization: Bearer <token>");
  // Digests first, so the comparison takes as long whatever the length of what was sent.
  if (!sameSecret(sha256(sent), sha256(token))) {
    throw unauthorized("the Bearer token is not the server's HARRIER_METRICS_TOKEN; send that value as Authorization: Bearer <token>");
  }
}
