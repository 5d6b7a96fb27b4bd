// The runner's configuration, read once from HARRIER_* environment variables.
import os from 'node:os';
import path from 'node:path';

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
   */
  workspaceDir: string;
  /**
   * On shutdown, how long running stages may go on; then stages whose steps have not
   * started are handed back to the server and the others are killed. Default 60.
   */
  shutdownGraceSeconds?: number;
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
    throw new RunnerConfigError('HARRIER_RPC_SECRET is empty; set it to the same secret the server uses');
  }
  return {
    serverUrl,
    rpcSecret,
    name: env.HARRIER_RUNNER_NAME || os.hostname(),
    nameFromHost: !env.HARRIER_RUNNER_NAME,
    capacity,
    labels: parseLabels(env.HARRIER_RUNNER_LABELS ?? ''),
    workspaceDir: path.resolve(env.HARRIER_RUNNER_WORKSPACE || path.join(os.tmpdir(), 'harrier-workspaces')),
    shutdownGraceSeconds: grace,
  };
}
