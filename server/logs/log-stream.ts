// A step's log as Server-Sent Events: the lines stored so far, then each new line
// as the runner sends it, then a `done` event when the step finishes. Each line's
// event id is its position, so a browser that reconnects with Last-Event-ID
// resumes exactly after the last line it got.
import { once } from 'node:events';
import type { Request, Response } from 'express';
import type { LogLine, Status } from '../../core/domain.ts';
import { isDone } from '../../core/domain.ts';
import type { ServerContext } from '../context.ts';
import { channels } from '../events/event-bus.ts';
import { keepAlive, startEventStream } from '../http/event-stream.ts';
import { stillAuthenticated } from '../auth/authenticate.ts';
import { lineJson } from './log-chunk.ts';
import { logLinePages } from './log-store.ts';

interface StepMessage {
  lines?: LogLine[];
  done?: boolean;
  status?: Status;
}

export function resumePosition(req: Request): number {
  const raw = req.get('Last-Event-ID') ?? (typeof req.query.after === 'string' ? req.query.after : undefined);
  const pos = raw === undefined ? -1 : Number(raw);
  return Number.isInteger(pos) && pos >= -1 ? pos : -1;
}

/** `attempt`: the stage's current attempt, the one whose lines arrive live. */
export async function streamStepLog(ctx: ServerContext, req: Request, res: Response, stepId: number, attempt: number): Promise<void> {
  let sent = resumePosition(req);
  let closed = false;
  startEventStream(res);

  const writeLines = (lines: LogLine[]) => {
    let chunk = '';
    for (const line of lines) {
      if (line.pos <= sent) continue;
      chunk += `id: ${line.pos}\ndata: ${lineJson(line)}\n\n`;
      sent = line.pos;
    }
    if (chunk && !closed) res.write(chunk);
  };
  const gone = new AbortController();
  /** Sends what the database holds after the last line sent, a chunk at a time. */
  const catchUp = async () => {
    for await (const page of logLinePages(ctx, stepId, { from: sent + 1, signal: gone.signal, attempt })) {
      if (closed) return;
      writeLines(page);
      // A long backlog goes out as fast as the client takes it, not into the server's memory.
      if (res.writableNeedDrain) await once(res, 'drain', { signal: gone.signal }).catch(() => undefined);
    }
  };
  const finish = (status: string) => {
    if (closed) return;
    res.write(`event: done\ndata: ${JSON.stringify({ status })}\n\n`);
    close();
  };

  // Messages are handled one at a time, in order, after the backlog.
  let chain = Promise.resolve();
  const handle = (message: StepMessage) => {
    chain = chain
      .then(async () => {
        if (closed) return;
        const lines = message.lines ?? [];
        // Pub/sub may drop a message (a reconnect); the database has every line, so fill any gap from it.
        if (lines.length && lines[0].pos > sent + 1) await catchUp();
        writeLines(lines);
        if (message.done) {
          await catchUp();
          finish(message.status ?? 'success');
        }
      })
      .catch((error) => {
        ctx.logger.warn({ err: error, stepId }, 'log stream failed');
        close();
      });
  };

  const unsubscribe = await ctx.events.subscribe(channels.stepLog(stepId), (m) => handle(m as StepMessage));
  const stopHeartbeat = keepAlive(res, undefined, stillAuthenticated(ctx, req));
  function close() {
    if (closed) return;
    closed = true;
    gone.abort();
    stopHeartbeat();
    unsubscribe();
    res.end();
  }
  res.on('close', close);

  chain = chain.then(async () => {
    await catchUp();
    const step = await ctx.db.step.findUnique({ where: { id: stepId }, select: { status: true } });
    if (!step || isDone(step.status as Status)) {
      await catchUp();
      finish(step?.status ?? 'error');
    }
  });
  await chain.catch(() => close());
}
