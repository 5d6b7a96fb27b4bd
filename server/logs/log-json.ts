// A step's log as one JSON array, [{pos,out,time}, …] by position, written page by
// page as the client takes it: a reader holds one page of the log, not the log, and a
// slow or paused client holds the reader (it waits for 'drain') instead of the
// server's memory. The bytes are those res.json() wrote when it sent the whole array.
//   ?offset=N  the first position to answer (default 0)
//   ?limit=N   how many lines at most (default: all that follow; at most MAX_LOG_LIMIT)
//   ?attempt=N which attempt of a retried stage (default: its current one)
import { once } from 'node:events';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { parseInput } from '../api/body-validation.ts';
import type { ServerContext } from '../context.ts';
import { lineJson } from './log-chunk.ts';
import { logLinePages } from './log-store.ts';

/** A page of a log is at most this many lines; the whole log needs no limit. */
export const MAX_LOG_LIMIT = 10_000;

/** Set when the retention policy removed the build's logs: the unix time it did. */
export const LOGS_PURGED_HEADER = 'X-Logs-Purged';

const wholeNumber = (what: string) =>
  z
    .string()
    .regex(/^\d+$/, `must be a whole number, 0 or more (${what})`)
    .transform(Number)
    .pipe(z.number().max(Number.MAX_SAFE_INTEGER, `is too large (${what})`));

const logQuery = z.object({
  offset: wholeNumber('the first position to answer').optional(),
  limit: wholeNumber(`how many lines, at most ${MAX_LOG_LIMIT}; read further with offset = the last pos + 1`)
    .pipe(z.number().max(MAX_LOG_LIMIT, `must be at most ${MAX_LOG_LIMIT}; read the rest with offset = the last pos + 1`))
    .optional(),
  attempt: wholeNumber('which attempt of the stage, 1 for its first run').pipe(z.number().min(1, 'must be 1 or more: attempts count from 1')).optional(),
});

export function parseLogQuery(query: unknown): { offset?: number; limit?: number; attempt?: number } {
  return parseInput(logQuery, query, 'query');
}

/** `attempt`: the stage attempt whose log to send, checked by the caller (it exists). */
export async function sendLogJson(ctx: ServerContext, req: Request, res: Response, stepId: number, attempt: number, logsPurged: number): Promise<void> {
  const { offset, limit } = parseLogQuery(req.query);
  // Which reader a debug event concerns: the client's port.
  const port = req.socket.remotePort;
  const gone = new AbortController();
  res.on('close', () => gone.abort());
  res.status(200).type('application/json');
  if (logsPurged) res.set(LOGS_PURGED_HEADER, String(logsPurged));

  /** Writes a chunk; when the socket's buffer is full, waits until the client took it. False once the client has gone. */
  const write = async (chunk: string): Promise<boolean> => {
    if (gone.signal.aborted) return false;
    if (res.write(chunk)) return true;
    ctx.logger.debug({ event: 'log_read_waiting', stepId, port }, 'log reader waits for the client to take what it was sent');
    await once(res, 'drain', { signal: gone.signal }).catch(() => undefined);
    return !gone.signal.aborted;
  };

  let lines = 0;
  let chunk = '[';
  try {
    for await (const page of logLinePages(ctx, stepId, { from: offset, count: limit, signal: gone.signal, attempt })) {
      for (const line of page) {
        chunk += (lines++ ? ',' : '') + lineJson(line);
      }
      if (!(await write(chunk))) break;
      chunk = '';
    }
  } catch (err) {
    if (!res.headersSent) throw err;
    // The array is half sent: cutting the connection is the only way to say it is incomplete.
    ctx.logger.warn({ err, stepId }, 'reading a step log failed mid-answer');
    res.destroy();
    return;
  }
  if (gone.signal.aborted) {
    ctx.logger.debug({ event: 'log_read_stopped', stepId, port, lines }, 'the client went away before the end of the log');
    return;
  }
  res.end(`${chunk}]`);
}
