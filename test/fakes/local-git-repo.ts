// Real git repositories on disk for end-to-end tests: the fakes serve file contents
// from them (git show <sha>:<path>) and the runner clones them over file://.
import { execFile, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_TERMINAL_PROMPT: '0',
};

function gitAsync(dir: string, args: string[]): Promise<{ ok: boolean; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    execFile('git', ['-C', dir, ...args], { env: GIT_ENV, encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ ok: !err, stdout: stdout ?? Buffer.alloc(0), stderr: stderr?.toString('utf8') ?? '' });
    });
  });
}

/** The full hash a ref or abbreviated hash names, or null when the repository has no such commit. */
export async function gitResolveCommit(dir: string, rev: string): Promise<string | null> {
  if (!rev || rev.startsWith('-')) return null;
  const r = await gitAsync(dir, ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]);
  return r.ok ? r.stdout.toString('utf8').trim() : null;
}

/** The file's bytes at a commit; null when the commit or the file does not exist (or it is a directory). */
export async function gitShowFile(dir: string, rev: string, file: string): Promise<Buffer | null> {
  const read = await gitReadFile(dir, rev, file);
  return read.found === 'file' ? read.content : null;
}

export type GitFileRead = { found: 'file'; content: Buffer } | { found: 'no-ref' } | { found: 'no-file' };

/**
 * A file at a commit, saying whether the commit or the file is missing: one `git cat-file
 * --batch` for both questions. The fakes answer a provider's file look-ups with it, and
 * activating a repository makes about fifteen at once; four git processes each (resolve,
 * resolve again, type, content) made one activation take seconds from a test's process.
 */
export async function gitReadFile(dir: string, rev: string, file: string): Promise<GitFileRead> {
  if (!rev || rev.startsWith('-')) return { found: 'no-ref' };
  const clean = file.replace(/^\/+/, '');
  // Each input line is one object name; a name with a line break in it cannot be asked this way.
  if (/[\r\n]/.test(rev + clean)) {
    const sha = await gitResolveCommit(dir, rev);
    if (!sha) return { found: 'no-ref' };
    const type = await gitAsync(dir, ['cat-file', '-t', `${sha}:${clean}`]);
    if (!type.ok || type.stdout.toString('utf8').trim() !== 'blob') return { found: 'no-file' };
    const r = await gitAsync(dir, ['cat-file', 'blob', `${sha}:${clean}`]);
    return r.ok ? { found: 'file', content: r.stdout } : { found: 'no-file' };
  }
  const out = await gitBatch(dir, `${rev}^{commit}\n${rev}^{commit}:${clean}\n`);
  const [commit, blob] = parseBatch(out);
  if (commit?.type !== 'commit') return { found: 'no-ref' };
  return blob?.type === 'blob' ? { found: 'file', content: blob.content } : { found: 'no-file' };
}

function gitBatch(dir: string, input: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['-C', dir, 'cat-file', '--batch'], { env: GIT_ENV, stdio: ['pipe', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', reject);
    child.on('close', () => resolve(Buffer.concat(chunks)));
    child.stdin.end(input);
  });
}

/** `git cat-file --batch` answers: "<sha> <type> <size>\n<content>\n" per object, "<name> missing\n" (or ambiguous) otherwise. */
function parseBatch(out: Buffer): ({ type: string; content: Buffer } | null)[] {
  const answers: ({ type: string; content: Buffer } | null)[] = [];
  let at = 0;
  while (at < out.length) {
    const end = out.indexOf(0x0a, at);
    if (end < 0) break;
    const header = out.subarray(at, end).toString('utf8');
    at = end + 1;
    const m = /^[0-9a-f]{40,64} (\S+) (\d+)$/.exec(header);
    if (!m) {
      answers.push(null);
      continue;
    }
    const size = Number(m[2]);
    answers.push({ type: m[1], content: out.subarray(at, at + size) });
    at += size + 1;
  }
  return answers;
}

export interface FileChange {
  status: 'added' | 'modified' | 'removed' | 'renamed';
  path: string;
  /** The old path of a renamed file. */
  previousPath?: string;
}

const CHANGE_STATUS: Record<string, FileChange['status']> = { A: 'added', M: 'modified', D: 'removed', R: 'renamed', C: 'added', T: 'modified' };

function parseNameStatus(out: string): FileChange[] {
  const fields = out.split('\0');
  const changes: FileChange[] = [];
  for (let i = 0; i < fields.length && fields[i]; ) {
    const code = fields[i++][0];
    if (code === 'R' || code === 'C') {
      const previousPath = fields[i++];
      const path = fields[i++];
      changes.push(code === 'R' ? { status: 'renamed', path, previousPath } : { status: 'added', path });
    } else {
      changes.push({ status: CHANGE_STATUS[code] ?? 'modified', path: fields[i++] });
    }
  }
  return changes;
}

/**
 * What `git diff` says changed: between two commits (`from...to` diffs from their merge
 * base, as GitHub's compare and pull request files and Bitbucket's diffstat ranges do), or,
 * with `from` null, one commit against its first parent (everything, for a root commit).
 * Null when a commit does not exist.
 */
export async function gitChangedFiles(dir: string, from: string | null, to: string): Promise<FileChange[] | null> {
  const target = await gitResolveCommit(dir, to);
  if (!target) return null;
  let args: string[];
  if (from === null) {
    const parent = await gitResolveCommit(dir, `${target}^`);
    args = parent ? ['diff', '--name-status', '-M', '-z', parent, target] : ['diff-tree', '-r', '--root', '--no-commit-id', '--name-status', '-M', '-z', target];
  } else {
    const base = await gitResolveCommit(dir, from);
    if (!base) return null;
    args = ['diff', '--name-status', '-M', '-z', `${base}...${target}`];
  }
  const r = await gitAsync(dir, args);
  return r.ok ? parseNameStatus(r.stdout.toString('utf8')) : null;
}

export interface CommitInfo {
  sha: string;
  message: string;
  authorName: string;
  authorEmail: string;
  /** ISO 8601 with offset, as GitHub's payloads carry it. */
  timestamp: string;
  parent: string;
}

export async function gitCommitInfo(dir: string, rev: string): Promise<CommitInfo | null> {
  const r = await gitAsync(dir, ['log', '-1', '--format=%H%x00%an%x00%ae%x00%aI%x00%P%x00%B', rev, '--']);
  if (!r.ok) return null;
  return parseCommitInfo(r.stdout.toString('utf8'));
}

export function gitCommitInfoSync(dir: string, rev: string): CommitInfo {
  const out = execFileSync('git', ['-C', dir, 'log', '-1', '--format=%H%x00%an%x00%ae%x00%aI%x00%P%x00%B', rev, '--'], { env: GIT_ENV, encoding: 'utf8' });
  return parseCommitInfo(out);
}

function parseCommitInfo(out: string): CommitInfo {
  const [sha, authorName, authorEmail, timestamp, parents, ...message] = out.split('\0');
  return { sha, authorName, authorEmail, timestamp, parent: parents.split(' ')[0] ?? '', message: message.join('\0').replace(/\n+$/, '\n') };
}

export interface LocalGitRepoOptions {
  /** Where to create it; a fresh temporary folder when absent. */
  dir?: string;
  defaultBranch?: string;
  author?: { name: string; email: string };
}

/**
 * A working repository a test commits to, then announces through a fake's webhook.
 * Cloneable at `cloneUrl` (file://).
 */
export class LocalGitRepo {
  readonly dir: string;
  readonly defaultBranch: string;
  private readonly author: { name: string; email: string };

  constructor(opts: LocalGitRepoOptions = {}) {
    this.dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'harrier-git-'));
    this.defaultBranch = opts.defaultBranch ?? 'main';
    this.author = opts.author ?? { name: 'Mona Lisa', email: 'mona@example.com' };
    fs.mkdirSync(this.dir, { recursive: true });
    this.git('init', '--quiet', `--initial-branch=${this.defaultBranch}`);
    // Lets a test push into it as if it were a remote, even on the checked-out branch.
    this.git('config', 'receive.denyCurrentBranch', 'ignore');
  }

  get cloneUrl(): string {
    return `file://${this.dir}`;
  }

  git(...args: string[]): string {
    return execFileSync('git', ['-C', this.dir, '-c', 'commit.gpgsign=false', '-c', 'tag.gpgsign=false', ...args], {
      env: {
        ...GIT_ENV,
        GIT_AUTHOR_NAME: this.author.name,
        GIT_AUTHOR_EMAIL: this.author.email,
        GIT_COMMITTER_NAME: this.author.name,
        GIT_COMMITTER_EMAIL: this.author.email,
      },
      encoding: 'utf8',
    }).trim();
  }

  /** Writes the files (null deletes one) and commits on `branch` (default: the current one); returns the new hash. */
  commit(files: Record<string, string | null>, message = 'change files', branch?: string): string {
    if (branch) this.checkout(branch);
    for (const [file, content] of Object.entries(files)) {
      const full = path.join(this.dir, file);
      if (content === null) {
        fs.rmSync(full, { force: true });
      } else {
        fs.mkdirSync(path.dirname(full), { recursive: true });
        fs.writeFileSync(full, content);
      }
    }
    this.git('add', '--all');
    this.git('commit', '--quiet', '--allow-empty', '-m', message);
    return this.head();
  }

  /** Switches to the branch, creating it from the current commit when it does not exist. */
  checkout(branch: string): void {
    const exists = this.git('branch', '--list', branch) !== '';
    if (exists) this.git('checkout', '--quiet', branch);
    else this.git('checkout', '--quiet', '-b', branch);
  }

  tag(name: string, rev = 'HEAD', message?: string): string {
    if (message) this.git('tag', '-a', name, '-m', message, rev);
    else this.git('tag', name, rev);
    return this.git('rev-parse', `${name}^{commit}`);
  }

  head(rev = 'HEAD'): string {
    return this.git('rev-parse', rev);
  }

  info(rev = 'HEAD'): CommitInfo {
    return gitCommitInfoSync(this.dir, rev);
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
