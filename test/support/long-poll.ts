// Order without sleeps: a test that means to wake a runner's long poll first waits until
// the server holds that poll, so what follows can reach the runner only by a wake-up.
import type { ServerContext } from '../../server/context.ts';

export async function longPollHeld(ctx: Pick<ServerContext, 'queue'>): Promise<void> {
  // The queue keeps its waiting polls private; a test may look.
  const queue = ctx.queue as unknown as { waiters: Set<unknown> };
  while (queue.waiters.size === 0) await new Promise((resolve) => setImmediate(resolve));
}
