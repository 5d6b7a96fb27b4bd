// `harrier user info [login]` (drone's `info` and `user info`) and `harrier queue`:
// who the token speaks for, and where work waits and why.
import type { Command } from 'commander';
import type { QueueJson, User } from '../../core/domain.ts';
import { act, clientCommand, commandGroup, type ClientContext } from './client-command.ts';
import { fields, print, table, when } from './output.ts';

export function addUserCommands(program: Command, ctx: ClientContext): void {
  const user = commandGroup(program, 'user', 'show users');
  clientCommand(user, 'info', 'show the user the token belongs to, or (administrators) another user')
    .argument('[login]', 'another user\'s login')
    .option('--provider <provider>', 'github or bitbucket, when both have an account of that login')
    .action(
      act(ctx, async ({ args, opts, client, format, io }) => {
        const u = args[0]
          ? await client.get<User>(`/api/users/${encodeURIComponent(args[0])}`, { provider: opts.provider as string | undefined })
          : await client.get<User>('/api/user');
        print(io, format, u, () =>
          fields([
            ['User', u.login],
            ['Provider', u.provider],
            ['Email', u.email],
            ['Admin', u.admin],
            ['Active', u.active],
            ['Last login', when(u.last_login)],
            ['Created', when(u.created)],
          ]),
        );
      }),
    );
}

export function addQueueCommand(program: Command, ctx: ClientContext): void {
  clientCommand(program, 'queue', 'show where stages wait for a runner, and why (administrators)')
    .exitOverride()
    .action(
      act(ctx, async ({ client, format, io }) => {
        const queue = await client.get<QueueJson>('/api/queue');
        print(io, format, queue, () => {
          const { connected, busy, capacity } = queue.runners;
          const summary = `runners: ${connected} connected, ${busy} of ${capacity} slots busy\n`;
          if (!queue.label_sets.length) return `${summary}nothing waits or runs\n`;
          return `${summary}\n${table(
            ['PLATFORM', 'LABELS', 'WAITING', 'RUNNING', 'OLDEST', 'RUNNERS', 'WHY'],
            queue.label_sets.map((set) => [
              `${set.os}/${set.arch}`,
              Object.entries(set.labels).map(([k, v]) => `${k}=${v}`).join(',') || '-',
              set.waiting,
              set.running,
              set.waiting ? `${set.oldest_waiting_seconds}s` : '',
              set.runners,
              why(set, queue.runners.connected),
            ]),
          )}`;
        });
      }),
    );
}

/** The reason a set's stages wait, as far as the queue's figures tell it; `harrier build info` says it per stage. */
function why(set: QueueJson['label_sets'][number], connected: number): string {
  if (!set.waiting) return '';
  if (!connected) return 'no runner is connected';
  if (!set.runners) return `no runner takes ${set.os}/${set.arch}${Object.keys(set.labels).length ? ' with these labels' : ''}`;
  return `waiting for a free slot on ${set.runners} matching runner${set.runners === 1 ? '' : 's'}`;
}
