// scripts/prepare.mjs is what `npm start` and `npm test` run first on a fresh machine, where
// nobody watches it; these tests drive its steps against real processes (redis-server, child
// processes, other users) and stand-ins for what cannot be touched here (dockerd, apt-get).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
// The modules are plain JavaScript with no type declarations: load them untyped.
const load = (name: string): Promise<any> => import(pathToFileURL(path.join(root, 'scripts/prepare', name)).href);
const isRoot = process.getuid?.() === 0;
const hasRedisServer = spawnSync('sh', ['-c', 'command -v redis-server']).status === 0;

let tmp: string;
beforeAll(() => {
  // The steps' progress lines ("prepare: starting Redis …") would read like real actions in the suite's output.
  const write = process.stderr.write.bind(process.stderr);
  vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: any, ...rest: any[]) =>
    String(chunk).startsWith('prepare: ') ? true : write(chunk, ...rest)) as typeof process.stderr.write);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'harrier-prepare-test-'));
  // Other users (the not-root tests) must reach scripts in here.
  fs.chmodSync(tmp, 0o755);
});
const cleanups: (() => void | Promise<void>)[] = [];
afterAll(async () => {
  for (const fn of cleanups.reverse()) await fn();
  vi.restoreAllMocks();
  fs.rmSync(tmp, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Stops the process named in a pid file and waits until it has gone (it may still be writing files). */
async function killPidFile(file: string): Promise<void> {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(file, 'utf8').trim());
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 50; i++) {
    let state = '';
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    } catch {
      return;
    }
    if (state === 'Z') return; // exited; our own child, waiting to be reaped
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Runs a snippet of ESM as the unprivileged user nobody; returns its stderr. */
function asNobody(code: string): string {
  const file = path.join(tmp, `nobody-${Math.random().toString(36).slice(2)}.mjs`);
  fs.writeFileSync(file, code);
  const result = spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, file], { encoding: 'utf8', cwd: '/' });
  return result.stderr + result.stdout;
}

describe('redis-server step', () => {
  it.skipIf(!hasRedisServer)('starts a persistent redis-server when nothing answers, and leaves a running one alone', async () => {
    const { ensureRedis, pingRedis } = await load('redis-server.mjs');
    const port = await freePort();
    const dataDir = path.join(tmp, 'data-redis');
    const url = `redis://127.0.0.1:${port}`;
    expect(await pingRedis('127.0.0.1', port)).toBe('absent');

    const pidFile: string = await ensureRedis({ url, dataDir });
    cleanups.push(() => killPidFile(pidFile));
    expect(pidFile).toBe(path.join(dataDir, `redis-${port}`, 'redis.pid'));
    expect(await pingRedis('127.0.0.1', port)).toBe('pong');
    const appendonly = execFileSync('redis-cli', ['-p', String(port), 'config', 'get', 'appendonly'], { encoding: 'utf8' });
    expect(appendonly).toContain('yes');

    expect(await ensureRedis({ url, dataDir })).toBe('');
  });

  it('refuses a port where something that is not Redis listens', async () => {
    const { ensureRedis } = await load('redis-server.mjs');
    const server = net.createServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      await expect(ensureRedis({ url: `redis://127.0.0.1:${port}`, dataDir: tmp })).rejects.toThrow(/does not answer Redis's PING/);
    } finally {
      server.close();
    }
  });

  it('does not start a server for a Redis on another host', async () => {
    const { parseRedisUrl } = await load('redis-server.mjs');
    expect(parseRedisUrl('redis://redis:6379').local).toBe(false);
    expect(parseRedisUrl('redis://localhost').port).toBe(6379);
    expect(parseRedisUrl('redis://:s3cret@127.0.0.1:6380')).toMatchObject({ local: true, port: 6380, password: 's3cret' });
    expect(() => parseRedisUrl('not a url')).toThrow(/HARRIER_REDIS_URL/);
  });
});

describe('docker engine step', () => {
  // A stand-in dockerd: answers /_ping on the socket --host names, after a short start-up.
  // The engine step finds a starting engine by its process name, so each run's stand-ins get
  // names of their own (within the kernel's 15 characters): a second test run on the machine
  // must not take this run's stand-in for its own.
  const run = randomBytes(3).toString('hex');
  function fakeDockerd(kind: string, body: string): string {
    const file = path.join(tmp, `${kind}-${run}`);
    fs.writeFileSync(file, `#!${process.execPath}\n${body}\n`, { mode: 0o755 });
    return file;
  }

  it.skipIf(!isRoot)('starts dockerd detached when the engine does not answer, logs to the data dir, and waits for it', async () => {
    const { ensureDockerEngine } = await load('docker-engine.mjs');
    const socket = path.join(tmp, 'docker.sock');
    const pidOut = path.join(tmp, 'fake-dockerd.pid');
    const dockerd = fakeDockerd(
      'dd-ok',
      `const http = require('node:http');
       const sock = process.argv.find((a) => a.startsWith('--host=unix://')).slice('--host=unix://'.length);
       require('node:fs').writeFileSync(${JSON.stringify(pidOut)}, String(process.pid));
       console.log('fake dockerd starting');
       setTimeout(() => http.createServer((q, r) => r.end('OK')).listen(sock), 300);`,
    );
    cleanups.push(() => killPidFile(pidOut));
    const env = { ...process.env, DOCKER_HOST: `unix://${socket}` };
    const dataDir = path.join(tmp, 'data-docker');
    const options = { dataDir, env, dockerd, timeoutMs: 30_000 };

    expect(await ensureDockerEngine(options)).toBe(true);
    expect(fs.readFileSync(path.join(dataDir, 'dockerd.log'), 'utf8')).toContain('fake dockerd starting');
    expect(await ensureDockerEngine(options)).toBe(false);
  });

  it.skipIf(!isRoot)('reports the end of dockerd.log when dockerd dies before answering', async () => {
    const { ensureDockerEngine } = await load('docker-engine.mjs');
    const dockerd = fakeDockerd('dd-dies', `console.error('failed to start daemon: iptables not found'); process.exit(1);`);
    const env = { ...process.env, DOCKER_HOST: `unix://${path.join(tmp, 'dead.sock')}` };
    // Waiting out its time limit would end in another message: this one says it saw the exit.
    await expect(
      ensureDockerEngine({ dataDir: path.join(tmp, 'data-dead'), env, dockerd, timeoutMs: 30_000 }),
    ).rejects.toThrow(/dockerd exited with code 1[\s\S]*iptables not found/);
  });

  it.skipIf(!isRoot)('waits for an engine that is already starting instead of starting a second one', async () => {
    const { ensureDockerEngine, findProcess } = await load('docker-engine.mjs');
    const socket = path.join(tmp, 'slow.sock');
    // Already running under the program's name, answering only after a while.
    const dockerd = fakeDockerd(
      'dd-slow',
      `setTimeout(() => require('node:http').createServer((q, r) => r.end('OK')).listen(${JSON.stringify(socket)}), 500);`,
    );
    const slow = spawn(dockerd, [], { stdio: 'ignore' });
    cleanups.push(() => void slow.kill());
    await new Promise((resolve) => slow.on('spawn', resolve));
    expect(findProcess(path.basename(dockerd))).toBe(slow.pid);
    const env = { ...process.env, DOCKER_HOST: `unix://${socket}` };
    const dataDir = path.join(tmp, 'data-slow');
    expect(await ensureDockerEngine({ dataDir, env, dockerd, timeoutMs: 30_000 })).toBe(true);
    expect(fs.existsSync(path.join(dataDir, 'dockerd.log'))).toBe(false); // we started nothing
  });

  it.skipIf(!isRoot)('tells a user who is not root how to start the engine', () => {
    const module = pathToFileURL(path.join(root, 'scripts/prepare/docker-engine.mjs')).href;
    const out = asNobody(
      `import { ensureDockerEngine } from ${JSON.stringify(module)};
       try { await ensureDockerEngine({ dataDir: '/nonexistent', env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' } }); }
       catch (e) { console.error(e.message + '\\n' + e.hint); }`,
    );
    expect(out).toMatch(/does not answer at \/nonexistent\/docker.sock/);
    expect(out).toMatch(/sudo/);
  });
});

describe('system packages step', () => {
  it.skipIf(!isRoot)('installs what is missing with one apt-get update and one apt-get install', async () => {
    const { ensureSystemPackages } = await load('system-packages.mjs');
    const bin = path.join(tmp, 'fake-apt');
    fs.mkdirSync(bin);
    const log = path.join(tmp, 'apt.log');
    const marker = path.join(tmp, 'installed');
    fs.writeFileSync(
      path.join(bin, 'apt-get'),
      `#!/bin/sh\necho "$*" >> ${log}\nfor a in "$@"; do [ "$a" = install ] && touch ${marker}; done\nexit 0\n`,
      { mode: 0o755 },
    );
    const table = [
      { name: 'harrier-fake-a', for: ['test'], present: () => fs.existsSync(marker) },
      { name: 'harrier-fake-b', for: ['test'], present: () => fs.existsSync(marker) },
      { name: 'harrier-start-only', for: ['start'], present: () => false },
      { name: 'harrier-unwanted', for: ['test'], present: () => false, wanted: () => false },
    ];
    const savedPath = process.env.PATH;
    process.env.PATH = `${bin}:${savedPath}`;
    try {
      expect(ensureSystemPackages('test', {}, table)).toEqual(['harrier-fake-a', 'harrier-fake-b']);
      expect(fs.readFileSync(log, 'utf8').trim().split('\n')).toEqual([
        '-q -o DPkg::Lock::Timeout=300 update',
        '-q -o DPkg::Lock::Timeout=300 install -y --no-install-recommends harrier-fake-a harrier-fake-b',
      ]);
      expect(ensureSystemPackages('test', {}, table)).toEqual([]);
    } finally {
      process.env.PATH = savedPath;
    }
  });

  it.skipIf(!isRoot)('tells a user who is not root which packages to install and the sudo command', () => {
    const module = pathToFileURL(path.join(root, 'scripts/prepare/system-packages.mjs')).href;
    const out = asNobody(
      `import { ensureSystemPackages } from ${JSON.stringify(module)};
       const table = [{ name: 'harrier-fake-pkg', for: ['start'], present: () => false }];
       try { ensureSystemPackages('start', {}, table); } catch (e) { console.error(e.message + '\\n' + e.hint); }`,
    );
    expect(out).toContain('these system packages are missing: harrier-fake-pkg');
    expect(out).toContain('sudo apt-get update && sudo apt-get install -y --no-install-recommends harrier-fake-pkg');
  });

  it('tells a static busybox from a dynamically linked program', async () => {
    const { isStaticElf } = await load('system-packages.mjs');
    expect(isStaticElf(process.execPath)).toBe(false);
    expect(isStaticElf(path.join(root, 'package.json'))).toBe(false);
    if (fs.existsSync('/bin/busybox')) expect(isStaticElf('/bin/busybox')).toBe(true);
  });

  it('needs the PostgreSQL server only when no HARRIER_TEST_POSTGRES_URL is given, and only for tests', async () => {
    const { PACKAGES } = await load('system-packages.mjs');
    const postgres = PACKAGES.find((p: any) => p.name === 'postgresql');
    expect(postgres.for).toEqual(['test']);
    expect(postgres.wanted({ env: { HARRIER_TEST_POSTGRES_URL: 'postgres://x' } })).toBe(false);
    expect(postgres.wanted({ env: {} })).toBe(true);
  });
});

describe('install, generate and build stamps', () => {
  function writeJson(file: string, value: unknown): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(value));
  }

  it('adopts a node_modules npm installed from the same lockfile, and not one from another', async () => {
    const { installedTreeMatchesLock } = await load('node-modules.mjs');
    const dir = path.join(tmp, 'tree');
    writeJson(path.join(dir, 'package.json'), { name: 'x', allowScripts: {} });
    writeJson(path.join(dir, 'package-lock.json'), {
      packages: {
        '': { name: 'x' },
        'node_modules/a': { version: '1.0.0' },
        'node_modules/@esbuild/darwin-arm64': { version: '0.1.0', optional: true },
      },
    });
    expect(installedTreeMatchesLock(dir)).toBe(false);
    writeJson(path.join(dir, 'node_modules/.package-lock.json'), { packages: { 'node_modules/a': { version: '1.0.0' } } });
    expect(installedTreeMatchesLock(dir)).toBe(true);
    writeJson(path.join(dir, 'node_modules/.package-lock.json'), { packages: { 'node_modules/a': { version: '0.9.0' } } });
    expect(installedTreeMatchesLock(dir)).toBe(false);
  });

  it('does not adopt a tree whose allowed native module never compiled', async () => {
    const { installedTreeMatchesLock } = await load('node-modules.mjs');
    const dir = path.join(tmp, 'native');
    writeJson(path.join(dir, 'package.json'), { name: 'x', allowScripts: { 'better-sqlite3': true } });
    writeJson(path.join(dir, 'package-lock.json'), { packages: { 'node_modules/better-sqlite3': { version: '12.0.0' } } });
    writeJson(path.join(dir, 'node_modules/.package-lock.json'), { packages: { 'node_modules/better-sqlite3': { version: '12.0.0' } } });
    writeJson(path.join(dir, 'node_modules/better-sqlite3/binding.gyp'), {});
    expect(installedTreeMatchesLock(dir)).toBe(false);
    fs.mkdirSync(path.join(dir, 'node_modules/better-sqlite3/build/Release'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'), '');
    expect(installedTreeMatchesLock(dir)).toBe(true);
  });

  it('records a tree someone updated by hand after a lockfile change, but reinstalls for another Node.js', async () => {
    const { ensureNodeModules, runtimeId } = await load('node-modules.mjs');
    const dir = path.join(tmp, 'by-hand');
    writeJson(path.join(dir, 'package.json'), { name: 'x', private: true });
    writeJson(path.join(dir, 'package-lock.json'), { name: 'x', lockfileVersion: 3, requires: true, packages: { '': { name: 'x' } } });
    writeJson(path.join(dir, 'node_modules/.package-lock.json'), { name: 'x', lockfileVersion: 3, packages: {} });
    const stamp = path.join(dir, 'node_modules/.harrier-install-stamp');

    fs.writeFileSync(stamp, `0123 ${runtimeId()}\n`);
    expect(ensureNodeModules(dir)).toBe(false);
    expect(fs.readFileSync(stamp, 'utf8')).not.toContain('0123');

    fs.writeFileSync(stamp, '0123 node-abi-0-linux-x64\n');
    expect(ensureNodeModules(dir)).toBe(true); // npm ci, quick: nothing to install
    expect(fs.readFileSync(stamp, 'utf8').trim()).toMatch(new RegExp(`^[0-9a-f]{64} ${runtimeId()}$`));
  }, 60_000);

  it('finds each schema and the folder its client is generated into', async () => {
    const { findSchemas, generatedDir } = await load('prisma-client.mjs');
    const schemas: string[] = findSchemas(root);
    expect(schemas).toContain(path.join(root, 'prisma/sqlite/schema.prisma'));
    expect(generatedDir(path.join(root, 'prisma/sqlite/schema.prisma'))).toBe(path.join(root, 'server/db/generated/sqlite'));
  });

  it('changes the build fingerprint when a source is edited, added or deleted, and not for tests', async () => {
    const { listFiles, filesFingerprint } = await load('build.mjs');
    const dir = path.join(tmp, 'src');
    fs.mkdirSync(path.join(dir, 'server/node_modules'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'server/a.ts'), 'export const a = 1;\n');
    const keep = (rel: string) => rel.endsWith('.ts') && !rel.endsWith('.test.ts');
    const fingerprint = () => filesFingerprint(dir, listFiles(dir, ['server'], keep));
    const first = fingerprint();
    fs.writeFileSync(path.join(dir, 'server/a.test.ts'), 'test');
    fs.writeFileSync(path.join(dir, 'server/node_modules/x.ts'), 'x');
    expect(fingerprint()).toBe(first);
    fs.writeFileSync(path.join(dir, 'server/b.ts'), 'export const b = 2;\n');
    const added = fingerprint();
    expect(added).not.toBe(first);
    fs.rmSync(path.join(dir, 'server/b.ts'));
    expect(fingerprint()).toBe(first);
    fs.writeFileSync(path.join(dir, 'server/a.ts'), 'export const a = 10;\n');
    expect(fingerprint()).not.toBe(first);
  });
});

describe('web UI step', () => {
  it('installs and builds web/ when it exists, and again only when its sources change', async () => {
    const { ensureWebBuild } = await load('build.mjs');
    const checkout = path.join(tmp, 'web-checkout');
    const web = path.join(checkout, 'web');
    fs.mkdirSync(path.join(web, 'src'), { recursive: true });
    fs.writeFileSync(path.join(checkout, 'package.json'), JSON.stringify({ name: 'root', private: true }));
    expect(ensureWebBuild(checkout)).toBe(false); // no web/package.json: nothing to do

    const build = `node -e "require('fs').mkdirSync('dist',{recursive:true});require('fs').appendFileSync('../builds.log','x')"`;
    fs.writeFileSync(path.join(web, 'package.json'), JSON.stringify({ name: 'web', private: true, scripts: { build } }));
    fs.writeFileSync(
      path.join(web, 'package-lock.json'),
      JSON.stringify({ name: 'web', lockfileVersion: 3, requires: true, packages: { '': { name: 'web' } } }),
    );
    fs.writeFileSync(path.join(web, 'src/main.ts'), 'export {};\n');
    expect(ensureWebBuild(checkout)).toBe(true);
    expect(fs.existsSync(path.join(web, 'node_modules/.harrier-install-stamp'))).toBe(true);
    expect(ensureWebBuild(checkout)).toBe(false);
    fs.writeFileSync(path.join(web, 'src/main.ts'), 'export const changed = true;\n');
    expect(ensureWebBuild(checkout)).toBe(true);
    expect(fs.readFileSync(path.join(checkout, 'builds.log'), 'utf8')).toBe('xx');
  }, 60_000);
});

describe('handing over to the child', () => {
  it('exits with the child\'s code, and 128 + n when a signal killed it', async () => {
    const { runChild } = await load('child.mjs');
    expect(await runChild(process.execPath, ['-e', 'process.exit(3)'])).toBe(3);
    expect(await runChild(process.execPath, ['-e', 'process.kill(process.pid, "SIGKILL")'])).toBe(137);
  });

  it('passes SIGTERM sent to prepare on to the child', async () => {
    const module = pathToFileURL(path.join(root, 'scripts/prepare/child.mjs')).href;
    const child = `process.on('SIGTERM', () => process.exit(7)); console.log('ready'); setInterval(() => {}, 1000);`;
    const wrapper = spawn(
      process.execPath,
      ['--input-type=module', '-e', `import { runChild } from ${JSON.stringify(module)};
        process.exit(await runChild(process.execPath, ['-e', ${JSON.stringify(child)}]));`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => wrapper.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
    wrapper.kill('SIGTERM');
    const code = await new Promise((resolve) => wrapper.on('exit', (c) => resolve(c)));
    expect(code).toBe(7);
  });
  it.skipIf(spawnSync('sh', ['-c', 'command -v script']).status !== 0)(
    'delivers a terminal\'s Ctrl-C to the child once, so harrier up shuts down gracefully',
    async () => {
      const module = pathToFileURL(path.join(root, 'scripts/prepare/child.mjs')).href;
      const child = `let n = 0; process.on('SIGINT', () => { n++; setTimeout(() => { console.log('SIGINT x' + n); process.exit(0); }, 300); });
        console.log('ready'); setInterval(() => {}, 1000);`;
      const wrapper = path.join(tmp, 'ctrl-c.mjs');
      fs.writeFileSync(
        wrapper,
        `import { runChild } from ${JSON.stringify(module)};\nprocess.exit(await runChild(process.execPath, ['-e', ${JSON.stringify(child)}]));\n`,
      );
      // script(1) runs the wrapper on a new terminal; a ^C written to it reaches the whole foreground group.
      const term = spawn('script', ['-qc', `${process.execPath} ${wrapper}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] });
      let out = '';
      let sent = false;
      term.stdout.on('data', (d: Buffer) => {
        out += d;
        if (out.includes('ready') && !sent) term.stdin.write('\x03');
        sent ||= out.includes('ready');
      });
      await new Promise((resolve) => term.on('exit', resolve));
      expect(out).toContain('SIGINT x1');
    },
  );
});

describe('preparation lock', () => {
  it('makes a second preparation of the same checkout wait, and takes over a lock whose holder died', async () => {
    const { acquireLock, lockPath } = await load('lock.mjs');
    const checkout = path.join(tmp, 'checkout');
    const release = await acquireLock(checkout);
    const module = pathToFileURL(path.join(root, 'scripts/prepare/lock.mjs')).href;
    const second = spawn(
      process.execPath,
      ['--input-type=module', '-e', `import { acquireLock } from ${JSON.stringify(module)};
        (await acquireLock(${JSON.stringify(checkout)}))(); console.log('acquired');`],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    second.stdout.on('data', (d: Buffer) => (out += d));
    second.stderr.on('data', (d: Buffer) => (out += d));
    let ended = false;
    const exited = new Promise((resolve) => second.on('exit', resolve)).finally(() => (ended = true));
    // It says it waits for us, and takes the lock only once we let go.
    const waiting = `waiting for another preparation of this checkout (pid ${process.pid})`;
    while (!out.includes(waiting) && !ended) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(out).toContain(waiting);
    expect(out).not.toContain('acquired');
    release();
    expect(await exited).toBe(0);
    expect(out).toContain('acquired');

    // Were the dead holder's lock not taken over, this would wait out its time limit and throw.
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    fs.writeFileSync(lockPath(checkout), dead.stdout.trim());
    (await acquireLock(checkout, { timeoutMs: 30_000 }))();
    expect(fs.existsSync(lockPath(checkout))).toBe(false);
  });
});
