// Every error answer, from the REST API and the runner RPC alike, is JSON
// `{ "message": "..." }` that says what went wrong and what to do.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '../../core/log.ts';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const badRequest = (message: string) => new HttpError(400, message);
export const unauthorized = (message = 'sign in first, or send a personal token as Authorization: Bearer <token>') =>
  new HttpError(401, message);
export const forbidden = (message: string) => new HttpError(403, message);
export const notFound = (message: string) => new HttpError(404, message);
export const conflict = (message: string) => new HttpError(409, message);

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  // Mounted under /api too, where req.path has lost the mount point: name the path as it was asked for.
  next(notFound(`no such endpoint: ${req.method} ${req.baseUrl}${req.path}`));
};

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    // body-parser marks its own errors with a status (413 too large, 400 bad JSON).
    const status = error instanceof HttpError ? error.status : Number(error?.status ?? error?.statusCode) || 500;
    const message =
      error instanceof HttpError
        ? error.message
        : status === 413
          ? 'request body too large'
          : status === 400
            ? `malformed request body: ${error.message}`
            : status < 500
              ? String(error.message)
              : 'internal server error; the server log has the details';
    if (status >= 500) logger.error({ err: error, method: req.method, path: req.path }, 'request failed');
    if (res.headersSent) return;
    res.status(status).json({ message });
  };
}
