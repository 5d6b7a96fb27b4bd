#!/usr/bin/env node
// `npm start`, `npm test` and `npm run build` all come here: get this checkout and this
// machine ready, then hand over. Each step does nothing when its work is already done,
// so a ready machine reaches the server or the tests in well under two seconds.
//
//   node scripts/prepare.mjs start [args for `harrier up`]
//   node scripts/prepare.mjs test  [args for `vitest run`]   (npm test -- runner)
//   node scripts/prepare.mjs build
//
// Plain Node with no npm packages: it runs before node_modules exists.
import path from 'node:path';
import { ensureTypeScriptBuild, ensureWebBuild } from './prepare/build.mjs';
import { runChild } from './prepare/child.mjs';
import { dockerSocket, ensureDockerEngine } from './prepare/docker-engine.mjs';
import { acquireLock } from './prepare/lock.mjs';
import { ensureNodeModules } from './prepare/node-modules.mjs';
import { ensureTestPostgres } from './prepare/postgres-cluster.mjs';
import { ensurePrismaClients } from './prepare/prisma-client.mjs';
import { DEFAULT_REDIS_URL, ensureRedis, parseRedisUrl } from './prepare/redis-server.mjs';
import { PrepareError, say } from './prepare/shell.mjs';
import { ensureSystemPackages } from './prepare/system-packages.mjs';

const root = path.resolve(import.meta.dirname, '..');
const COMMANDS = ['start', 'test', 'build'];

async function prepare(command) {
  const env = process.env;
  const dataDir = path.resolve(root, env.HARRIER_DATA_DIR ?? 'data');
  const redisUrl = env.HARRIER_REDIS_URL || DEFAULT_REDIS_URL;
  /** What the child gets on top of our environment. */
  const childEnv = {};
  /** A failure that should not stop the tests from running, but fails the run. */
  let deferred = null;

  if (command !== 'build') {
    ensureSystemPackages(command, { env, redisIsLocal: parseRedisUrl(redisUrl).local, dockerIsLocal: dockerSocket(env) !== '' });
    await ensureDockerEngine({ dataDir, env });
    await ensureRedis({ url: redisUrl, dataDir });
    if (command === 'test') childEnv.HARRIER_TEST_POSTGRES_URL = ensureTestPostgres(env);
  }

  ensureNodeModules(root, { label: 'npm packages (better-sqlite3 compiles from source, about a minute)' });
  ensurePrismaClients(root);

  try {
    ensureTypeScriptBuild(root);
  } catch (err) {
    // Tests run from the TypeScript sources, so a type error elsewhere should not hide
    // their results; the run still fails, since CI runs nothing but `npm test`.
    if (command !== 'test' || !(err instanceof PrepareError)) throw err;
    deferred = err;
    say(`${err.message}; running the tests anyway, and npm test will fail`);
  }

  // The web UI is a separate package with its own install and build.
  ensureWebBuild(root);

  return { childEnv, deferred };
}

async function main() {
  const [command, ...rest] = process.argv.slice(2);
  if (!COMMANDS.includes(command)) {
    process.stderr.write(`usage: node scripts/prepare.mjs ${COMMANDS.join('|')} [args...]\n`);
    return 2;
  }
  process.chdir(root);
  const began = Date.now();
  const release = await acquireLock(root);
  let prepared;
  try {
    prepared = await prepare(command);
  } finally {
    release();
  }
  const seconds = (Date.now() - began) / 1000;
  if (seconds > 2) say(`ready after ${seconds.toFixed(1)} s`);
  if (command === 'build') return 0;

  const env = { ...process.env, ...prepared.childEnv };
  const code =
    command === 'start'
      ? await runChild(process.execPath, [path.join(root, 'bin/harrier.js'), 'up', ...rest], { cwd: root, env })
      : await runChild(path.join(root, 'node_modules/.bin/vitest'), ['run', ...rest], { cwd: root, env });
  if (prepared.deferred && code === 0) {
    say(`the tests passed, but ${prepared.deferred.message}`);
    return 1;
  }
  return code;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    if (err instanceof PrepareError) {
      process.stderr.write(`prepare: ${err.message}\n${err.hint ? `  ${err.hint}\n` : ''}`);
    } else {
      process.stderr.write(`prepare: unexpected failure: ${err?.stack ?? err}\n`);
    }
    process.exit(1);
  },
);
