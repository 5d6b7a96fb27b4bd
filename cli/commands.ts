// What each `harrier` command does; cli/main.ts only wires them to commander.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { favourSmallHeap } from '../core/heap-footprint.ts';
import { createLogger } from '../core/log.ts';
import { isLocalHost, loadServerConfig, type ServerConfig } from '../server/config.ts';

// The server (Prisma, Express, BullMQ) and the runner (dockerode) load only for the command
// that runs them: a runner process then starts in half the time, and pays none of the server's memory.
const server = () => import('../server/main.ts');
const runner = async () => ({ ...(await import('../runner/main.ts')), ...(await import('../runner/config.ts')) });

/** Resolves when the process is asked to stop (SIGTERM from an orchestrator, Ctrl-C). */
function stopSignal(): AbortSignal {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return controller.signal;
}

function whenAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
}

export async function serverCommand(): Promise<void> {
  favourSmallHeap();
  const signal = stopSignal();
  const { startServer } = await server();
  const running = await startServer(loadServerConfig());
  await whenAborted(signal);
  await running.close();
}

export async function runnerCommand(): Promise<void> {
  const signal = stopSignal();
  const { startRunner, loadRunnerConfig } = await runner();
  await startRunner(loadRunnerConfig(), { signal });
}

export async function migrateCommand(): Promise<void> {
  const logger = createLogger('migrate');
  const config = loadServerConfig();
  const [{ migrate }, { openDatabase }, { encryptStoredCredentials }] = await Promise.all([
    import('../server/db/migrate.ts'),
    import('../server/db/client.ts'),
    import('../server/secrets/stored-credentials.ts'),
  ]);
  const result = await migrate(config.databaseUrl);
  logger.info({ event: 'migrated', applied: result.applied, already_applied: result.alreadyApplied }, 'migrations applied');
  // Without the key the server seals plain credentials itself when it starts.
  if (config.databaseSecret.trim()) {
    const database = openDatabase(config.databaseUrl);
    try {
      await encryptStoredCredentials(database.db, config, logger);
    } finally {
      await database.close();
    }
  }
}

/** `harrier up` needs no setup: its secrets are made once and kept in the data folder. */
export function localSecret(dataDir: string, name: 'rpc-secret' | 'database-secret'): string {
  const file = path.join(dataDir, name);
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  fs.mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('hex');
  fs.writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/**
 * Whether `harrier up` lets the first account to sign in administer: someone trying Harrier
 * on their own machine needs an administrator without configuring one. Anywhere but
 * localhost, or once HARRIER_ADMINS names someone, arriving first makes nobody an administrator.
 */
export function firstUserAdminByDefault(config: Pick<ServerConfig, 'host' | 'admins'>): boolean {
  return isLocalHost(config.host) && config.admins.length === 0;
}

export async function upCommand(): Promise<void> {
  favourSmallHeap();
  const signal = stopSignal();
  const env = { ...process.env };
  const base = loadServerConfig(env);
  env.HARRIER_RPC_SECRET ||= localSecret(base.dataDir, 'rpc-secret');
  env.HARRIER_DATABASE_SECRET ||= localSecret(base.dataDir, 'database-secret');
  if (firstUserAdminByDefault(base)) env.HARRIER_FIRST_USER_ADMIN = 'true';
  const [{ startServer }, { startRunner, loadRunnerConfig }] = await Promise.all([server(), runner()]);
  const running = await startServer(loadServerConfig(env));
  env.HARRIER_SERVER_URL ||= `http://127.0.0.1:${running.port}`;
  const runnerStopped = startRunner(loadRunnerConfig(env), { signal });
  const admin = running.ctx.config.firstUserAdmin
    ? '  the first account to sign in becomes the administrator (embedded defaults on localhost); set HARRIER_ADMINS for a real installation\n'
    : '';
  process.stderr.write(`\nHarrier is up: open ${running.ctx.config.host}\n  webhooks: ${running.ctx.config.host}/hook\n${admin}  stop with Ctrl-C\n\n`);
  await Promise.all([whenAborted(signal), runnerStopped]);
  await runnerStopped;
  await running.close();
}
