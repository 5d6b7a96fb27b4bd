import fs from 'node:fs';
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

describe('settings the runner adds to every stage', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'harrier-config-test-'));
  const file = (name: string, text: string) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, text);
    return p;
  };

  it('adds nothing when none is set', () => {
    expect(load({}).stageSettings).toEqual({ privilegedImages: [], environ: {}, registryCredentials: [], netrcCloneOnly: false });
  });

  it('reads an env file with comments, blank lines, export and quotes', () => {
    const envFile = file('ok.env', '# proxies\n\nHTTP_PROXY=http://proxy:3128\nexport NO_PROXY="localhost,127.0.0.1"\nEMPTY=\nEQ=a=b\n');
    expect(load({ HARRIER_RUNNER_ENV_FILE: envFile }).stageSettings!.environ).toEqual({
      HTTP_PROXY: 'http://proxy:3128',
      NO_PROXY: 'localhost,127.0.0.1',
      EMPTY: '',
      EQ: 'a=b',
    });
  });

  it.each([
    ['no equals sign', 'A=1\n\njust words\n', /HARRIER_RUNNER_ENV_FILE=.*: line 3 is not KEY=VALUE: "just words"; write one KEY=VALUE per line/],
    ['a bad name', '# c\n1BAD=x\n', /line 2: "1BAD" is not a variable name/],
  ])('refuses an env file with %s, naming the line', (_what, text, message) => {
    expect(() => load({ HARRIER_RUNNER_ENV_FILE: file('bad.env', text) })).toThrow(message);
  });

  it('refuses a file it cannot read, naming the variable', () => {
    expect(() => load({ HARRIER_RUNNER_ENV_FILE: path.join(dir, 'missing.env') })).toThrow(/HARRIER_RUNNER_ENV_FILE=.*missing\.env cannot be read \(ENOENT\)/);
    expect(() => load({ HARRIER_RUNNER_REGISTRY_CONFIG: path.join(dir, 'missing.json') })).toThrow(/HARRIER_RUNNER_REGISTRY_CONFIG=.*missing\.json cannot be read \(ENOENT\)/);
  });

  it('reads registry logins from auth or username and password, and refuses a config without any', () => {
    const config = file('config.json', JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth: Buffer.from('hub:pw').toString('base64') }, 'ghcr.io': { username: 'gh', password: 'tok' } } }));
    expect(load({ HARRIER_RUNNER_REGISTRY_CONFIG: config }).stageSettings!.registryCredentials).toEqual([
      { registry: 'docker.io', username: 'hub', password: 'pw' },
      { registry: 'ghcr.io', username: 'gh', password: 'tok' },
    ]);
    expect(() => load({ HARRIER_RUNNER_REGISTRY_CONFIG: file('not.json', 'auths:') })).toThrow(/HARRIER_RUNNER_REGISTRY_CONFIG=.*not\.json is not JSON/);
    expect(() => load({ HARRIER_RUNNER_REGISTRY_CONFIG: file('helper.json', '{"credsStore":"desktop"}') })).toThrow(/holds no login: give "auths" entries/);
  });

  it('reads privileged images separated by commas and refuses what is not an image name', () => {
    expect(load({ HARRIER_RUNNER_PRIVILEGED_IMAGES: ' plugins/docker, localhost:5000/team/dind:1 ,' }).stageSettings!.privilegedImages).toEqual(['plugins/docker', 'localhost:5000/team/dind:1']);
    expect(() => load({ HARRIER_RUNNER_PRIVILEGED_IMAGES: 'plugins/docker plugins/ecr' })).toThrow(/"plugins\/docker plugins\/ecr" is not an image name; .*HARRIER_RUNNER_PRIVILEGED_IMAGES=plugins\/docker,plugins\/ecr/);
  });

  it('takes true or false for HARRIER_RUNNER_NETRC_CLONE_ONLY and refuses anything else', () => {
    expect(load({ HARRIER_RUNNER_NETRC_CLONE_ONLY: 'true' }).stageSettings!.netrcCloneOnly).toBe(true);
    expect(() => load({ HARRIER_RUNNER_NETRC_CLONE_ONLY: 'yes' })).toThrow('HARRIER_RUNNER_NETRC_CLONE_ONLY="yes" is not true or false; write HARRIER_RUNNER_NETRC_CLONE_ONLY=true or leave it empty');
  });
});
