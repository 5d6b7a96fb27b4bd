// `harrier cron ls|add|rm|run`, after `drone cron` (whose `exec` is `run` here, with
// `exec` as another name): Drone's cron API, /api/repos/{owner}/{name}/cron[/{name}].
import type { Command } from 'commander';
import type { Build, Cron } from '../../core/domain.ts';
import { act, clientCommand, commandGroup, repoArg, type ClientContext, type Invocation } from './client-command.ts';
import { repoPath } from './harrier-client.ts';
import { print, table, when } from './output.ts';

export function addCronCommands(program: Command, ctx: ClientContext): void {
  const cron = commandGroup(program, 'cron', 'manage a repository\'s scheduled builds');
  const crons = (call: Invocation) => `/api/repos/${repoPath(repoArg(call.args[0]))}/cron`;
  const one = (call: Invocation) => `${crons(call)}/${encodeURIComponent(call.args[1]!)}`;

  clientCommand(cron, 'ls', 'list a repository\'s cron jobs, with why a job\'s last scheduled run made no build')
    .argument('<repo>', 'owner/name')
    .action(
      act(ctx, async (call) => {
        const jobs = await call.client.get<Cron[]>(crons(call));
        print(call.io, call.format, jobs, () =>
          table(['NAME', 'EXPR', 'BRANCH', 'DISABLED', 'NEXT', 'PREV', 'ERROR'], jobs.map((c) => [c.name, c.expr, c.branch, c.disabled, when(c.next), when(c.prev), c.error])),
        );
      }),
    );

  clientCommand(cron, 'add', 'add a cron job')
    .argument('<repo>', 'owner/name')
    .argument('<name>', 'the job\'s name, e.g. nightly')
    .argument('<expr>', 'when it runs, a cron expression, e.g. "0 0 2 * * *" or @daily')
    .option('--branch <branch>', 'the branch to build (default: the repository\'s default branch)')
    .action(
      act(ctx, async (call) => {
        const body = { name: call.args[1], expr: call.args[2], ...(call.opts.branch !== undefined && { branch: call.opts.branch }) };
        const job = await call.client.request<Cron>('POST', crons(call), { body });
        print(call.io, call.format, job, () => `cron ${job.name} added: ${job.expr} on ${job.branch}${job.next ? `, next at ${when(job.next)}` : ''}\n`);
      }),
    );

  clientCommand(cron, 'rm', 'remove a cron job')
    .argument('<repo>', 'owner/name')
    .argument('<name>', 'the job\'s name')
    .action(
      act(ctx, async (call) => {
        await call.client.request('DELETE', one(call));
        if (call.format === 'table') call.io.stdout(`cron ${call.args[1]} removed\n`);
      }),
    );

  clientCommand(cron, 'run', 'start a cron job\'s build now')
    .alias('exec')
    .argument('<repo>', 'owner/name')
    .argument('<name>', 'the job\'s name')
    .action(
      act(ctx, async (call) => {
        // Drone answers with the build it started; an answer without one still means it started.
        const build = await call.client.request<Build | undefined>('POST', one(call));
        print(call.io, call.format, build ?? {}, () => `cron ${call.args[1]} started${build?.number ? ` build ${build.number}` : ''}\n`);
      }),
    );
}
