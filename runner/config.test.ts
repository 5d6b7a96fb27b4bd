import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRunnerConfig, RunnerConfigError } from './config.ts';
import { formatByteSize, parseByteSize } from './byte-size.ts';

const base = { HARRIER_RPC_SECRET: 's' };
const load = (env: Record<string, string>) => loadRunnerConfig({ ...base, ...env });

describe('runner limits', () => {
  it('defaults to 2 GiB of memory, 1024 processes, CPUs settled by the backend, and 100 MiB of log per step', () => {
    const config = load({});
    expect(config.stepLimits).toEqual({ memoryBytes: 2 * 1024 ** 3, cpus: undefined, pids: 1024 });
    expect(config.logLimitBytes).toBe(104857600);
  });

  it('reads sizes as bytes or with Docker units, CPUs as a decimal, and 0 as no limit', () => {
    expect(load({ HARRIER_RUNNER_MEMORY_LIMIT: '512m', HARRIER_RUNNER_CPU_LIMIT: '1.5', HARRIER_RUNNER_PIDS_LIMIT: '64' }).stepLimits).toEqual({
      memoryBytes: 512 * 1024 ** 2,
      cpus: 1.5,
      pids: 64,
    });
    expect(load({ HARRIER_RUNNER_MEMORY_LIMIT: '1073741824' }).stepLimits!.memoryBytes).toBe(1024 ** 3);
    expect(load({ HARRIER_RUNNER_MEMORY_LIMIT: '1.5GB' }).stepLimits!.memoryBytes).toBe(1.5 * 1024 ** 3);
    expect(load({ HARRIER_RUNNER_MEMORY_LIMIT: '0', HARRIER_RUNNER_CPU_LIMIT: '0', HARRIER_RUNNER_PIDS_LIMIT: '0' }).stepLimits).toEqual({
      memoryBytes: 0,
      cpus: 0,
      pids: 0,
    });
    expect(load({ HARRIER_RUNNER_LOG_LIMIT: '100m' }).logLimitBytes).toBe(104857600);
    expect(load({ HARRIER_RUNNER_LOG_LIMIT: '4096' }).logLimitBytes).toBe(4096);
  });

  it.each([
    ['HARRIER_RUNNER_MEMORY_LIMIT', 'lots', /HARRIER_RUNNER_MEMORY_LIMIT="lots" is not a size; .*e\.g\. HARRIER_RUNNER_MEMORY_LIMIT=2g/],
    ['HARRIER_RUNNER_MEMORY_LIMIT', '-1g', /is not a size/],
    ['HARRIER_RUNNER_MEMORY_LIMIT', '1m', /HARRIER_RUNNER_MEMORY_LIMIT="1m" is less than the smallest allowed, 6291456 bytes/],
    ['HARRIER_RUNNER_CPU_LIMIT', 'two', /HARRIER_RUNNER_CPU_LIMIT="two" is not a number of CPUs .*e\.g\. HARRIER_RUNNER_CPU_LIMIT=1\.5/],
    ['HARRIER_RUNNER_CPU_LIMIT', '0.001', /not a number of CPUs of at least 0\.01/],
    ['HARRIER_RUNNER_PIDS_LIMIT', '10.5', /HARRIER_RUNNER_PIDS_LIMIT="10\.5" is not a whole number of processes; write e\.g\. HARRIER_RUNNER_PIDS_LIMIT=1024/],
    ['HARRIER_RUNNER_LOG_LIMIT', '100 lines', /HARRIER_RUNNER_LOG_LIMIT="100 lines" is not a size; .*e\.g\. HARRIER_RUNNER_LOG_LIMIT=100m/],
    ['HARRIER_RUNNER_LOG_LIMIT', '0', /HARRIER_RUNNER_LOG_LIMIT="0" is less than the smallest allowed, 1024 bytes/],
  ])('refuses %s=%s, naming the variable and an example', (name, value, message) => {
    expect(() => load({ [name]: value })).toThrow(RunnerConfigError);
    expect(() => load({ [name]: value })).toThrow(message);
  });
});

describe('runner workspace', () => {
  it('defaults to the user state folder rather than a shared /tmp path', () => {
    expect(load({}).workspaceDir).toBe(path.join(os.homedir(), '.local', 'state', 'harrier', 'workspaces'));
    expect(load({ XDG_STATE_HOME: '/srv/state' }).workspaceDir).toBe('/srv/state/harrier/workspaces');
    expect(load({ XDG_STATE_HOME: 'relative' }).workspaceDir).toBe(path.join(os.homedir(), '.local', 'state', 'harrier', 'workspaces'));
    expect(load({ HARRIER_RUNNER_WORKSPACE: '/var/lib/ws' }).workspaceDir).toBe('/var/lib/ws');
  });
});

describe('byte sizes', () => {
  it('parses and formats', () => {
    expect(parseByteSize('2g')).toBe(2 * 1024 ** 3);
    expect(parseByteSize('512 MiB')).toBe(512 * 1024 ** 2);
    expect(parseByteSize('12kb')).toBe(12 * 1024);
    expect(parseByteSize('1e3')).toBeUndefined();
    expect(formatByteSize(104857600)).toBe('100 MiB');
    expect(formatByteSize(1536)).toBe('1.5 KiB');
    expect(formatByteSize(10)).toBe('10 bytes');
  });
});
