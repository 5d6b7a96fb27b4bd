// Cross-process notifications over Redis pub/sub: new log lines, finished steps,
// build changes. Every server process subscribes through one connection and hands
// messages to the requests waiting in it, so a runner may report to one server
// while a browser streams the log from another.
import { Redis } from 'ioredis';
import type { Logger } from '../../core/log.ts';
import { waitUntil } from './wait-until.ts';

export type Listener = (message: unknown) => void;

/** Channel names; the bus puts the installation's prefix (HARRIER_REDIS_PREFIX) in front. */
export const channels = {
  stepLog: (stepId: number) => `step:${stepId}`,
  build: (buildId: number) => `build:${buildId}`,
  repoBuilds: (repoId: number) => `repo:${repoId}`,
  /** Lanes (server/queue/lanes.ts) that got a waiting stage: wakes runners that may take it. */
  queue: 'queue',
} as const;

export class EventBus {
  private readonly sub: Redis;
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(
    private readonly pub: Redis,
    private readonly logger: Logger,
    // Pub/sub ignores Redis database numbers, so installations sharing a Redis are kept apart by name.
    private readonly prefix: string,
  ) {
    this.sub = pub.duplicate();
    this.sub.on('message', (channel: string, text: string) => this.dispatch(channel, text));
    this.sub.on('error', (error) => this.logger.warn({ err: error }, 'event subscription connection error'));
  }

  private dispatch(fullChannel: string, text: string): void {
    const channel = fullChannel.slice(this.prefix.length + 1);
    const set = this.listeners.get(channel);
    if (!set) return;
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    for (const listener of set) listener(message);
  }

  /**
   * Whether any server process has a subscriber on the channel. A publisher that writes
   * what it announces first, and announces only when this is true, misses no subscriber:
   * one that subscribes after the check reads what was written (as log streams do).
   */
  async listening(channel: string): Promise<boolean> {
    const [, count] = (await this.pub.pubsub('NUMSUB', `${this.prefix}:${channel}`)) as [string, number];
    return Number(count) > 0;
  }

  async publish(channel: string, message: unknown): Promise<void> {
    await this.pub.publish(`${this.prefix}:${channel}`, JSON.stringify(message));
  }

  /** Resolves once Redis confirmed the subscription, so nothing published afterwards is missed. */
  async subscribe(channel: string, listener: Listener): Promise<() => void> {
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      await this.sub.subscribe(`${this.prefix}:${channel}`);
    }
    set.add(listener);
    return () => {
      const current = this.listeners.get(channel);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) {
        this.listeners.delete(channel);
        this.sub.unsubscribe(`${this.prefix}:${channel}`).catch(() => {});
      }
    };
  }

  /** Waits until `check` returns a value, re-checking on every message on `channel`. */
  waitFor<T>(channel: string, check: () => Promise<T | undefined>, timeoutMs: number, signal: AbortSignal): Promise<T | undefined> {
    return waitUntil(check, (wake) => this.subscribe(channel, wake), timeoutMs, signal);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await this.sub.quit().catch(() => this.sub.disconnect());
  }
}
