// node_modules: `npm ci` when it is missing or package-lock.json changed since the
// last install. A stamp in node_modules records what was installed.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { run, say } from './shell.mjs';

const STAMP = '.harrier-install-stamp';

/** The Node.js the native addons are built for: a new one needs a fresh install. */
export function runtimeId() {
  return `node-abi-${process.versions.modules}-${process.platform}-${process.arch}`;
}

/**
 * What an install depends on, as the stamp records it: the lockfile's hash (package.json's
 * when there is no lockfile yet) and the runtime.
 */
export function installFingerprint(dir) {
  const lockFile = path.join(dir, 'package-lock.json');
  const lock = fs.readFileSync(fs.existsSync(lockFile) ? lockFile : path.join(dir, 'package.json'));
  return `${crypto.createHash('sha256').update(lock).digest('hex')} ${runtimeId()}`;
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * True when node_modules was installed from this very lockfile by someone else
 * (`npm ci` or `npm install` by hand, before any stamp existed). npm writes its own
 * record of the tree to node_modules/.package-lock.json; every package the lockfile
 * wants must be there at the same version (optional ones may be skipped, as npm
 * skips other platforms' binaries), and packages we allow to build natively must
 * have built. Adopting such a tree saves a ~60 s reinstall, and keeps a shared
 * checkout's node_modules from vanishing under other running processes.
 */
export function installedTreeMatchesLock(dir) {
  const wanted = readJson(path.join(dir, 'package-lock.json'))?.packages;
  const installed = readJson(path.join(dir, 'node_modules/.package-lock.json'))?.packages;
  if (!wanted || !installed) return false;
  for (const [key, entry] of Object.entries(wanted)) {
    if (key === '' || !key.startsWith('node_modules/')) continue;
    const have = installed[key];
    if (!have) {
      if (entry.optional || entry.devOptional) continue;
      return false;
    }
    if (have.version !== entry.version) return false;
  }
  for (const key of Object.keys(installed)) {
    if (!(key in wanted)) return false;
  }
  const allowed = readJson(path.join(dir, 'package.json'))?.allowScripts ?? {};
  for (const [name, allow] of Object.entries(allowed)) {
    const pkg = path.join(dir, 'node_modules', name);
    if (allow !== true || !fs.existsSync(path.join(pkg, 'binding.gyp'))) continue;
    const release = path.join(pkg, 'build/Release');
    const built = fs.existsSync(release) && fs.readdirSync(release).some((f) => f.endsWith('.node'));
    if (!built) return false;
  }
  return true;
}

/** Installs `dir`'s npm packages when needed. Returns true when it ran an install. */
export function ensureNodeModules(dir, { label = 'npm packages' } = {}) {
  const nodeModules = path.join(dir, 'node_modules');
  const stampFile = path.join(nodeModules, STAMP);
  const fingerprint = installFingerprint(dir);
  let stamp = '';
  try {
    stamp = fs.readFileSync(stampFile, 'utf8').trim();
  } catch {
    // no stamp yet
  }
  if (stamp === fingerprint) return false;

  // Someone ran npm ci or npm install by hand (another engineer adding a package to a shared
  // checkout, say): when the tree already matches the lockfile, record that instead of
  // reinstalling, which would also pull node_modules from under every process using it.
  // Not across a Node.js change: native addons must be rebuilt for it.
  // A stamp without a runtime (none yet, or an older format) says nothing against the tree.
  const sameRuntime = !stamp.includes(' ') || stamp.endsWith(` ${runtimeId()}`);
  if (sameRuntime && fs.existsSync(nodeModules) && installedTreeMatchesLock(dir)) {
    fs.writeFileSync(stampFile, fingerprint + '\n');
    return false;
  }

  const why = !fs.existsSync(nodeModules)
    ? 'node_modules is missing'
    : !sameRuntime
      ? `installed for another Node.js; this is ${process.version}`
      : stamp
        ? 'package-lock.json changed since the last install'
        : 'node_modules does not match package-lock.json';
  // npm 11 runs only the install scripts package.json's allowScripts allows (better-sqlite3's build).
  if (fs.existsSync(path.join(dir, 'package-lock.json'))) {
    say(`installing ${label} with npm ci (${why})`);
    run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, what: `installing ${label}` });
  } else {
    // No lockfile to install from (a new package): npm install writes one, to be committed.
    say(`installing ${label} with npm install (${why}; no package-lock.json yet: commit the one it writes)`);
    run('npm', ['install', '--no-audit', '--no-fund'], { cwd: dir, what: `installing ${label}` });
  }
  // npm makes no node_modules for a package without dependencies.
  fs.mkdirSync(nodeModules, { recursive: true });
  fs.writeFileSync(stampFile, installFingerprint(dir) + '\n');
  return true;
}
