// The `harrier` command line.
import { Command, Option } from 'commander';
import { HARRIER_VERSION } from '../core/version.ts';
import { EXIT_USAGE } from './command-io.ts';
import { migrateCommand, runnerCommand, serverCommand, upCommand } from './commands.ts';
import { lintCommand } from './lint-command.ts';

const program = new Command('harrier')
  .description('Harrier: continuous integration in the style of Drone')
  .version(HARRIER_VERSION);

program.command('server').description('run the webhook and API server (applies pending migrations first)').action(serverCommand);
program.command('runner').description('run a runner that executes stages in Docker').action(runnerCommand);
program.command('up').description('run a server and one runner on the embedded defaults (SQLite, local Redis and Docker)').action(upCommand);
program.command('migrate').description('apply pending database migrations and exit').action(migrateCommand);

// lint exits 2 on a usage error, as its other failure (1) means errors in the file.
const exitOnUsageError = (err: { exitCode: number }) => process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);

program
  .command('lint')
  .description('check a pipeline file as the server does; problems print as FILE:LINE:COL: message (exit 1 on errors)')
  .argument('[file]', 'the pipeline file', '.drone.yml')
  .option('--trusted', 'allow what only trusted repositories may do (privileged steps, host volumes)')
  .addOption(new Option('--format <format>', 'text, or json: the parsed pipelines (or {errors}) as JSON').choices(['text', 'json']).default('text'))
  .exitOverride(exitOnUsageError)
  .action((file: string, opts) => process.exit(lintCommand(file, opts)));

program.parseAsync(process.argv).catch((error: Error) => {
  process.stderr.write(`harrier: ${error.message}\n`);
  process.exit(1);
});
