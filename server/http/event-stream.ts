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

/** Writes a comment every `ms` while the stream is open; returns how to stop. */
export function keepAlive(res: Response, ms = HEARTBEAT_MS): () => void {
  const timer = setInterval(() => {
    if (!res.writableEnded) res.write(': ping\n\n');
  }, ms);
  return () => clearInterval(timer);
}
