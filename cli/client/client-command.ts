// What every command that talks to a server shares: --server, --token and --format,
// the connection they make, and how a failure ends it (the server's message on stderr,
// EXIT_PROBLEMS; a mistake in the call itself, EXIT_USAGE).
import { Command, Option } from 'commander';
import { EXIT_PROBLEMS, EXIT_USAGE, UsageError, type CommandIO } from '../command-io.ts';
import { ClientError, HarrierClient } from './harrier-client.ts';
import type { Format } from './output.ts';

export interface ClientContext {
  io: CommandIO;
  /** Ends the command with this code once it has finished. */
  exit(code: number): void;
}

export interface Invocation {
  /** The command's arguments in order; missing optional ones are undefined. */
  args: (string | undefined)[];
  opts: Record<string, unknown>;
  client: HarrierClient;
  format: Format;
  io: CommandIO;
}

/** A subcommand of `parent` with the options every client command takes; add arguments, then `.action(act(...))`. */
export function clientCommand(parent: Command, name: string, description: string): Command {
  return parent
    .command(name)
    .description(description)
    .option('-s, --server <url>', 'the Harrier server (default: $HARRIER_SERVER)')
    .option('-t, --token <token>', 'a personal token (default: $HARRIER_TOKEN)')
    .addOption(new Option('--format <format>', 'table for people, json for scripts').choices(['table', 'json']).default('table'));
}

/** A group of client commands (`harrier build …`), whose usage errors end with EXIT_USAGE. */
export function commandGroup(program: Command, name: string, description: string): Command {
  return program.command(name).description(description).exitOverride();
}

export function act(ctx: ClientContext, run: (call: Invocation) => Promise<void>): (...given: unknown[]) => Promise<void> {
  return async (...given) => {
    const command = given[given.length - 1] as Command;
    const opts = command.opts();
    try {
      const client = HarrierClient.connect({ server: opts.server as string | undefined, token: opts.token as string | undefined }, ctx.io.env);
      await run({ args: command.processedArgs as (string | undefined)[], opts, client, format: opts.format as Format, io: ctx.io });
    } catch (err) {
      if (!(err instanceof UsageError || err instanceof ClientError)) throw err;
      ctx.io.stderr(`harrier: ${err.message}\n`);
      ctx.exit(err instanceof UsageError ? EXIT_USAGE : EXIT_PROBLEMS);
    }
  };
}

/** `owner/name`, or a UsageError that shows how to write it. */
export function repoArg(value: string | undefined): string {
  if (!value || !/^[^/\s]+\/[^/\s]+$/.test(value)) {
    throw new UsageError(`${JSON.stringify(value ?? '')} is not a repository: write it as owner/name, e.g. octocat/hello-world`);
  }
  return value;
}

/** A whole number of at least 1 given as `what`. */
export function countArg(value: string | undefined, what: string): number {
  const n = Number(value);
  if (!value || !Number.isInteger(n) || n < 1) throw new UsageError(`${what} must be a whole number of at least 1, not ${JSON.stringify(value ?? '')}`);
  return n;
}

/** Drone's boolean flags: `--flag` alone is true, `--flag=false` false. */
export function booleanArg(value: unknown, flag: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === true || value === 'true' || value === 'yes') return true;
  if (value === 'false' || value === 'no') return false;
  throw new UsageError(`${flag} takes true or false, not ${JSON.stringify(value)} (e.g. ${flag}=false)`);
}
