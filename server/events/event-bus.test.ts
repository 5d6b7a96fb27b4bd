import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { EventBus } from './event-bus.ts';

const redis = new Redis(process.env.HARRIER_REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
const prefix = `harrier-test-${randomBytes(4).toString('hex')}`;
const one = new EventBus(redis, pino({ level: 'silent' }), prefix);
const other = new EventBus(redis, pino({ level: 'silent' }), prefix);

afterAll(async () => {
  await one.close();
  await other.close();
  redis.disconnect();
});

describe('EventBus.listening', () => {
  it('says whether a process of the installation subscribes to a channel, and none of another installation counts', async () => {
    const elsewhere = new EventBus(redis, pino({ level: 'silent' }), `${prefix}-other`);
    try {
      await elsewhere.subscribe('step:1', () => {});
      expect(await one.listening('step:1')).toBe(false);
      const heard: unknown[] = [];
      const unsubscribe = await other.subscribe('step:1', (m) => heard.push(m));
      expect(await one.listening('step:1')).toBe(true);
      await one.publish('step:1', { lines: [] });
      await expect.poll(() => heard).toEqual([{ lines: [] }]);
      unsubscribe();
      await expect.poll(() => one.listening('step:1')).toBe(false);
    } finally {
      await elsewhere.close();
    }
  });
});
