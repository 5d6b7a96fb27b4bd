// Redis holds the build queue (BullMQ). When HARRIER_REDIS_URL names this machine and
// nothing answers there, start a redis-server of our own, daemonized, data in the data dir.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { PrepareError, capture, indent, say, tail, waitFor, which } from './shell.mjs';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** { host, port, password, local } from a redis:// URL; local when we may start a server for it. */
export function parseRedisUrl(text = DEFAULT_REDIS_URL) {
  let url;
  try {
    url = new URL(text);
  } catch {
    throw new PrepareError(`HARRIER_REDIS_URL=${text} is not a URL`, 'Write it as redis://host:port, e.g. redis://127.0.0.1:6379');
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return {
    host,
    port: Number(url.port || 6379),
    password: decodeURIComponent(url.password),
    local: url.protocol === 'redis:' && LOCAL_HOSTS.has(url.hostname),
  };
}

/**
 * Sends PING by hand. Resolves 'pong' (a Redis answered, perhaps asking for a password,
 * which the app handles), 'absent' (connection refused) or 'foreign' (something else
 * listens there, or nothing answered in time).
 */
export function pingRedis(host, port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let reply = '';
    const finish = (result) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => finish('foreign'));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (!reply.includes('\r\n')) return;
      // +PONG, or an error such as -NOAUTH / -WRONGPASS: either way it speaks Redis.
      finish(reply.startsWith('+') || reply.startsWith('-') ? 'pong' : 'foreign');
    });
    socket.on('error', (err) => finish(/** @type {any} */ (err).code === 'ECONNREFUSED' ? 'absent' : 'foreign'));
    socket.on('end', () => finish('foreign'));
  });
}

/** Where our redis-server for `port` keeps its files: data/redis, or data/redis-<port> for another port. */
export function redisDir(dataDir, port) {
  return path.join(dataDir, port === 6379 ? 'redis' : `redis-${port}`);
}

/**
 * Makes sure Redis answers at `url`. Returns the pid file of a server it started, or ''.
 * Persistence is on (append-only file) whatever the command: a server `npm test` started
 * is the one a later `npm start` finds and keeps using.
 */
export async function ensureRedis({ url = DEFAULT_REDIS_URL, dataDir, timeoutMs = 10_000, redisServer = 'redis-server' }) {
  const { host, port, password, local } = parseRedisUrl(url);
  const state = await pingRedis(host, port);
  if (state === 'pong') return '';
  if (state === 'foreign') {
    throw new PrepareError(
      `something listens on ${host}:${port} but does not answer Redis's PING`,
      `Stop it, or point HARRIER_REDIS_URL at a Redis server (now ${url}).`,
    );
  }
  if (!local) {
    throw new PrepareError(`Redis does not answer at ${url}`, 'Start that server, or unset HARRIER_REDIS_URL to use a local one that npm starts.');
  }
  const binary = redisServer.includes('/') ? redisServer : which(redisServer);
  if (!binary) {
    throw new PrepareError('redis-server is not installed', 'Install Debian\'s redis-server package (npm does it when run as root).');
  }
  const dir = redisDir(dataDir, port);
  fs.mkdirSync(dir, { recursive: true });
  const log = path.join(dir, 'redis.log');
  const pidFile = path.join(dir, 'redis.pid');
  // "localhost" may resolve to ::1 first; the leading "-" lets Redis skip an address it cannot bind.
  const bind = host === 'localhost' ? ['127.0.0.1', '-::1'] : [host];
  const args = [
    '--bind', ...bind,
    '--port', String(port),
    '--daemonize', 'yes',
    '--dir', dir,
    '--logfile', log,
    '--pidfile', pidFile,
    '--save', '',
    '--appendonly', 'yes',
  ];
  if (password) args.push('--requirepass', password);
  say(`starting Redis on ${host}:${port} (data and log in ${path.relative(process.cwd(), dir) || dir})`);
  const started = capture(binary, args);
  if (!started.ok) {
    throw new PrepareError(`redis-server did not start: ${(started.stderr + started.stdout).trim()}\n${indent(tail(log))}`);
  }
  await waitFor(async () => (await pingRedis(host, port, 500)) === 'pong', {
    timeoutMs,
    onTimeout: () => new PrepareError(`Redis did not answer on ${host}:${port} within ${timeoutMs / 1000} s; the end of ${log}:\n${indent(tail(log))}`),
  });
  return pidFile;
}
