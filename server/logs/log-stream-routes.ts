// Live logs as Server-Sent Events, at Drone's stream path and at the logs path
// itself for clients that ask for text/event-stream (EventSource does):
//   GET /api/stream/{owner}/{name}/{number}/{stage}/{step}
//   GET /api/repos/{owner}/{name}/builds/{number}/logs/{stage}/{step}   with Accept: text/event-stream
import { Router, type Request } from 'express';
import { repoAccess } from '../auth/repo-access.ts';
import { findStep } from '../api/find-step.ts';
import type { ServerContext } from '../context.ts';
import { notFound } from '../http/errors.ts';
import { streamStepLog } from './log-stream.ts';

function numberParam(req: Request, name: string): number {
  const value = Number(req.params[name]);
  if (!Number.isInteger(value) || value < 1) throw notFound(`${name} "${req.params[name]}" is not a number`);
  return value;
}

export function wantsEventStream(req: Request): boolean {
  return (req.get('accept') ?? '').includes('text/event-stream');
}

export function logStreamRouter(ctx: ServerContext, shutdown: AbortSignal): Router {
  const router = Router();
  const stream = async (req: Request, res: import('express').Response) => {
    const step = await findStep(ctx, req.repo!, numberParam(req, 'number'), numberParam(req, 'stage'), numberParam(req, 'step'));
    const onShutdown = () => res.end();
    shutdown.addEventListener('abort', onShutdown, { once: true });
    res.on('close', () => shutdown.removeEventListener('abort', onShutdown));
    await streamStepLog(ctx, req, res, step.id, step.stageAttempt);
  };
  router.get('/api/stream/:owner/:name/:number/:stage/:step', repoAccess(ctx, 'read'), stream);
  router.get(
    '/api/repos/:owner/:name/builds/:number/logs/:stage/:step',
    (req, _res, next) => next(wantsEventStream(req) ? undefined : 'route'),
    repoAccess(ctx, 'read'),
    stream,
  );
  return router;
}
