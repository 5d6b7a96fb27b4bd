// The `harrier` command line.
import { Command, CommanderError, Option } from 'commander';
import { HARRIER_VERSION } from '../core/version.ts';
import { EXIT_USAGE, interruptSignal, processIO } from './command-io.ts';
import { addClientCommands, commanderExitCode } from './client/client-program.ts';

// Each command imports what it runs when it runs: a runner or a client command then starts
// without loading the server (Prisma, Express), and `harrier --help` without any of it.
const commands = () => import('./commands.ts');

const program = new Command('harrier')
  .description('Harrier: continuous integration in the style of Drone')
  .version(HARRIER_VERSION);

program.command('server').description('run the webhook and API server (applies pending migrations first)').action(async () => (await commands()).serverCommand());
program.command('runner').description('run a runner that executes stages in Docker').action(async () => (await commands()).runnerCommand());
program.command('up').description('run a server and one runner on the embedded defaults (SQLite, local Redis and Docker)').action(async () => (await commands()).upCommand());
program.command('migrate').description('apply pending database migrations and exit').action(async () => (await commands()).migrateCommand());

const collect = (value: string, previous: string[] = []) => [...previous, value];
// lint and exec exit 2 on a usage error, as their other failures (1) mean something else.
const exitOnUsageError = (err: { exitCode: number }) => process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);

program
  .command('lint')
  .description('check a pipeline file as the server does; problems print as FILE:LINE:COL message (exit 1 on errors)')
  .argument('[file]', 'the pipeline file', '.drone.yml')
  .option('--trusted', 'allow what only trusted repositories may do (privileged steps, host volumes)')
  .addOption(new Option('--format <format>', 'text, or json: the parsed pipelines (or {errors}) as JSON').choices(['text', 'json']).default('text'))
  .exitOverride(exitOnUsageError)
  .action(async (file: string, opts) => {
    const { lintCommand } = await import('./lint-command.ts');
    process.exit(lintCommand(file, opts));
  });

program
  .command('exec')
  .description('run a pipeline file here in Docker, on the working copy, with no server (exit 1 when a pipeline fails)')
  .argument('[file]', 'the pipeline file; its git repository (or folder) is the workspace', '.drone.yml')
  .option('--pipeline <name>', 'run only this pipeline (repeatable)', collect)
  .option('--event <event>', 'event to match triggers and conditions against', 'push')
  .option('--branch <branch>', 'branch (default: the checked-out branch, else main)')
  .option('--ref <ref>', 'git ref (default: refs/heads/BRANCH; for tags the tag at HEAD)')
  .option('--deploy-to <target>', 'promotion target, for `target:` conditions')
  .option('--trusted', 'allow what only trusted repositories may do (privileged steps, host volumes)')
  .option('--secret <name=value>', 'a secret for from_secret, masked in the output; NAME alone reads $NAME (repeatable)', collect)
  .option('--env <name=value>', 'a build parameter every step sees, also for ${NAME} (repeatable)', collect)
  .exitOverride(exitOnUsageError)
  .action(async (file: string, opts) => {
    const { execCommand } = await import('./exec-command.ts');
    const io = processIO();
    process.exit(await execCommand(file, opts, { io, interrupt: interruptSignal(io) }));
  });

// Client commands (build, repo, secret, cron, user, queue) talk to a server: HARRIER_SERVER, HARRIER_TOKEN.
addClientCommands(program, {
  io: processIO(),
  exit: (code) => {
    process.exitCode = code;
  },
});

program.parseAsync(process.argv).catch((error: Error) => {
  // Commander has printed its usage error already.
  if (error instanceof CommanderError) process.exit(commanderExitCode(error));
  process.stderr.write(`harrier: ${error.message}\n`);
  process.exit(1);
});
