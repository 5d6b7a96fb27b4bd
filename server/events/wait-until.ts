// The one long-poll loop: re-check on every wake-up, give up at the deadline or
// when the signal aborts. Checks run again after a wake-up that arrived while a
// check was running, so no notification is lost between check and sleep.

/** Registers `wake`, returns how to unregister it. */
export type WakeSource = (wake: () => void) => Promise<() => void> | (() => void);

export async function waitUntil<T>(
  check: () => Promise<T | undefined>,
  wakeSource: WakeSource,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  let woken = false;
  let sleeper: (() => void) | undefined;
  const unregister = await wakeSource(() => {
    woken = true;
    sleeper?.();
  });
  try {
    for (;;) {
      woken = false;
      const value = await check();
      if (value !== undefined || signal.aborted) return value;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      if (woken) continue;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          sleeper = undefined;
          resolve();
        };
        const timer = setTimeout(done, left);
        sleeper = done;
        signal.addEventListener('abort', done, { once: true });
      });
    }
  } finally {
    unregister();
  }
}
