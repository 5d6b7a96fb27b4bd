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
  /** HARRIER_GITHUB_ALLOW_SHA1: accept GitHub deliveries signed with SHA-1 only (X-Hub-Signature), for old GitHub Enterprise servers. */
  githubAllowSha1: boolean;
  /** HARRIER_USER_FILTER: logins and organisations/workspaces allowed to sign in (lower case); empty lets anyone in. */
  userFilter: string[];
  /** HARRIER_ADMINS: administrators, as "login" (any provider) or "provider:login" (lower case). */
  admins: string[];
  /** HARRIER_FIRST_USER_ADMIN: the first account to sign in becomes administrator; set only by `harrier up` on localhost. */
  firstUserAdmin: boolean;
  /** HARRIER_TOKEN_DAYS: how long a new personal API token lasts unless its creator asks otherwise. */
  tokenDays: number;
  /** HARRIER_LOG_RETENTION_DAYS: finished builds' logs are removed this many days after they finish; 0 keeps them. */
  logRetentionDays: number;
  /** HARRIER_LOG_RETENTION_BUILDS: only the newest this many builds of each repository keep their logs; 0 keeps all. */
  logRetentionBuilds: number;
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
  const tokenDays = Number(env.HARRIER_TOKEN_DAYS || 90);
  if (!Number.isInteger(tokenDays) || tokenDays < 1 || tokenDays > MAX_TOKEN_DAYS) {
    throw new ConfigError(`HARRIER_TOKEN_DAYS=${env.HARRIER_TOKEN_DAYS} must be a whole number of days from 1 to ${MAX_TOKEN_DAYS} (default 90)`);
  }
  const admins = nameList(env.HARRIER_ADMINS);
  for (const entry of admins) {
    const [provider, login] = entry.includes(':') ? entry.split(':', 2) : ['', entry];
    if ((provider && !ADMIN_PROVIDERS.includes(provider)) || !login) {
      throw new ConfigError(
        `HARRIER_ADMINS has "${entry}", which is not a login nor ${ADMIN_PROVIDERS.map((p) => `"${p}:<login>"`).join(' or ')}; list logins separated by commas, e.g. HARRIER_ADMINS=alice,github:bob`,
      );
    }
  }
  const firstUserAdmin = flag('HARRIER_FIRST_USER_ADMIN', env.HARRIER_FIRST_USER_ADMIN);
  if (firstUserAdmin && !isLocalHost(host)) {
    throw new ConfigError(
      `HARRIER_FIRST_USER_ADMIN is only for harrier up's embedded defaults on localhost, and HARRIER_HOST is ${host}; unset it and name administrators in HARRIER_ADMINS`,
    );
  }
  const logRetentionDays = wholeNumber('HARRIER_LOG_RETENTION_DAYS', env.HARRIER_LOG_RETENTION_DAYS, 'days', 'keeps logs forever');
  const logRetentionBuilds = wholeNumber('HARRIER_LOG_RETENTION_BUILDS', env.HARRIER_LOG_RETENTION_BUILDS, 'builds per repository', 'keeps the logs of every build');
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
    githubAllowSha1: flag('HARRIER_GITHUB_ALLOW_SHA1', env.HARRIER_GITHUB_ALLOW_SHA1),
    userFilter: nameList(env.HARRIER_USER_FILTER),
    admins,
    firstUserAdmin,
    tokenDays,
    logRetentionDays,
    logRetentionBuilds,
  };
}

/** A count that may be 0 (the variable's "no limit"); unset is 0. Callers pass env.NAME itself, for the README test. */
function wholeNumber(name: string, raw: string | undefined, unit: string, zeroMeans: string): number {
  const value = (raw ?? '').trim();
  if (value === '') return 0;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new ConfigError(`${name}=${raw} must be a whole number of ${unit}, or 0, which ${zeroMeans} (the default)`);
  }
  return Number(value);
}

/** Ten years: a token that lives longer is one nobody remembers to revoke. */
export const MAX_TOKEN_DAYS = 3650;
const ADMIN_PROVIDERS = ['github', 'bitbucket'];

/** A comma-separated list of logins or names, trimmed and lower-cased (providers compare them without case). */
function nameList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((v) => v.trim().toLowerCase())
    .filter(Boolean);
}

/** A true/false variable. Callers pass env.NAME itself, so the README test sees which variables are read. */
function flag(name: string, raw: string | undefined): boolean {
  const value = (raw ?? '').trim().toLowerCase();
  if (value === '' || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  throw new ConfigError(`${name}=${raw} must be true or false`);
}

/** Whether HARRIER_HOST names this machine only (localhost, 127.0.0.0/8, ::1). */
export function isLocalHost(host: string): boolean {
  const hostname = new URL(host).hostname.replace(/^\[|\]$/g, '');
  return hostname === 'localhost' || hostname.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(hostname) || hostname === '::1';
}
