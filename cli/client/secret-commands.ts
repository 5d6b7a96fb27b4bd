// `harrier secret ls|add|update|rm`, after `drone secret`: a repository's secrets, or with
// --org a namespace's (Drone's organisation secrets, /api/secrets/{namespace}, on the
// provider --provider names, as ?provider=). Values go to the server and never come back:
// every answer lists names and flags only.
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { OrgSecret, Secret } from '../../core/domain.ts';
import { UsageError } from '../command-io.ts';
import { act, booleanArg, clientCommand, commandGroup, repoArg, type ClientContext, type Invocation } from './client-command.ts';
import { repoPath, type Query } from './harrier-client.ts';
import { print, table } from './output.ts';

export function addSecretCommands(program: Command, ctx: ClientContext): void {
  const secret = commandGroup(program, 'secret', 'manage repository and organisation secrets');
  const command = (name: string, description: string) =>
    clientCommand(secret, name, description)
      .argument('[repo]', 'owner/name (or --org)')
      .option('--org <namespace>', 'an organisation secret of this namespace instead of a repository\'s')
      .option('--provider <provider>', 'with --org: the namespace\'s provider, github or bitbucket (default: the one you signed in with)');
  const named = (c: Command) => c.option('--name <name>', 'the secret\'s name, as pipelines write it after from_secret');
  const valued = (c: Command) =>
    c
      .option('--data <value>', 'the value; @FILE reads it from a file')
      .option('--allow-pull-request [bool]', 'pull requests from forks may use it (--allow-pull-request=false: they may not)');

  command('ls', 'list secrets (names and flags, never values)').action(
    act(ctx, async (call) => {
      const { path: at, query } = secretPath(call);
      const secrets = await call.client.get<(Secret | OrgSecret)[]>(at, query);
      print(call.io, call.format, secrets, () => table(['NAME', 'PULL REQUESTS'], secrets.map((s) => [s.name, s.pull_request])));
    }),
  );

  valued(named(command('add', 'add a secret'))).action(
    act(ctx, async (call) => {
      const body = { name: nameOf(call), data: dataOf(call, true), pull_request: booleanArg(call.opts.allowPullRequest, '--allow-pull-request') ?? false };
      const { path: at, query } = secretPath(call);
      show(call, await call.client.request<Secret | OrgSecret>('POST', at, { query, body }), 'added');
    }),
  );

  valued(named(command('update', 'change a secret\'s value or its pull request flag'))).action(
    act(ctx, async (call) => {
      const body = { data: dataOf(call, false), pull_request: booleanArg(call.opts.allowPullRequest, '--allow-pull-request') };
      if (body.data === undefined && body.pull_request === undefined) throw new UsageError('nothing to change: give --data, --allow-pull-request or both');
      const { path: at, query } = secretPath(call, nameOf(call));
      show(call, await call.client.request<Secret | OrgSecret>('PATCH', at, { query, body }), 'updated');
    }),
  );

  named(command('rm', 'remove a secret')).action(
    act(ctx, async (call) => {
      const name = nameOf(call);
      const { path: at, query } = secretPath(call, name);
      await call.client.request('DELETE', at, { query });
      if (call.format === 'table') call.io.stdout(`secret ${name} removed\n`);
    }),
  );
}

/** Where the secrets (or the one named) are: a repository's, or with --org a namespace's on --provider. */
function secretPath({ args, opts }: Invocation, name?: string): { path: string; query: Query } {
  const one = name === undefined ? '' : `/${encodeURIComponent(name)}`;
  if (opts.org !== undefined && args[0] !== undefined) throw new UsageError(`name a repository (${args[0]}) or --org ${opts.org}, not both`);
  if (opts.org !== undefined) {
    if (!/^[^/\s]+$/.test(opts.org as string)) throw new UsageError(`--org ${JSON.stringify(opts.org)} is not a namespace: write the owner alone, e.g. --org octocat`);
    // The server says which providers it has when --provider names another.
    return { path: `/api/secrets/${encodeURIComponent(opts.org as string)}${one}`, query: { provider: opts.provider as string | undefined } };
  }
  if (opts.provider !== undefined) throw new UsageError(`--provider picks an organisation's provider: give it with --org NAMESPACE; a repository's secrets need none`);
  if (args[0] === undefined) throw new UsageError('name the repository (owner/name), or an organisation with --org NAMESPACE');
  return { path: `/api/repos/${repoPath(repoArg(args[0]))}/secrets${one}`, query: {} };
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
