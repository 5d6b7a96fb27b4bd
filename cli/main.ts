// The `harrier` command line.
import { Command } from 'commander';
import { HARRIER_VERSION } from '../core/version.ts';
import { migrateCommand, runnerCommand, serverCommand, upCommand } from './commands.ts';

const program = new Command('harrier')
  .description('Harrier: continuous integration in the style of Drone')
  .version(HARRIER_VERSION);

program.command('server').description('run the webhook and API server (applies pending migrations first)').action(serverCommand);
program.command('runner').description('run a runner that executes stages in Docker').action(runnerCommand);
program.command('up').description('run a server and one runner on the embedded defaults (SQLite, local Redis and Docker)').action(upCommand);
program.command('migrate').description('apply pending database migrations and exit').action(migrateCommand);

program.parseAsync(process.argv).catch((error: Error) => {
  process.stderr.write(`harrier: ${error.message}\n`);
  process.exit(1);
});
