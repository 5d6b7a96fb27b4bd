// Where work waits, for people and autoscalers (a Harrier addition; Harrier's administrators):
//   GET /api/queue   {"label_sets": [{os, arch, labels, waiting, running, oldest_waiting_seconds, runners}],
//                     "runners": {connected, busy, capacity}}
// `runners` of a label set counts the online runners, neither sick nor stopping, that may
// take its stages: a set with work waiting and 0 runners needs a runner with those labels.
// The figures are those of the harrier_stages_* gauges on /metrics (server/queue/queue-figures.ts).
// Mount after authenticate(ctx).
import { Router, type RequestHandler } from 'express';
import type { QueueJson } from '../../core/domain.ts';
import type { ServerContext } from '../context.ts';
import { forbidden, unauthorized } from '../http/errors.ts';
import { queueFigures } from '../queue/queue-figures.ts';

export type { QueueJson };

const requireAdmin: RequestHandler = (req, _res, next) => {
  if (!req.user) return next(unauthorized());
  next(req.user.admin ? undefined : forbidden(`${req.user.login} is not an administrator of Harrier; GET /api/queue is for administrators`));
};

export function queueRouter(ctx: ServerContext): Router {
  const router = Router();

  router.get('/api/queue', requireAdmin, async (_req, res) => {
    const figures = await queueFigures(ctx);
    const body: QueueJson = {
      label_sets: figures.labelSets.map((set) => ({
        os: set.os,
        arch: set.arch,
        labels: set.labels,
        waiting: set.waiting,
        running: set.running,
        oldest_waiting_seconds: set.oldestWaitingSeconds,
        runners: set.runners,
      })),
      runners: figures.runners,
    };
    res.json(body);
  });

  return router;
}
