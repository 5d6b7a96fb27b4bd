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

/** Builds a busybox-based image under `name` unless the engine already has one by that name. */
export function ensureBusyboxImage(name: string): string {
  if (hasImage(name)) return name;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'harrier-image-'));
  try {
    fs.mkdirSync(path.join(root, 'bin'));
    fs.mkdirSync(path.join(root, 'tmp'), { mode: 0o1777 });
    fs.mkdirSync(path.join(root, 'etc'));
    fs.writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    fs.writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\n');
    fs.copyFileSync(findBusybox(), path.join(root, 'bin/busybox'));
    fs.chmodSync(path.join(root, 'bin/busybox'), 0o755);
    for (const applet of BUSYBOX_APPLETS) fs.symlinkSync('busybox', path.join(root, 'bin', applet));
    // Stream tar into docker import: the archive is larger than execFileSync's output buffer.
    execFileSync('sh', ['-c', 'tar -C "$1" -c . | docker import --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" - "$2"', 'sh', root, name], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    return name;
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** The images the test suite uses. */
export const TEST_IMAGES = {
  busybox: 'harrier-test/busybox:latest',
  alpine: 'alpine:3',
} as const;

export function ensureTestImages(): void {
  ensureBusyboxImage(TEST_IMAGES.busybox);
  ensureBusyboxImage(TEST_IMAGES.alpine);
}
