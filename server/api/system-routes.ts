// What the sign-in page needs before anyone signs in (a Harrier addition; no sign-in):
//   GET /api/system   {"version", "host", "providers": {"<provider id>": bool, …}}
// A provider is offered for sign-in when its OAuth client id and secret are configured.
// Mount after authenticate(ctx).
import { Router } from 'express';
import type { Provider, SystemJson } from '../../core/domain.ts';
import { HARRIER_VERSION } from '../../core/version.ts';
import type { ServerContext } from '../context.ts';

export function systemRouter(ctx: ServerContext): Router {
  const router = Router();

  router.get('/api/system', (_req, res) => {
    const body: SystemJson = {
      version: HARRIER_VERSION,
      host: ctx.config.host,
      providers: Object.fromEntries(ctx.providers.list().map((p) => [p.provider, p.configured])) as Record<Provider, boolean>,
    };
    res.json(body);
  });

  return router;
}
