// What the sign-in page needs before anyone signs in (a Harrier addition; no sign-in):
//   GET /api/system   {"version", "host", "providers": {"github": bool, "bitbucket": bool}}
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
      providers: { github: ctx.scms.github.configured, bitbucket: ctx.scms.bitbucket.configured },
    };
    res.json(body);
  });

  return router;
}
