// The runner's configuration, read once from HARRIER_* environment variables.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { StepLimits } from './backend/backend.ts';
import { parseDockerConfig, type RegistryCredential } from './backend/registry-auth.ts';
import { parseByteSize } from './byte-size.ts';
import { parseEnvFile } from './env-file.ts';
import type { RunnerStageSettings } from './stage-execution.ts';

export interface RunnerConfig {
  serverUrl: string;
  rpcSecret: string;
  name: string;
  /**
   * No HARRIER_RUNNER_NAME was given: the name is the host name, and a runner inside a
   * container of its own engine takes the container's name instead (startRunner).
   */
  nameFromHost?: boolean;
  capacity: number;
  labels: Record<string, string>;
  /**
   * Host folder where stage workspaces are cloned; must be visible to the Docker engine at
   * the same path. Each runner works in `<workspaceDir>/<name>/` and empties it at start.
   * Private to the runner's user (0700); default `$XDG_STATE_HOME/harrier/workspaces`.
   */
  workspaceDir: string;
  /** Memory, CPU and process limits of every step and service container; absent in tests that build a config by hand. */
  stepLimits?: StepLimits;
  /** Bytes of log a step may write before the rest is cut (HARRIER_RUNNER_LOG_LIMIT). Default 100 MiB. */
  logLimitBytes?: number;
  /**
   * On shutdown, how long running stages may go on; then stages whose steps have not
   * started are handed back to the server and the others are killed. Default 60.
   */
  shutdownGraceSeconds?: number;
  /** What the runner adds to every stage it runs: privileged plugins, environment, registry logins, netrc policy. */
  stageSettings?: RunnerStageSettings;
}

export class RunnerConfigError extends Error {}

export function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) {
      throw new RunnerConfigError(`HARRIER_RUNNER_LABELS: "${part}" is not key=value; write labels as key=value,key=value`);
    }
    labels[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return labels;
}

export const DEFAULT_MEMORY_LIMIT = 2 * 1024 ** 3;
export const DEFAULT_PIDS_LIMIT = 1024;
export const DEFAULT_LOG_LIMIT = 100 * 1024 ** 2;
/** Docker refuses a container memory limit below 6 MiB. */
const MIN_MEMORY = 6 * 1024 ** 2;
const MIN_LOG_LIMIT = 1024;

function sizeSetting(name: string, text: string | undefined, fallback: number, min: number, example: string, zero: string | undefined): number {
  if (text === undefined || text.trim() === '') return fallback;
  const bytes = parseByteSize(text);
  const how = `write bytes or a number with a unit (k, m, g), e.g. ${name}=${example}${zero ? ` (0 for ${zero})` : ''}`;
  if (bytes === undefined) throw new RunnerConfigError(`${name}="${text}" is not a size; ${how}`);
  if (bytes === 0 && zero) return 0;
  if (bytes < min) throw new RunnerConfigError(`${name}="${text}" is less than the smallest allowed, ${min} bytes; ${how}`);
  return bytes;
}

/** HARRIER_RUNNER_MEMORY_LIMIT, _CPU_LIMIT and _PIDS_LIMIT. */
export function parseStepLimits(env: NodeJS.ProcessEnv): StepLimits {
  const memoryBytes = sizeSetting('HARRIER_RUNNER_MEMORY_LIMIT', env.HARRIER_RUNNER_MEMORY_LIMIT, DEFAULT_MEMORY_LIMIT, MIN_MEMORY, '2g', 'no limit');
  let cpus: number | undefined;
  const cpuText = env.HARRIER_RUNNER_CPU_LIMIT?.trim();
  if (cpuText) {
    cpus = /^\d+(\.\d+)?$/.test(cpuText) ? Number(cpuText) : NaN;
    // Docker counts CPUs in hundredths at the finest.
    if (!(cpus === 0 || cpus >= 0.01)) {
      throw new RunnerConfigError(
        `HARRIER_RUNNER_CPU_LIMIT="${env.HARRIER_RUNNER_CPU_LIMIT}" is not a number of CPUs of at least 0.01; write e.g. HARRIER_RUNNER_CPU_LIMIT=1.5 (0 for no limit)`,
      );
    }
  }
  let pids = DEFAULT_PIDS_LIMIT;
  const pidsText = env.HARRIER_RUNNER_PIDS_LIMIT?.trim();
  if (pidsText) {
    pids = /^\d+$/.test(pidsText) ? Number(pidsText) : NaN;
    if (!Number.isSafeInteger(pids)) {
      throw new RunnerConfigError(
        `HARRIER_RUNNER_PIDS_LIMIT="${env.HARRIER_RUNNER_PIDS_LIMIT}" is not a whole number of processes; write e.g. HARRIER_RUNNER_PIDS_LIMIT=1024 (0 for no limit)`,
      );
    }
  }
  return { memoryBytes, cpus, pids };
}

/** A reference as Docker writes one: lower-case repository path, optional registry host:port, tag or digest. */
const IMAGE_REFERENCE = /^[a-z0-9][a-z0-9._-]*(:\d+)?(\/[a-z0-9][a-z0-9._-]*)*(:[\w][\w.-]*)?(@sha256:[0-9a-f]{64})?$/;

/** HARRIER_RUNNER_PRIVILEGED_IMAGES: comma-separated images, as Drone's DRONE_RUNNER_PRIVILEGED_IMAGES. */
export function parsePrivilegedImages(text: string | undefined): string[] {
  const images = (text ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const image of images) {
    if (!IMAGE_REFERENCE.test(image)) {
      throw new RunnerConfigError(
        `HARRIER_RUNNER_PRIVILEGED_IMAGES: "${image}" is not an image name; write names separated by commas, e.g. HARRIER_RUNNER_PRIVILEGED_IMAGES=plugins/docker,plugins/ecr`,
      );
    }
  }
  return images;
}

function readSettingFile(name: string, file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new RunnerConfigError(`${name}=${file} cannot be read (${why}); point it at a file the runner's user may read, or leave it empty`);
  }
}

/** HARRIER_RUNNER_ENV_FILE: variables every step and service gets, below its own. */
export function loadEnvFile(file: string | undefined): Record<string, string> {
  if (!file?.trim()) return {};
  const text = readSettingFile('HARRIER_RUNNER_ENV_FILE', file);
  try {
    return parseEnvFile(text);
  } catch (err) {
    throw new RunnerConfigError(`HARRIER_RUNNER_ENV_FILE=${file}: ${(err as Error).message}; write one KEY=VALUE per line (# starts a comment)`);
  }
}

/** HARRIER_RUNNER_REGISTRY_CONFIG: a Docker config.json whose logins every image pull may use. */
export function loadRegistryConfig(file: string | undefined): RegistryCredential[] {
  if (!file?.trim()) return [];
  const text = readSettingFile('HARRIER_RUNNER_REGISTRY_CONFIG', file);
  let credentials: RegistryCredential[];
  try {
    credentials = parseDockerConfig(text);
  } catch (err) {
    throw new RunnerConfigError(`HARRIER_RUNNER_REGISTRY_CONFIG=${file} ${(err as Error).message}`);
  }
  if (credentials.length === 0) {
    throw new RunnerConfigError(
      `HARRIER_RUNNER_REGISTRY_CONFIG=${file} holds no login: give "auths" entries with "auth" (base64 of user:password) or "username" and "password" (credential helpers are not read)`,
    );
  }
  return credentials;
}

function booleanSetting(name: string, text: string | undefined): boolean {
  const value = (text ?? '').trim().toLowerCase();
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  throw new RunnerConfigError(`${name}="${text}" is not true or false; write ${name}=true or leave it empty`);
}

/**
 * Where workspaces go without HARRIER_RUNNER_WORKSPACE: the user's state folder, as the XDG
 * base directory rules place it. A fixed folder under /tmp could be made first by another
 * user of the host, who would then read or change every build's files.
 */
export function defaultWorkspaceDir(env: NodeJS.ProcessEnv): string {
  const state = env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : path.join(os.homedir(), '.local', 'state');
  return path.join(state, 'harrier', 'workspaces');
}

export function loadRunnerConfig(env: NodeJS.ProcessEnv = process.env): RunnerConfig {
  const capacity = Number(env.HARRIER_RUNNER_CAPACITY ?? 2);
  if (!Number.isInteger(capacity) || capacity < 1) {
    throw new RunnerConfigError(`HARRIER_RUNNER_CAPACITY=${env.HARRIER_RUNNER_CAPACITY} must be a whole number of at least 1`);
  }
  const grace = Number(env.HARRIER_RUNNER_GRACE_SECONDS ?? 60);
  if (!Number.isFinite(grace) || grace < 0) {
    throw new RunnerConfigError(`HARRIER_RUNNER_GRACE_SECONDS=${env.HARRIER_RUNNER_GRACE_SECONDS} must be a number of seconds, 0 or more`);
  }
  const serverUrl = (env.HARRIER_SERVER_URL || 'http://localhost:8080').replace(/\/+$/, '');
  const rpcSecret = env.HARRIER_RPC_SECRET ?? '';
  if (!rpcSecret) {
    throw new RunnerConfigError('HARRIER_RPC_SECRET is empty; set it to the server\'s shared secret, or to a runner token an administrator issued for this runner\'s name (Runners page)');
  }
  return {
    serverUrl,
    rpcSecret,
    name: env.HARRIER_RUNNER_NAME || os.hostname(),
    nameFromHost: !env.HARRIER_RUNNER_NAME,
    capacity,
    labels: parseLabels(env.HARRIER_RUNNER_LABELS ?? ''),
    workspaceDir: path.resolve(env.HARRIER_RUNNER_WORKSPACE || defaultWorkspaceDir(env)),
    shutdownGraceSeconds: grace,
    stepLimits: parseStepLimits(env),
    logLimitBytes: sizeSetting('HARRIER_RUNNER_LOG_LIMIT', env.HARRIER_RUNNER_LOG_LIMIT, DEFAULT_LOG_LIMIT, MIN_LOG_LIMIT, '100m', undefined),
    stageSettings: {
      privilegedImages: parsePrivilegedImages(env.HARRIER_RUNNER_PRIVILEGED_IMAGES),
      environ: loadEnvFile(env.HARRIER_RUNNER_ENV_FILE),
      registryCredentials: loadRegistryConfig(env.HARRIER_RUNNER_REGISTRY_CONFIG),
      netrcCloneOnly: booleanSetting('HARRIER_RUNNER_NETRC_CLONE_ONLY', env.HARRIER_RUNNER_NETRC_CLONE_ONLY),
    },
  };
}
