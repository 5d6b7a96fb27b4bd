// Builds: the TypeScript server, runner and CLI into dist/, and the web UI in web/
// when there is one. Each runs only when its sources differ from the last good build,
// judged by a fingerprint of file names, sizes and times kept next to the output.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PrepareError, run, say } from './shell.mjs';
import { ensureNodeModules } from './node-modules.mjs';

const SKIP_DIRS = new Set(['node_modules', 'dist', '.git']);

/** Files under `paths` (files or folders) whose names pass `keep`, sorted. */
export function listFiles(root, paths, keep = () => true) {
  const files = [];
  const walk = (rel) => {
    let stat;
    try {
      stat = fs.statSync(path.join(root, rel));
    } catch {
      return;
    }
    if (stat.isFile()) {
      if (keep(rel)) files.push(rel);
      return;
    }
    if (!stat.isDirectory()) return;
    for (const name of fs.readdirSync(path.join(root, rel))) {
      if (SKIP_DIRS.has(name) || name.startsWith('.')) continue;
      walk(rel ? path.join(rel, name) : name);
    }
  };
  for (const p of paths) walk(p);
  return files.sort();
}

/** A hash of each file's name, size and modification time: a deleted, added or edited file changes it. */
export function filesFingerprint(root, files) {
  const hash = crypto.createHash('sha256');
  for (const rel of files) {
    const stat = fs.statSync(path.join(root, rel));
    hash.update(`${rel}\0${stat.size}\0${stat.mtimeMs}\n`);
  }
  return hash.digest('hex');
}

function readStamp(file) {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}

/** The folders and files tsconfig.json compiles, plus what changes the output without being source. */
function typescriptInputs(root) {
  let include = ['cli', 'core', 'pipeline', 'server', 'runner', 'prisma.config.ts'];
  try {
    include = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.json'), 'utf8')).include ?? include;
  } catch {
    // tsconfig.json with comments: the default list above matches it
  }
  const files = listFiles(root, include, (rel) => /\.(c|m)?tsx?$|\.json$/.test(rel) && !/\.test\.tsx?$/.test(rel));
  return [...files, 'tsconfig.json', 'package-lock.json'].filter((f) => fs.existsSync(path.join(root, f)));
}

/**
 * Compiles with tsc into dist/ when a source changed since the last good build.
 * Returns true when it compiled. Throws when tsc reports errors (its output is shown).
 */
export function ensureTypeScriptBuild(root) {
  const stampFile = path.join(root, 'dist/.harrier-build-stamp');
  const want = filesFingerprint(root, typescriptInputs(root));
  if (readStamp(stampFile) === want && fs.existsSync(path.join(root, 'dist'))) return false;
  say('compiling TypeScript into dist/ (tsc -p tsconfig.json)');
  try {
    // --incremental: tsc re-checks only what changed since dist/.tsbuildinfo (about half the time).
    const args = ['-p', 'tsconfig.json', '--incremental', '--tsBuildInfoFile', 'dist/.tsbuildinfo'];
    run(path.join(root, 'node_modules/.bin/tsc'), args, { cwd: root, what: 'tsc' });
  } catch (err) {
    if (!(err instanceof PrepareError)) throw err;
    throw new PrepareError('the TypeScript build failed: tsc reported the errors above', 'Fix them (npm run typecheck checks tests as well), then run this again.');
  }
  fs.writeFileSync(stampFile, want + '\n');
  return true;
}

/**
 * The web UI, when web/package.json exists: install its packages (unless the root
 * package.json lists web as a workspace, which the root install covers) and run its
 * `build` script when its sources changed. Returns true when it built.
 */
export function ensureWebBuild(root) {
  const web = path.join(root, 'web');
  const pkgFile = path.join(web, 'package.json');
  if (!fs.existsSync(pkgFile)) return false;
  const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8'));
  const rootPkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const workspaces = Array.isArray(rootPkg.workspaces) ? rootPkg.workspaces : (rootPkg.workspaces?.packages ?? []);
  const isWorkspace = workspaces.some((w) => w.replace(/^\.\//, '').replace(/\/$/, '') === 'web');
  if (!isWorkspace) ensureNodeModules(web, { label: 'the web UI\'s npm packages' });
  if (!pkg.scripts?.build) return false;

  // The stamp lives in node_modules, which a build's emptying of its output folder leaves alone.
  const stampDir = isWorkspace ? path.join(root, 'node_modules') : path.join(web, 'node_modules');
  const stampFile = path.join(stampDir, '.harrier-web-build-stamp');
  const fingerprint = () =>
    filesFingerprint(web, listFiles(web, [''], (rel) => !/\.test\.tsx?$/.test(rel) && !rel.startsWith('test-results')));
  // web/dist is where Vite writes by default (and what .gitignore names); rebuild if it is gone.
  if (readStamp(stampFile) === fingerprint() && fs.existsSync(path.join(web, 'dist'))) return false;
  say('building the web UI (npm run build in web/)');
  run('npm', ['run', 'build'], { cwd: web, what: 'the web UI build' });
  fs.mkdirSync(stampDir, { recursive: true });
  // Taken after the build, so files a build leaves beside its sources do not count as changes.
  fs.writeFileSync(stampFile, fingerprint() + '\n');
  return true;
}
