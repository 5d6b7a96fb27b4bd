// The commands that talk to a Harrier server, added to the `harrier` program.
import { Command, CommanderError } from 'commander';
import { EXIT_OK, EXIT_USAGE, type CommandIO } from '../command-io.ts';
import { addBuildCommands } from './build-commands.ts';
import type { ClientContext } from './client-command.ts';
import { addCronCommands } from './cron-commands.ts';
import { addRepoCommands } from './repo-commands.ts';
import { addSecretCommands } from './secret-commands.ts';
import { addQueueCommand, addUserCommands } from './user-queue-commands.ts';

export function addClientCommands(program: Command, ctx: ClientContext): void {
  addBuildCommands(program, ctx);
  addRepoCommands(program, ctx);
  addSecretCommands(program, ctx);
  addCronCommands(program, ctx);
  addUserCommands(program, ctx);
  addQueueCommand(program, ctx);
}

/** The exit code of a usage error commander raised (help and --version are not errors). */
export function commanderExitCode(err: CommanderError): number {
  return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
}

/** Runs one client command in this process, as `harrier ARGS…` would, and gives its exit code. */
export async function runClientCommand(args: string[], io: CommandIO): Promise<number> {
  let code = EXIT_OK;
  const program = new Command('harrier').exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  addClientCommands(program, { io, exit: (c) => (code = c) });
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return commanderExitCode(err);
    throw err;
  }
  return code;
}
