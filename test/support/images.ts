// Test images are made locally with `docker import` from host files: this machine
// cannot pull from any registry. Examples name public images (alpine:3); where a test
// needs one it gets a small local stand-in under that name, built only when the
// engine does not have the image already, so a developer's real images are left alone.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const BUSYBOX_APPLETS = [
  'sh', 'ash', 'echo', 'cat', 'ls', 'sleep', 'env', 'printf', 'true', 'false', 'test', '[', 'mkdir', 'rm', 'cp', 'mv',
  'touch', 'grep', 'sed', 'awk', 'head', 'tail', 'wc', 'date', 'pwd', 'id', 'nc', 'wget', 'hostname', 'uname', 'seq',
  'tr', 'cut', 'sort', 'uniq', 'xargs', 'find', 'chmod', 'ln', 'kill', 'ps', 'yes', 'tee', 'basename', 'dirname',
  'expr', 'httpd', 'nslookup', 'ping', 'timeout', 'whoami', 'md5sum', 'sha256sum', 'od', 'stat', 'dd', 'du', 'df',
];

function hasImage(name: string): boolean {
  try {
    execFileSync('docker', ['image', 'inspect', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function findBusybox(): string {
  for (const p of ['/bin/busybox', '/usr/bin/busybox']) {
    if (fs.existsSync(p)) return p;
  }
  throw new Error('busybox is not installed; install Debian\'s busybox-static (npm test installs it when run as root)');
}

/** A root folder holding busybox as /bin/sh and the usual applets. */
function busyboxRoot(): string {
  const busybox = findBusybox();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'harrier-image-'));
  fs.mkdirSync(path.join(root, 'bin'));
  fs.mkdirSync(path.join(root, 'tmp'), { mode: 0o1777 });
  fs.mkdirSync(path.join(root, 'etc'));
  fs.writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  fs.writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\n');
  fs.copyFileSync(busybox, path.join(root, 'bin/busybox'));
  fs.chmodSync(path.join(root, 'bin/busybox'), 0o755);
  for (const applet of BUSYBOX_APPLETS) fs.symlinkSync('busybox', path.join(root, 'bin', applet));
  return root;
}

function importRoot(root: string, name: string): void {
  // Stream tar into docker import: the archive is larger than execFileSync's output buffer.
  execFileSync('sh', ['-c', 'tar -C "$1" -c . | docker import --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" - "$2"', 'sh', root, name], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** Builds a busybox-based image under `name` unless the engine already has one by that name. */
export function ensureBusyboxImage(name: string): string {
  if (hasImage(name)) return name;
  const root = busyboxRoot();
  try {
    importRoot(root, name);
    return name;
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** The shared libraries `ldd` says a binary loads, the dynamic loader included. */
function sharedLibraries(binary: string): string[] {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)"
  return [...out.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)].map((m) => m[1]);
}

/**
 * Imports a busybox root with this machine's `binary` (and the shared libraries it loads) at
 * `target`, unless the engine already has an image by that name.
 */
function ensureBinaryImage(name: string, binary: string, target: string): string {
  if (hasImage(name)) return name;
  const root = busyboxRoot();
  try {
    for (const lib of sharedLibraries(binary)) {
      fs.mkdirSync(path.join(root, path.dirname(lib)), { recursive: true });
      fs.copyFileSync(lib, path.join(root, lib));
    }
    fs.mkdirSync(path.join(root, path.dirname(target)), { recursive: true });
    fs.rmSync(path.join(root, target), { force: true });
    fs.copyFileSync(binary, path.join(root, target));
    fs.chmodSync(path.join(root, target), 0o755);
    importRoot(root, name);
    return name;
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** Where `command` is on this machine, links resolved. */
function hostCommand(command: string, pkg: string): string {
  try {
    return fs.realpathSync(execFileSync('sh', ['-c', 'command -v "$1"', 'sh', command], { encoding: 'utf8' }).trim());
  } catch {
    throw new Error(`${command} is not installed; install Debian's ${pkg} package (npm test installs it when run as root)`);
  }
}

/**
 * Builds a stand-in for `node:20` (the image .drone.yml.example names): this machine's
 * `node` binary with its shared libraries at their paths, and busybox as /bin/sh. Only
 * when the engine has no image by that name, so a real node:20 is never replaced.
 */
export function ensureNodeImage(name = 'node:20'): string {
  if (hasImage(name)) return name;
  return ensureBinaryImage(name, hostCommand('node', 'nodejs'), 'usr/local/bin/node');
}

/**
 * Builds an image whose /bin/sh is this machine's `shell` (dash, bash) with its shared
 * libraries, and busybox for the other commands, as Debian and Ubuntu images have dash
 * as /bin/sh. Only when the engine has no image by that name.
 */
export function ensureShellImage(name: string, shell: string): string {
  if (hasImage(name)) return name;
  return ensureBinaryImage(name, hostCommand(shell, shell), 'bin/sh');
}

/** The images the test suite uses. */
export const TEST_IMAGES = {
  busybox: 'harrier-test/busybox:latest',
  alpine: 'alpine:3',
  /** /bin/sh is dash, as on Debian and Ubuntu images. */
  dash: 'harrier-test/dash:latest',
  bash: 'harrier-test/bash:latest',
} as const;

export function ensureTestImages(): void {
  ensureBusyboxImage(TEST_IMAGES.busybox);
  ensureBusyboxImage(TEST_IMAGES.alpine);
}
