// Long-polls the server's watch call for a build while one of its stages runs, so a
// cancel in the UI reaches the runner within one round trip.
import type { Logger } from '../core/log.ts';
import type { WatchResponse } from '../core/protocol.ts';
import { sleep } from './rpc-client.ts';

export interface BuildWatcher {
  watch(buildId: number, signal?: AbortSignal): Promise<WatchResponse | null>;
}

/**
 * Calls `onCancel` if the build is cancelled. Returns when that happens, when the build
 * is done, or when `signal` aborts (the stage ended). Retries with backoff when the server
 * cannot be reached: a stage keeps running through a server restart.
 */
export async function watchForCancel(rpc: BuildWatcher, buildId: number, signal: AbortSignal, onCancel: () => void, logger?: Logger): Promise<void> {
  let backoff = 1_000;
  while (!signal.aborted) {
    try {
      const answer = await rpc.watch(buildId, signal);
      backoff = 1_000;
      if (!answer) continue;
      if (answer.cancelled) onCancel();
      return;
    } catch (err) {
      if (signal.aborted) return;
      logger?.warn({ event: 'watch_failed', err: err instanceof Error ? err.message : String(err) }, 'could not watch the build for cancellation; retrying');
      await sleep(backoff, signal).catch(() => {});
      backoff = Math.min(backoff * 2, 30_000);
    }
  }
}
