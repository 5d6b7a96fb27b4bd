// Server-Sent Events: the answer's headers, and comments that keep idle
// connections (and proxies in between) from timing out.
import type { Response } from 'express';

export const HEARTBEAT_MS = 15_000;

/** Starts an event-stream answer; browsers reconnect after `retry` ms when it drops. */
export function startEventStream(res: Response): void {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    Connection: 'keep-alive',
    // nginx buffers answers unless told not to, which would hold events back.
    'X-Accel-Buffering': 'no',
  });
  res.write('retry: 2000\n\n');
}

/**
 * Writes a comment every `ms` while the stream is open; returns how to stop. With
 * `stillAllowed`, each beat first asks whether the caller may still read: a user blocked,
 * or a token revoked, after the stream opened loses it within one beat.
 */
export function keepAlive(res: Response, ms = HEARTBEAT_MS, stillAllowed?: () => Promise<boolean>): () => void {
  const timer = setInterval(() => {
    void (async () => {
      if (stillAllowed && !(await stillAllowed().catch(() => false))) {
        clearInterval(timer);
        res.end();
        return;
      }
      if (!res.writableEnded) res.write(': ping\n\n');
    })();
  }, ms);
  return () => clearInterval(timer);
}
