// Runners authenticate with the shared secret as a Bearer token.
import { timingSafeEqual, createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import { HttpError } from '../http/errors.ts';

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

export function rpcAuth(secret: string): RequestHandler {
  const expected = digest(secret);
  return (req, _res, next) => {
    if (!secret) {
      next(new HttpError(401, 'the server has no HARRIER_RPC_SECRET; set the same secret on the server and its runners'));
      return;
    }
    const header = req.get('authorization') ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!token || !timingSafeEqual(digest(token), expected)) {
      next(new HttpError(401, 'wrong or missing runner secret: send HARRIER_RPC_SECRET as Authorization: Bearer <secret>'));
      return;
    }
    next();
  };
}
