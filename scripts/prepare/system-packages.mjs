// Debian packages the commands need, installed with apt-get when missing and we are root.
// To need another package, add a line to PACKAGES.
import fs from 'node:fs';
import { PrepareError, isRoot, run, say, which } from './shell.mjs';

/**
 * name: the Debian package. for: the commands that need it. present(): whether what we
 * use from it is on this machine (checked by file, so an install by other means counts).
 * wanted(ctx), when given, can drop the need (e.g. Redis elsewhere).
 * @type {{ name: string, for: string[], present: () => boolean, wanted?: (ctx: any) => boolean }[]}
 */
export const PACKAGES = [
  { name: 'redis-server', for: ['start', 'test'], present: () => !!which('redis-server'), wanted: (ctx) => ctx.redisIsLocal },
  // A docker client alone may already be installed (/usr/local/bin/docker); the engine is what we need.
  { name: 'docker.io', for: ['start', 'test'], present: () => !!which('dockerd'), wanted: (ctx) => ctx.dockerIsLocal },
  { name: 'git', for: ['start', 'test'], present: () => !!which('git') },
  { name: 'ca-certificates', for: ['start', 'test'], present: () => fs.existsSync('/etc/ssl/certs/ca-certificates.crt') },
  {
    name: 'postgresql',
    for: ['test'],
    present: () => postgresVersions().length > 0 && !!which('pg_ctlcluster'),
    wanted: (ctx) => !ctx.env.HARRIER_TEST_POSTGRES_URL,
  },
  // Test images are made from a static busybox (test/support/images.ts); the dynamic one
  // from Debian's `busybox` package would not run inside an image without libc.
  { name: 'busybox-static', for: ['test'], present: () => ['/bin/busybox', '/usr/bin/busybox'].some(isStaticElf) },
  // Test images with dash and bash as /bin/sh are made from this machine's shells (test/support/images.ts).
  { name: 'dash', for: ['test'], present: () => ['/bin/dash', '/usr/bin/dash'].some((f) => fs.existsSync(f)) },
  { name: 'bash', for: ['test'], present: () => ['/bin/bash', '/usr/bin/bash'].some((f) => fs.existsSync(f)) },
  // The web UI's browser tests (test/browser) drive Debian's Chromium with playwright-core, which cannot download a browser here.
  { name: 'chromium', for: ['test'], present: () => !!which('chromium') },
];

/** Installed PostgreSQL server versions, newest first (Debian keeps them in /usr/lib/postgresql/<ver>). */
export function postgresVersions() {
  try {
    return fs
      .readdirSync('/usr/lib/postgresql')
      .filter((v) => fs.existsSync(`/usr/lib/postgresql/${v}/bin/postgres`))
      .sort((a, b) => Number(b) - Number(a));
  } catch {
    return [];
  }
}

/** True when `file` is an executable ELF with no program interpreter, i.e. statically linked. */
export function isStaticElf(file) {
  let fd;
  try {
    fd = fs.openSync(file, 'r');
    const header = Buffer.alloc(64);
    fs.readSync(fd, header, 0, 64, 0);
    if (header.readUInt32BE(0) !== 0x7f454c46) return false; // "\x7fELF"
    const is64 = header[4] === 2;
    const le = header[5] === 1;
    const u16 = (b, o) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const u32 = (b, o) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const phoff = is64 ? Number(le ? header.readBigUInt64LE(32) : header.readBigUInt64BE(32)) : u32(header, 28);
    const phentsize = u16(header, is64 ? 54 : 42);
    const phnum = u16(header, is64 ? 56 : 44);
    const table = Buffer.alloc(phentsize * phnum);
    fs.readSync(fd, table, 0, table.length, phoff);
    for (let i = 0; i < phnum; i++) {
      if (u32(table, i * phentsize) === 3) return false; // PT_INTERP
    }
    return true;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** The packages `command` needs that this machine lacks. */
export function missingPackages(command, ctx, packages = PACKAGES) {
  return packages
    .filter((p) => p.for.includes(command) && (p.wanted ? p.wanted(ctx) : true) && !p.present())
    .map((p) => p.name);
}

/** Installs what `command` needs with apt-get (as root), or explains how to. */
export function ensureSystemPackages(command, ctx, packages = PACKAGES) {
  const missing = missingPackages(command, ctx, packages);
  if (missing.length === 0) return [];
  const list = missing.join(' ');
  const aptGet = which('apt-get');
  if (!isRoot() || !aptGet) {
    throw new PrepareError(
      `these system packages are missing: ${list}`,
      aptGet
        ? `Install them once, then run \`npm ${command}\` again:\n` +
            `    sudo apt-get update && sudo apt-get install -y --no-install-recommends ${list}`
        : `This machine has no apt-get: install the equivalents of these Debian packages, then run \`npm ${command}\` again.`,
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  say(`installing Debian packages: ${list}`);
  // Wait for another apt or dpkg (an unattended upgrade on a new machine) rather than fail.
  const lock = ['-o', 'DPkg::Lock::Timeout=300'];
  run(aptGet, ['-q', ...lock, 'update'], { env, what: 'apt-get update' });
  run(aptGet, ['-q', ...lock, 'install', '-y', '--no-install-recommends', ...missing], { env, what: `installing ${list}` });
  const still = missingPackages(command, ctx, packages);
  if (still.length > 0) {
    throw new PrepareError(`apt-get installed ${list}, but ${still.join(' ')} still look missing`, 'Check the apt-get output above.');
  }
  return missing;
}
