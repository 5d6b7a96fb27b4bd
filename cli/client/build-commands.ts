// `harrier build ls|info|create|restart|retry|cancel|promote|rollback|approve|decline`, after `drone build`.
// `harrier build logs` is in build-logs-command.ts.
import type { Command } from 'commander';
import type { Build } from '../../core/domain.ts';
import { parseAssignments, UsageError } from '../command-io.ts';
import { act, clientCommand, commandGroup, countArg, repoArg, type ClientContext, type Invocation } from './client-command.ts';
import { repoPath } from './harrier-client.ts';
import { fields, firstLine, print, table, when } from './output.ts';
import { addBuildLogsCommand } from './build-logs-command.ts';
import { buildNumber, fetchBuild } from './build-ref.ts';

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function addBuildCommands(program: Command, ctx: ClientContext): void {
  const build = commandGroup(program, 'build', 'list, inspect and change builds');

  clientCommand(build, 'ls', 'list a repository\'s builds, newest first')
    .argument('<repo>', 'owner/name')
    .option('--branch <branch>', 'only builds of this branch')
    .option('--event <event>', 'only builds of this event (push, pull_request, tag, promote, rollback, cron, custom)')
    .option('--status <status>', 'only builds with this status (success, failure, running, …)')
    .option('--page <n>', 'page of builds to read', '1')
    .option('--limit <n>', 'builds per page (at most 100)', '25')
    .action(
      act(ctx, async ({ args, opts, client, format, io }) => {
        const slug = repoArg(args[0]);
        const page = await client.get<Build[]>(`/api/repos/${repoPath(slug)}/builds`, {
          page: countArg(opts.page as string, '--page'),
          per_page: countArg(opts.limit as string, '--limit'),
          branch: opts.branch as string | undefined,
        });
        // As drone's CLI does, --event and --status filter the page read.
        const builds = page.filter((b) => (!opts.event || b.event === opts.event) && (!opts.status || b.status === opts.status));
        print(io, format, builds, () =>
          table(
            ['BUILD', 'STATUS', 'EVENT', 'BRANCH', 'COMMIT', 'AUTHOR', 'CREATED', 'MESSAGE'],
            builds.map((b) => [b.number, b.status, b.event, b.target, b.after.slice(0, 8), b.author_login, when(b.created), firstLine(b.title || b.message)]),
          ),
        );
      }),
    );

  clientCommand(build, 'info', 'show a build with its stages and steps')
    .argument('<repo>', 'owner/name')
    .argument('[build]', 'build number, or last', 'last')
    .action(
      act(ctx, async ({ args, client, format, io }) => {
        const b = await fetchBuild(client, repoArg(args[0]), args[1]);
        print(io, format, b, () => describeBuild(b));
      }),
    );

  addBuildLogsCommand(build, ctx);

  const change = (name: string, description: string) =>
    clientCommand(build, name, description)
      .argument('<repo>', 'owner/name')
      .argument('<build>', 'build number, or last');
  const show = (call: Invocation, b: Build, what: string) => print(call.io, call.format, b, () => `${what}\n${describeBuild(b)}`);

  clientCommand(build, 'create', 'start a build of a branch\'s head, or of a commit (event custom)')
    .argument('<repo>', 'owner/name')
    .option('--branch <branch>', 'the branch to build (default: the repository\'s default branch)')
    .option('--commit <sha>', 'the commit to build (default: the branch\'s head)')
    .option('-p, --param <KEY=VALUE>', 'a parameter the build\'s steps see (repeatable)', collect)
    .action(
      act(ctx, async (call) => {
        const slug = repoArg(call.args[0]);
        const params = buildParams(call, { branch: 'use --branch', commit: 'use --commit' });
        const query = { branch: call.opts.branch as string | undefined, commit: call.opts.commit as string | undefined, ...params };
        const b = await call.client.request<Build>('POST', `/api/repos/${repoPath(slug)}/builds`, { query });
        show(call, b, `build ${b.number} created`);
      }),
    );

  change('restart', 'start a new build of the same commit and pipeline file').action(
    act(ctx, async (call) => {
      const { slug, number } = await target(call);
      const b = await call.client.request<Build>('POST', `/api/repos/${repoPath(slug)}/builds/${number}`);
      show(call, b, `build ${number} restarted as build ${b.number}`);
    }),
  );

  change('retry', 'run a finished build\'s failed stages again (--stage: only that stage)')
    .option('--stage <n>', 'retry only this stage (its number)')
    .action(
      act(ctx, async (call) => {
        const { slug, number } = await target(call);
        const stage = call.opts.stage === undefined ? undefined : countArg(call.opts.stage as string, '--stage');
        const b = await call.client.request<Build>('POST', `/api/repos/${repoPath(slug)}/builds/${number}/retry`, { query: { stage } });
        show(call, b, `build ${number} retried${stage ? ` (stage ${stage})` : ''}`);
      }),
    );

  change('cancel', 'cancel a build: waiting stages are skipped, running steps killed').action(
    act(ctx, async (call) => {
      const { slug, number } = await target(call);
      const b = await call.client.request<Build>('DELETE', `/api/repos/${repoPath(slug)}/builds/${number}`);
      show(call, b, `build ${number} cancelled`);
    }),
  );

  for (const event of ['promote', 'rollback'] as const) {
    change(event, event === 'promote' ? 'promote a build to a target environment (a new build with event promote)' : 'roll a target environment back to a build (a new build with event rollback)')
      .argument('<target>', 'the environment, e.g. production')
      .option('-p, --param <KEY=VALUE>', `a parameter the new build's steps see (repeatable)`, collect)
      .action(
        act(ctx, async (call) => {
          const { slug, number } = await target(call);
          const deployTo = call.args[2]!;
          const params = buildParams(call, { target: 'name the environment as the third argument' });
          const b = await call.client.request<Build>('POST', `/api/repos/${repoPath(slug)}/builds/${number}/${event}`, { query: { target: deployTo, ...params } });
          show(call, b, `build ${number} ${event === 'promote' ? 'promoted' : 'rolled back'} to ${deployTo} as build ${b.number}`);
        }),
      );
  }

  for (const verb of ['approve', 'decline'] as const) {
    change(verb, verb === 'approve' ? 'approve a blocked build: its stages are queued' : 'decline a blocked build: none of its stages runs').action(
      act(ctx, async (call) => {
        const { slug, number } = await target(call);
        const b = await call.client.request<Build>('POST', `/api/repos/${repoPath(slug)}/builds/${number}/${verb}`);
        show(call, b, `build ${number} ${verb}d`);
      }),
    );
  }
}

/**
 * The -p KEY=VALUE parameters, sent as query parameters as drone's CLI sends them. A name the
 * endpoint reads itself (`reserved`: name -> what to do instead) would not be a parameter,
 * and access_token never is one.
 */
function buildParams(call: Invocation, reserved: Record<string, string>): Record<string, string> {
  const params = parseAssignments((call.opts.param as string[] | undefined) ?? [], '--param');
  for (const [name, instead] of Object.entries({ ...reserved, access_token: 'give the token with --token or HARRIER_TOKEN' })) {
    if (Object.hasOwn(params, name)) throw new UsageError(`--param ${name}=… would not reach the build: the server reads ${name} itself; ${instead}`);
  }
  return params;
}

async function target(call: Invocation): Promise<{ slug: string; number: number }> {
  const slug = repoArg(call.args[0]);
  return { slug, number: await buildNumber(call.client, slug, call.args[1]) };
}

function describeBuild(b: Build): string {
  const head = fields([
    ['Build', b.number],
    ['Status', b.status],
    ['Event', b.event],
    ['Ref', b.ref],
    ['Branch', b.target],
    ['Commit', b.after],
    ['Author', b.author_login],
    ['Message', firstLine(b.message, 200)],
    ['Started', when(b.started)],
    ['Finished', when(b.finished)],
    ...(b.deploy_to ? ([['Target', b.deploy_to]] as [string, string][]) : []),
    ...(b.parent ? ([['Parent', b.parent]] as [string, number][]) : []),
    ...Object.entries(b.params ?? {}).map(([key, value]) => [`Param ${key}`, value] as [string, string]),
    ...(b.error ? ([['Error', b.error]] as [string, string][]) : []),
  ]);
  if (!b.stages?.length) return head;
  const rows = b.stages.flatMap((stage) => [
    [`${stage.number}`, stage.name, stage.status, stage.waiting ?? stage.error],
    ...(stage.steps ?? []).map((step) => [`${stage.number}.${step.number}`, `  ${step.name}`, step.status, step.error || (step.exit_code ? `exit code ${step.exit_code}` : '')]),
  ]);
  return `${head}\n${table(['#', 'STAGE / STEP', 'STATUS', 'NOTE'], rows)}`;
}
