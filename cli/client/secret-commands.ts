// `harrier secret ls|add|update|rm`, after `drone secret`: a repository's secrets, or with
// --org a namespace's (Drone's organisation secrets, /api/secrets/{namespace}). Values go
// to the server and never come back: every answer lists names and flags only.
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { OrgSecret, Secret } from '../../core/domain.ts';
import { UsageError } from '../command-io.ts';
import { act, booleanArg, clientCommand, commandGroup, repoArg, type ClientContext, type Invocation } from './client-command.ts';
import { repoPath } from './harrier-client.ts';
import { print, table } from './output.ts';

export function addSecretCommands(program: Command, ctx: ClientContext): void {
  const secret = commandGroup(program, 'secret', 'manage repository and organisation secrets');
  const command = (name: string, description: string) =>
    clientCommand(secret, name, description)
      .argument('[repo]', 'owner/name (or --org)')
      .option('--org <namespace>', 'an organisation secret of this namespace instead of a repository\'s');
  const named = (c: Command) => c.option('--name <name>', 'the secret\'s name, as pipelines write it after from_secret');
  const valued = (c: Command) =>
    c
      .option('--data <value>', 'the value; @FILE reads it from a file')
      .option('--allow-pull-request [bool]', 'pull requests from forks may use it (--allow-pull-request=false: they may not)');

  command('ls', 'list secrets (names and flags, never values)').action(
    act(ctx, async (call) => {
      const secrets = await call.client.get<(Secret | OrgSecret)[]>(base(call));
      print(call.io, call.format, secrets, () => table(['NAME', 'PULL REQUESTS'], secrets.map((s) => [s.name, s.pull_request])));
    }),
  );

  valued(named(command('add', 'add a secret'))).action(
    act(ctx, async (call) => {
      const body = { name: nameOf(call), data: dataOf(call, true), pull_request: booleanArg(call.opts.allowPullRequest, '--allow-pull-request') ?? false };
      show(call, await call.client.request<Secret | OrgSecret>('POST', base(call), { body }), 'added');
    }),
  );

  valued(named(command('update', 'change a secret\'s value or its pull request flag'))).action(
    act(ctx, async (call) => {
      const body = { data: dataOf(call, false), pull_request: booleanArg(call.opts.allowPullRequest, '--allow-pull-request') };
      if (body.data === undefined && body.pull_request === undefined) throw new UsageError('nothing to change: give --data, --allow-pull-request or both');
      show(call, await call.client.request<Secret | OrgSecret>('PATCH', `${base(call)}/${encodeURIComponent(nameOf(call))}`, { body }), 'updated');
    }),
  );

  named(command('rm', 'remove a secret')).action(
    act(ctx, async (call) => {
      const name = nameOf(call);
      await call.client.request('DELETE', `${base(call)}/${encodeURIComponent(name)}`);
      if (call.format === 'table') call.io.stdout(`secret ${name} removed\n`);
    }),
  );
}

function base({ args, opts }: Invocation): string {
  if (opts.org !== undefined && args[0] !== undefined) throw new UsageError(`name a repository (${args[0]}) or --org ${opts.org}, not both`);
  if (opts.org !== undefined) {
    if (!/^[^/\s]+$/.test(opts.org as string)) throw new UsageError(`--org ${JSON.stringify(opts.org)} is not a namespace: write the owner alone, e.g. --org octocat`);
    return `/api/secrets/${encodeURIComponent(opts.org as string)}`;
  }
  if (args[0] === undefined) throw new UsageError('name the repository (owner/name), or an organisation with --org NAMESPACE');
  return `/api/repos/${repoPath(repoArg(args[0]))}/secrets`;
}

function nameOf({ opts }: Invocation): string {
  if (typeof opts.name !== 'string' || !opts.name) throw new UsageError('name the secret with --name, e.g. --name docker_password');
  return opts.name;
}

function dataOf({ opts, io }: Invocation, required: boolean): string | undefined {
  const given = opts.data as string | undefined;
  if (given === undefined) {
    if (required) throw new UsageError('give the value with --data VALUE, or --data @FILE to read it from a file');
    return undefined;
  }
  if (!given.startsWith('@')) return given;
  const file = path.resolve(io.cwd, given.slice(1));
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--data ${given}: cannot read ${file}: ${(err as Error).message}`);
  }
}

function show({ io, format }: Invocation, s: Secret | OrgSecret, what: string): void {
  print(io, format, s, () => `secret ${s.name} ${what}${s.pull_request ? ' (pull requests from forks may use it)' : ''}\n`);
}
