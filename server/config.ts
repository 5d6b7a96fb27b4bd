// The server's configuration, read once from HARRIER_* environment variables.
// The variable names are a public contract: the README lists every one.
import path from 'node:path';
import { databaseSecretProblem } from './secrets/secret-box.ts';

export interface ProviderConfig {
  clientId: string;
  clientSecret: string;
  /** Web URL, where OAuth authorize and access_token live. */
  url: string;
  /** REST API base URL. */
  apiUrl: string;
}

export interface ServerConfig {
  /** Public base URL, used for webhook, OAuth redirect and build links. No trailing slash. */
  host: string;
  port: number;
  databaseUrl: string;
  redisUrl: string;
  /** Prefix of every Redis key and channel, so several installations can share one Redis. */
  redisPrefix: string;
  rpcSecret: string;
  github: ProviderConfig;
  bitbucket: ProviderConfig;
  /** Folder for the embedded SQLite database and other local state. */
  dataDir: string;
  /** Secure session cookies; on when HARRIER_HOST is https. */
  secureCookies: boolean;
  /** HARRIER_DATABASE_SECRET: the key repository secrets are encrypted with (server/secrets/secret-box.ts); '' when unset. */
  databaseSecret: string;
  /** HARRIER_METRICS_TOKEN: the Bearer token GET /metrics requires; '' leaves /metrics open on a local install only. */
  metricsToken: string;
  /** HARRIER_LEASE_SECONDS: how long a runner holds a stage without a ping before the server takes it back. */
  leaseSeconds: number;
}

export class ConfigError extends Error {}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

export function loadServerConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const port = Number(env.HARRIER_PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`HARRIER_PORT=${env.HARRIER_PORT} is not a port number; set it to an integer between 0 and 65535`);
  }
  const dataDir = path.resolve(env.HARRIER_DATA_DIR ?? 'data');
  const host = trimSlash(env.HARRIER_HOST || `http://localhost:${port}`);
  if (!/^https?:\/\/[^/]+/.test(host)) {
    throw new ConfigError(`HARRIER_HOST=${host} must be an http:// or https:// URL, e.g. http://localhost:8080`);
  }
  const rpcSecret = env.HARRIER_RPC_SECRET ?? '';
  const leaseSeconds = Number(env.HARRIER_LEASE_SECONDS || 60);
  if (!Number.isInteger(leaseSeconds) || leaseSeconds < 2) {
    throw new ConfigError(`HARRIER_LEASE_SECONDS=${env.HARRIER_LEASE_SECONDS} must be a whole number of seconds, 2 or more (default 60)`);
  }
  const databaseSecret = env.HARRIER_DATABASE_SECRET ?? '';
  const keyProblem = databaseSecret.trim() ? databaseSecretProblem(databaseSecret) : undefined;
  if (keyProblem) throw new ConfigError(keyProblem);
  return {
    host,
    port,
    databaseUrl: env.HARRIER_DATABASE_URL || `file:${path.join(dataDir, 'harrier.sqlite')}`,
    redisUrl: env.HARRIER_REDIS_URL || 'redis://127.0.0.1:6379',
    redisPrefix: env.HARRIER_REDIS_PREFIX || 'harrier',
    rpcSecret,
    github: {
      clientId: env.HARRIER_GITHUB_CLIENT_ID ?? '',
      clientSecret: env.HARRIER_GITHUB_CLIENT_SECRET ?? '',
      url: trimSlash(env.HARRIER_GITHUB_URL || 'https://github.com'),
      apiUrl: trimSlash(env.HARRIER_GITHUB_API_URL || 'https://api.github.com'),
    },
    bitbucket: {
      clientId: env.HARRIER_BITBUCKET_CLIENT_ID ?? '',
      clientSecret: env.HARRIER_BITBUCKET_CLIENT_SECRET ?? '',
      url: trimSlash(env.HARRIER_BITBUCKET_URL || 'https://bitbucket.org'),
      apiUrl: trimSlash(env.HARRIER_BITBUCKET_API_URL || 'https://api.bitbucket.org'),
    },
    dataDir,
    secureCookies: host.startsWith('https://'),
    databaseSecret,
    metricsToken: (env.HARRIER_METRICS_TOKEN ?? '').trim(),
    leaseSeconds,
  };
}
