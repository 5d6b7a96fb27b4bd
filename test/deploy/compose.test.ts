// docker-compose.yaml and the Dockerfile cannot be run here (no container registry), so
// these tests hold them to the contract they must keep: the services and their order of
// start, the environment variables the code reads and the README documents, and an image
// whose pruned node_modules has every package the product imports.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = path.resolve(import.meta.dirname, '../..');
const read = (rel: string) => fs.readFileSync(path.join(root, rel), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  user?: string;
  ports?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}

const compose = parse(read('docker-compose.yaml'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;

/** What compose makes of "${NAME:-default}", "${NAME:?error}" and "${NAME}" when NAME is unset. */
function interpolate(value: string): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?::?([-?])([^}]*))?\}/g, (_m, _name, op, arg) => (op === '-' ? arg : op === '?' ? 'required' : ''));
}

/** The variables listed in the README's Configuration section, per table heading. */
function documentedVariables(): Map<string, Set<string>> {
  const readme = read('README.md');
  const start = readme.indexOf('## Configuration');
  const end = readme.indexOf('\n## ', start + 1);
  expect(start).toBeGreaterThan(-1);
  const tables = new Map<string, Set<string>>();
  let heading = '';
  for (const line of readme.slice(start, end === -1 ? undefined : end).split('\n')) {
    const h = /^### (.+)/.exec(line);
    if (h) tables.set((heading = h[1].trim()), new Set());
    const row = /^\| `(HARRIER_[A-Z0-9_]+)` \|/.exec(line);
    if (row && heading) tables.get(heading)!.add(row[1]);
  }
  return tables;
}

/** Product source files (not tests, not generated code), relative to the root. */
function productSources(): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const full = path.join(root, rel);
    if (!fs.existsSync(full)) return;
    for (const entry of fs.readdirSync(full, { withFileTypes: true })) {
      const child = path.join(rel, entry.name);
      if (entry.isDirectory()) {
        if (!['node_modules', 'generated', 'dist', 'testing'].includes(entry.name)) walk(child);
      } else if (/\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name)) {
        out.push(child);
      }
    }
  };
  for (const dir of ['cli', 'core', 'pipeline', 'server', 'runner']) walk(dir);
  return out;
}

/** HARRIER_* names the product reads from the environment, with a file that reads each. */
function variablesReadByCode(files: string[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const file of files) {
    for (const m of read(file).matchAll(/env(?:\.|\[['"])(HARRIER_[A-Z0-9_]+)/g)) names.set(m[1], file);
  }
  return names;
}

describe('docker-compose.yaml', () => {
  it('has the server, runner, migrate, redis and postgres services', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['server', 'runner', 'migrate', 'redis', 'postgres']));
    expect(services.redis.image).toBe('redis:7');
    expect(services.postgres.image).toBe('postgres:16');
    expect(services.postgres.healthcheck?.test.join(' ')).toContain('pg_isready');
    for (const name of ['server', 'runner', 'migrate']) {
      expect(services[name].image, name).toBe('harrier:local');
      expect(services[name].build, name).toBe('.');
    }
    expect(services.server.command).toEqual(['server']);
    expect(services.runner.command).toEqual(['runner']);
    expect(services.migrate.command).toEqual(['migrate']);
  });

  it('starts the server only after the migration succeeded and the stores are healthy', () => {
    expect(services.server.depends_on).toEqual({
      migrate: { condition: 'service_completed_successfully' },
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
    });
    expect(services.migrate.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(services.migrate.environment?.HARRIER_DATABASE_URL).toBe(services.server.environment?.HARRIER_DATABASE_URL);
  });

  it('wires the server to PostgreSQL and Redis, and the runner to the server', () => {
    const server = services.server.environment!;
    expect(server.HARRIER_DATABASE_URL).toBe('postgres://harrier:harrier@postgres:5432/harrier');
    expect(server.HARRIER_REDIS_URL).toBe('redis://redis:6379');
    expect(services.server.ports).toContain('8080:8080');
    expect(interpolate(server.HARRIER_HOST)).toBe('http://localhost:8080');
    expect(services.runner.environment!.HARRIER_SERVER_URL).toBe('http://server:8080');
    // Both must hold the same secret, and compose must refuse to start without one.
    expect(server.HARRIER_RPC_SECRET).toMatch(/^\$\{HARRIER_RPC_SECRET:\?/);
    expect(services.runner.environment!.HARRIER_RPC_SECRET).toBe(server.HARRIER_RPC_SECRET);
    // Provider tokens and webhook secrets are stored encrypted: no key, no server.
    expect(server.HARRIER_DATABASE_SECRET).toMatch(/^\$\{HARRIER_DATABASE_SECRET:\?/);
  });

  it('gives the runner the Docker socket and its workspace at the same path inside and outside', () => {
    const volumes = (services.runner.volumes ?? []).map(interpolate);
    expect(volumes).toContain('/var/run/docker.sock:/var/run/docker.sock');
    const workspace = interpolate(services.runner.environment!.HARRIER_RUNNER_WORKSPACE);
    expect(workspace).toMatch(/^\//);
    expect(volumes).toContain(`${workspace}:${workspace}`);
    expect(services.runner.user).toBe('root');
  });

  it('passes the server and runner every variable their configuration reads', () => {
    const serverReads = variablesReadByCode(['server/config.ts', 'core/log.ts']);
    const runnerReads = variablesReadByCode(['runner/config.ts', 'core/log.ts']);
    expect(serverReads.size).toBeGreaterThan(10);
    expect(Object.keys(services.server.environment!)).toEqual(expect.arrayContaining([...serverReads.keys()]));
    expect(Object.keys(services.runner.environment!)).toEqual(expect.arrayContaining([...runnerReads.keys()]));
  });
});

describe('README Configuration', () => {
  it('lists every HARRIER_* variable the code reads, and every one compose sets', () => {
    const tables = documentedVariables();
    const documented = new Set([...tables.values()].flatMap((s) => [...s]));
    const undocumented = [...variablesReadByCode(productSources())].filter(([name]) => !documented.has(name));
    expect(undocumented.map(([name, file]) => `${name} (read in ${file})`)).toEqual([]);
    for (const [name, service] of Object.entries(services)) {
      for (const variable of Object.keys(service.environment ?? {}).filter((v) => v.startsWith('HARRIER_'))) {
        expect(documented.has(variable), `${variable} set for ${name}`).toBe(true);
      }
    }
  });

  it('has the Server, Runner and Tests tables, the tests\' PostgreSQL among them', () => {
    const tables = documentedVariables();
    expect([...tables.keys()]).toEqual(expect.arrayContaining(['Server', 'Runner', 'Tests']));
    expect(tables.get('Tests')).toContain('HARRIER_TEST_POSTGRES_URL');
    expect(tables.get('Runner')).toContain('HARRIER_RPC_SECRET');
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');

  it('builds on Node.js 20 on Debian 12 and runs the harrier command', () => {
    const bases = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(bases.length).toBeGreaterThan(0);
    for (const base of bases) expect(base).toBe('node:20-bookworm-slim');
    expect(dockerfile).toMatch(/ENTRYPOINT \["node", "\/app\/bin\/harrier.js"\]/);
    expect(dockerfile).toMatch(/apt-get install[^\n]*\bgit\b/);
  });

  it('leaves the host\'s node_modules, builds and data out of the build context', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim());
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', 'data', 'server/db/generated']));
  });

  it('ships only production packages, which is all the product imports', () => {
    expect(dockerfile).toContain('npm prune --omit=dev');
    const pkg = JSON.parse(read('package.json')) as { devDependencies: Record<string, string> };
    const devOnly = new Set(Object.keys(pkg.devDependencies));
    const offenders: string[] = [];
    for (const file of productSources()) {
      // Type-only imports vanish when compiled; everything else is loaded at run time.
      for (const m of read(file).matchAll(/^\s*(?:import|export)\s+(?!type\b)[^'"]*?from\s+['"]([^'"./][^'"]*)['"]/gm)) {
        const spec = m[1];
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        if (devOnly.has(name)) offenders.push(`${file} imports ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
