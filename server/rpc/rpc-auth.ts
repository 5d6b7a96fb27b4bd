// Runners authenticate with a Bearer: the server's shared secret (HARRIER_RPC_SECRET), or a
// runner token an administrator issued (server/runners/runner-tokens.ts), which speaks for
// one runner name only. This runs before any body is read: a stranger's 20 MB is never
// parsed, and the connection is closed rather than drained.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import { RUNNER_HEADER } from '../../core/protocol.ts';
import type { ServerContext } from '../context.ts';
import { forbidden, HttpError } from '../http/errors.ts';
import { runnerOfToken } from '../runners/runner-tokens.ts';

/** How the call was authenticated: the shared secret speaks for any runner, a runner token for its own. */
export type RpcCredential = { via: 'secret' } | { via: 'runner-token'; runner: string };

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

export function rpcAuth(ctx: ServerContext): RequestHandler {
  const secret = ctx.config.rpcSecret;
  const expected = secret ? digest(secret) : undefined;
  return (req, res, next) => {
    const refuse = (message: string) => {
      // The body was not read; closing the connection saves reading it to keep the connection alive.
      if (req.headers['content-length'] !== '0' && (req.headers['content-length'] || req.headers['transfer-encoding'])) res.set('connection', 'close');
      next(new HttpError(401, message));
    };
    const header = req.get('authorization') ?? '';
    const bearer = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    if (!bearer) {
      refuse('missing runner credentials: send HARRIER_RPC_SECRET (the server\'s shared secret, or a runner token an administrator issued) as Authorization: Bearer <value>');
      return;
    }
    if (expected && timingSafeEqual(digest(bearer), expected)) {
      res.locals.rpcCredential = { via: 'secret' } satisfies RpcCredential;
      next();
      return;
    }
    runnerOfToken(ctx, bearer).then((runner) => {
      if (!runner) {
        refuse(
          expected
            ? 'wrong runner secret or token: send HARRIER_RPC_SECRET (the server\'s shared secret, or a runner token an administrator issued and has not revoked) as Authorization: Bearer <value>'
            : 'not a valid runner token (revoked, or never issued here), and this server takes no shared secret (HARRIER_RPC_SECRET is not set on it); ask an administrator for a runner token (Runners page, or POST /api/runners/tokens)',
        );
        return;
      }
      const named = req.get(RUNNER_HEADER);
      if (named && named !== runner) {
        next(forbidden(`this runner token is for runner ${runner}, not ${named}; set HARRIER_RUNNER_NAME=${runner}, or ask an administrator for a token for ${named}`));
        return;
      }
      res.locals.rpcCredential = { via: 'runner-token', runner } satisfies RpcCredential;
      next();
    }, next);
  };
}

export function rpcCredential(res: Response): RpcCredential {
  return res.locals.rpcCredential as RpcCredential;
}

/** 403 when the call's runner token is for another runner than `name`, the runner the call speaks for. */
export function assertSpeaksFor(res: Response, name: string): void {
  const credential = rpcCredential(res);
  if (credential.via === 'runner-token' && credential.runner !== name) {
    throw forbidden(`this runner token is for runner ${credential.runner}, not ${name}; set HARRIER_RUNNER_NAME=${credential.runner}, or ask an administrator for a token for ${name}`);
  }
}
