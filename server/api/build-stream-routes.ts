// A repository's builds, live, for the build list and the build page (a Harrier addition):
//   GET /api/stream/{owner}/{name}   Server-Sent Events; read permission
// Each change of any build of the repository (created, a stage or step moved,
// finished, cancelled) sends `data: <the build's JSON, without stages>`; a client
// wanting the stages fetches the build. Comments keep proxies from closing an idle
// stream. The stream ends when the client leaves or the server stops; EventSource
// reconnects by itself and should then reload the list, since changes in between are not replayed.
// Drone's log stream, /api/stream/{owner}/{name}/{number}/{stage}/{step}, is server/logs/log-stream-routes.ts.
// Mount after authenticate(ctx).
import { Router } from 'express';
import { stillAuthenticated } from '../auth/authenticate.ts';
import { repoAccess } from '../auth/repo-access.ts';
import type { ServerContext } from '../context.ts';
import { channels } from '../events/event-bus.ts';
import { HEARTBEAT_MS, keepAlive, startEventStream } from '../http/event-stream.ts';
import { buildJson } from './serialize.ts';

interface BuildMessage {
  build?: number;
}

export function buildStreamRouter(ctx: ServerContext, shutdown: AbortSignal, heartbeatMs = HEARTBEAT_MS): Router {
  const router = Router();

  router.get('/api/stream/:owner/:name', repoAccess(ctx, 'read'), async (req, res) => {
    const repo = req.repo!;
    let closed = false;
    let unsubscribe = () => {};
    let stopHeartbeat = () => {};
    const close = () => {
      if (closed) return;
      closed = true;
      stopHeartbeat();
      unsubscribe();
      shutdown.removeEventListener('abort', close);
      res.end();
    };
    res.on('close', close);
    if (shutdown.aborted) return close();
    shutdown.addEventListener('abort', close, { once: true });

    // One message at a time, in order, so a build's changes arrive as they happened.
    let chain = Promise.resolve();
    const send = (message: BuildMessage) => {
      if (typeof message.build !== 'number') return;
      const id = message.build;
      chain = chain
        .then(async () => {
          if (closed) return;
          const build = await ctx.db.build.findUnique({ where: { id } });
          if (!build || build.repoId !== repo.id || closed) return;
          res.write(`data: ${JSON.stringify(buildJson(build))}\n\n`);
        })
        .catch((err) => ctx.logger.warn({ err, repo: repo.slug, build: id }, 'build stream could not send a build'));
    };

    // Subscribed before the answer starts, so a client that sees the stream open misses no change after it.
    const stop = await ctx.events.subscribe(channels.repoBuilds(repo.id), (m) => send(m as BuildMessage));
    if (closed) return stop();
    unsubscribe = stop;
    startEventStream(res);
    stopHeartbeat = keepAlive(res, heartbeatMs, stillAuthenticated(ctx, req));
  });

  return router;
}
