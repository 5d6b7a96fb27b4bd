// The server's HTTP surface, assembled in the order requests flow through it.
import path from 'node:path';
import express from 'express';
import { RPC_PREFIX } from '../core/protocol.ts';
import { adminUserRouter } from './api/admin-user-routes.ts';
import { badgeRouter } from './api/badge-routes.ts';
import { buildActionRouter } from './api/build-action-routes.ts';
import { buildRouter } from './api/build-routes.ts';
import { buildStreamRouter } from './api/build-stream-routes.ts';
import { cronRouter } from './api/cron-routes.ts';
import { deliveryRouter } from './api/delivery-routes.ts';
import { languageRouter } from './api/language-routes.ts';
import { queueRouter } from './api/queue-routes.ts';
import { repoRouter } from './api/repo-routes.ts';
import { runnerRouter } from './api/runner-routes.ts';
import { orgSecretRouter } from './api/org-secret-routes.ts';
import { secretRouter } from './api/secret-routes.ts';
import { systemRouter } from './api/system-routes.ts';
import { userRouter } from './api/user-routes.ts';
import { authenticate } from './auth/authenticate.ts';
import { loginRouter } from './auth/login-routes.ts';
import type { ServerContext } from './context.ts';
import { packageRoot } from './db/flavour.ts';
import { errorHandler, notFoundHandler } from './http/errors.ts';
import { securityHeaders } from './http/security-headers.ts';
import { webUiRouter } from './http/web-ui.ts';
import { logStreamRouter } from './logs/log-stream-routes.ts';
import { metricsRouter } from './metrics/metrics-routes.ts';
import { rpcAuth } from './rpc/rpc-auth.ts';
import { rpcRouter } from './rpc/rpc-routes.ts';
import { webhookRouter } from './webhook/webhook-route.ts';

/** Webhook bodies are limited to 10 MB (GitHub's own cap is 25 MB, but a push that large is no build). */
export const HOOK_BODY_LIMIT = '10mb';
/** RPC bodies from authenticated runners: a log batch may carry many lines. */
export const RPC_BODY_LIMIT = '20mb';

export function createApp(ctx: ServerContext, shutdown: AbortSignal): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(securityHeaders(ctx.providers));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // The webhook is verified over its raw bytes, so it gets the body unparsed.
  app.use('/hook', express.raw({ type: () => true, limit: HOOK_BODY_LIMIT }), webhookRouter(ctx));
  // Runner credentials first: a body is read (up to 20 MB, for log batches) only once the caller is a runner.
  app.use(RPC_PREFIX, rpcAuth(ctx), express.json({ limit: RPC_BODY_LIMIT }), rpcRouter(ctx, shutdown));
  // Scrapers authenticate with HARRIER_METRICS_TOKEN, not as a user.
  app.use(metricsRouter(ctx));

  app.use(loginRouter(ctx));
  app.use('/api', express.json({ limit: '1mb' }), authenticate(ctx));
  app.use(userRouter(ctx));
  app.use(adminUserRouter(ctx));
  app.use(repoRouter(ctx));
  app.use(languageRouter(ctx));
  app.use(badgeRouter(ctx));
  app.use(runnerRouter(ctx));
  app.use(queueRouter(ctx));
  app.use(systemRouter(ctx));
  app.use(buildStreamRouter(ctx, shutdown));
  app.use(secretRouter(ctx));
  app.use(cronRouter(ctx));
  app.use(orgSecretRouter(ctx));
  app.use(deliveryRouter(ctx));
  app.use(logStreamRouter(ctx, shutdown));
  app.use(buildRouter(ctx));
  app.use(buildActionRouter(ctx));
  app.use('/api', notFoundHandler);

  app.use(webUiRouter(path.join(packageRoot(), 'web/dist')));
  app.use(notFoundHandler);
  app.use(errorHandler(ctx.logger));
  return app;
}
