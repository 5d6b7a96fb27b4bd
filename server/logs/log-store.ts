// Log lines are rows (step, pos), written as runners send them, so a log is
// readable from any server process while its step runs and after.
import type { LogLine } from '../../core/domain.ts';
import type { ServerContext } from '../context.ts';
import { channels } from '../events/event-bus.ts';

/**
 * Appends lines in order. A batch the runner sends again after a lost answer holds
 * positions already stored; those are dropped, so a retry never duplicates a line.
 */
export async function appendLogLines(ctx: Pick<ServerContext, 'db' | 'events'>, stepId: number, lines: LogLine[]): Promise<number> {
  if (lines.length === 0) return 0;
  const last = await ctx.db.logLine.findFirst({ where: { stepId }, orderBy: { pos: 'desc' }, select: { pos: true } });
  const fresh = lines.filter((l) => l.pos > (last?.pos ?? -1)).sort((a, b) => a.pos - b.pos);
  if (fresh.length === 0) return 0;
  await ctx.db.logLine.createMany({ data: fresh.map((l) => ({ stepId, pos: l.pos, out: l.out, time: l.time })) });
  await ctx.events.publish(channels.stepLog(stepId), { lines: fresh });
  return fresh.length;
}

export async function readLogLines(ctx: Pick<ServerContext, 'db'>, stepId: number, afterPos = -1, limit?: number): Promise<LogLine[]> {
  const rows = await ctx.db.logLine.findMany({
    where: { stepId, pos: { gt: afterPos } },
    orderBy: { pos: 'asc' },
    select: { pos: true, out: true, time: true },
    ...(limit ? { take: limit } : {}),
  });
  return rows;
}
