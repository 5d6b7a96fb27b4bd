// `harrier repo ls|info|enable|disable|update`, after `drone repo`.
import type { Command } from 'commander';
import { Option } from 'commander';
import type { Repo } from '../../core/domain.ts';
import { UsageError } from '../command-io.ts';
import { act, booleanArg, clientCommand, commandGroup, repoArg, type ClientContext, type Invocation } from './client-command.ts';
import { repoPath } from './harrier-client.ts';
import { fields, print, table, when } from './output.ts';

/** The boolean settings PATCH takes, by flag. */
const SWITCHES = {
  '--trusted': 'trusted',
  '--protected': 'protected',
  '--ignore-forks': 'ignore_forks',
  '--ignore-pull-requests': 'ignore_pull_requests',
} as const;

export function addRepoCommands(program: Command, ctx: ClientContext): void {
  const repo = commandGroup(program, 'repo', 'list, inspect, activate and configure repositories');

  clientCommand(repo, 'ls', 'list the repositories you can access')
    .option('--org <namespace>', 'only repositories of this owner (organisation, user or workspace)')
    .option('--active', 'only active repositories')
    .action(
      act(ctx, async ({ opts, client, format, io }) => {
        const repos = (await client.get<Repo[]>('/api/user/repos')).filter(
          (r) => (!opts.org || r.namespace === opts.org) && (!opts.active || r.active),
        );
        print(io, format, repos, () =>
          table(
            ['REPO', 'ACTIVE', 'VISIBILITY', 'TRUSTED', 'PERMISSION'],
            repos.map((r) => [r.slug, r.active, r.visibility, r.trusted, permission(r)]),
          ),
        );
      }),
    );

  clientCommand(repo, 'info', 'show a repository and its settings')
    .argument('<repo>', 'owner/name')
    .action(act(ctx, async (call) => show(call, await call.client.get<Repo>(`/api/repos/${repoPath(repoArg(call.args[0]))}`))));

  clientCommand(repo, 'enable', 'activate a repository: Harrier creates its webhook at the provider')
    .argument('<repo>', 'owner/name')
    .action(act(ctx, async (call) => show(call, await call.client.request<Repo>('POST', `/api/repos/${repoPath(repoArg(call.args[0]))}`))));

  clientCommand(repo, 'disable', 'deactivate a repository: its webhook is removed and pushes build nothing')
    .argument('<repo>', 'owner/name')
    .action(act(ctx, async (call) => show(call, await call.client.request<Repo>('DELETE', `/api/repos/${repoPath(repoArg(call.args[0]))}`))));

  const update = clientCommand(repo, 'update', 'change a repository\'s settings; settings not named stay as they are').argument('<repo>', 'owner/name');
  for (const flag of Object.keys(SWITCHES)) update.option(`${flag} [bool]`, `${flag}=false turns it off`);
  update
    .option('--timeout <duration>', 'how long a stage may run: minutes (90) or a duration (1h30m), 1 minute to 24 hours')
    .option('--config-path <path>', 'the pipeline file, e.g. .drone.yml')
    .addOption(new Option('--visibility <visibility>', 'who may see the builds').choices(['public', 'private', 'internal']))
    .action(
      act(ctx, async (call) => {
        const slug = repoArg(call.args[0]);
        const patch: Record<string, unknown> = {};
        for (const [flag, field] of Object.entries(SWITCHES)) {
          const value = booleanArg(call.opts[camel(flag)], flag);
          if (value !== undefined) patch[field] = value;
        }
        if (call.opts.timeout !== undefined) patch.timeout = minutes(call.opts.timeout as string);
        if (call.opts.configPath !== undefined) patch.config_path = call.opts.configPath;
        if (call.opts.visibility !== undefined) patch.visibility = call.opts.visibility;
        if (!Object.keys(patch).length) {
          throw new UsageError(`nothing to change: name a setting, e.g. harrier repo update ${slug} --protected or --timeout 90m`);
        }
        show(call, await call.client.request<Repo>('PATCH', `/api/repos/${repoPath(slug)}`, { body: patch }));
      }),
    );
}

function show({ io, format }: Invocation, r: Repo): void {
  print(io, format, r, () =>
    fields([
      ['Repository', r.slug],
      ['Provider', r.scm],
      ['Link', r.link],
      ['Default branch', r.default_branch],
      ['Active', r.active],
      ['Visibility', r.visibility],
      ['Config path', r.config_path],
      ['Timeout', `${r.timeout} minutes`],
      ['Trusted', r.trusted],
      ['Protected', r.protected],
      ['Ignore forks', r.ignore_forks],
      ['Ignore pull requests', r.ignore_pull_requests],
      ['Builds', r.counter],
      ['Permission', permission(r)],
      ...(r.webhook ? ([['Webhook', r.webhook.active ? `${r.webhook.url} (id ${r.webhook.id})` : 'none']] as [string, string][]) : []),
      ['Updated', when(r.updated)],
    ]),
  );
}

function permission(r: Repo): string {
  const p = r.permissions;
  return !p ? '' : p.admin ? 'admin' : p.write ? 'write' : p.read ? 'read' : 'none';
}

const camel = (flag: string) => flag.slice(2).replace(/-(.)/g, (_, c: string) => c.toUpperCase());

/** Minutes from `90`, `90m`, `1h30m` or `2h` (drone's --timeout is a Go duration). */
export function minutes(given: string): number {
  if (/^\d+$/.test(given)) return Number(given);
  const m = /^(?:(\d+)h)?(?:(\d+)m)?$/.exec(given);
  if (!m || (m[1] === undefined && m[2] === undefined)) {
    throw new UsageError(`--timeout ${JSON.stringify(given)} is not a duration: write minutes (90) or hours and minutes (1h30m)`);
  }
  return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0);
}
