// What the server would know about a build, made up from the working copy for
// `harrier exec`: the repository, the commit, the branch and its author from `git`,
// or placeholders when the folder is not a git repository.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import type { Build, EventName, Provider, Repo } from '../core/domain.ts';
import type { SystemInfo } from '../core/protocol.ts';
import { HARRIER_VERSION } from '../core/version.ts';
import { UsageError } from './command-io.ts';

export const EVENTS: EventName[] = ['push', 'pull_request', 'tag', 'promote', 'rollback', 'cron', 'custom'];
const DEFAULT_BRANCH = 'main';
const NO_COMMIT = '0'.repeat(40);

export interface LocalFactsInput {
  /** The working copy: mounted as the workspace, and where git is asked. */
  root: string;
  /** The pipeline file, relative to root where it lies inside it. */
  configPath: string;
  event: string;
  /** Default: the checked-out branch, else main. */
  branch?: string;
  /** Default: refs/heads/BRANCH; refs/tags/TAG (the tag at HEAD) for tags; refs/pull/1/head for pull requests. */
  ref?: string;
  /** Promotion target (`target:` conditions, DRONE_DEPLOY_TO). */
  deployTo?: string;
  trusted: boolean;
  /** Build parameters (`--env`): every step sees them, and `${NAME}` substitutes them. */
  params: Record<string, string>;
  now?: number;
}

export interface LocalFacts {
  repo: Repo;
  build: Build;
  system: SystemInfo;
  /** Whether the facts came from git, or are placeholders. */
  fromGit: boolean;
}

function git(cwd: string, ...args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** The top of the git repository holding `dir`, else `dir` itself. */
export function workingCopyRoot(dir: string): string {
  return git(dir, 'rev-parse', '--show-toplevel') || dir;
}

interface Remote {
  namespace: string;
  name: string;
  link: string;
  scm: Provider;
}

/** owner/name and web link from a clone URL: https://host/o/n.git, git@host:o/n.git, ssh://git@host/o/n. */
export function parseRemote(url: string): Remote | undefined {
  // A remote on this machine names no owner.
  if (/^(file:|\/|\.)/.test(url.trim())) return undefined;
  const match = /^(?:[a-z+]+:\/\/)?(?:[^@/]+@)?([^/:]+)(?::\d+)?[:/](.+?)(?:\.git)?\/?$/i.exec(url.trim());
  if (!match) return undefined;
  const [, host, repoPath] = match;
  const parts = repoPath.split('/').filter(Boolean);
  if (parts.length < 2) return undefined;
  const name = parts[parts.length - 1];
  const namespace = parts.slice(0, -1).join('/');
  return { namespace, name, link: `https://${host}/${namespace}/${name}`, scm: host.includes('bitbucket') ? 'bitbucket' : 'github' };
}

export function localFacts(input: LocalFactsInput): LocalFacts {
  if (!EVENTS.includes(input.event as EventName)) {
    throw new UsageError(`--event ${input.event} is not an event Harrier knows: use one of ${EVENTS.join(', ')}`);
  }
  const event = input.event as EventName;
  const now = input.now ?? Math.floor(Date.now() / 1000);
  const { root } = input;
  const sha = git(root, 'rev-parse', '--verify', '-q', 'HEAD');
  const fromGit = sha !== undefined;
  const branch = input.branch || (fromGit ? git(root, 'symbolic-ref', '--short', '-q', 'HEAD') : undefined) || DEFAULT_BRANCH;
  const ref = input.ref || defaultRef(root, event, branch, fromGit);

  const remoteUrl = fromGit ? git(root, 'remote', 'get-url', 'origin') : undefined;
  const remote = remoteUrl ? parseRemote(remoteUrl) : undefined;
  const namespace = remote?.namespace ?? 'local';
  const name = remote?.name ?? (path.basename(root) || 'workspace');
  const defaultBranch = (fromGit && git(root, 'symbolic-ref', '--short', '-q', 'refs/remotes/origin/HEAD')?.replace(/^origin\//, '')) || DEFAULT_BRANCH;

  const [authorName, authorEmail] = fromGit ? (git(root, 'log', '-1', '--format=%an%n%ae') ?? '').split('\n') : [];
  const user = safeUserName();
  const message = (fromGit && git(root, 'log', '-1', '--format=%B')) || '';

  const repo: Repo = {
    id: 1, uid: 'local', user_id: 0, namespace, name, slug: `${namespace}/${name}`, scm: remote?.scm ?? 'github',
    git_http_url: remoteUrl ?? `file://${root}`, git_ssh_url: '', link: remote?.link ?? '', default_branch: defaultBranch,
    private: true, visibility: 'private', active: true, config_path: input.configPath, trusted: input.trusted, protected: false,
    ignore_forks: false, ignore_pull_requests: false, timeout: 60, counter: 1, synced: now, created: now, updated: now, version: 1,
  };
  const build: Build = {
    id: 1, repo_id: 1, trigger: '@exec', number: 1, parent: 0, status: 'running', error: '', event, action: event === 'pull_request' ? 'opened' : '',
    link: '', timestamp: now, title: message.split('\n')[0] ?? '', message, before: (fromGit && git(root, 'rev-parse', '--verify', '-q', 'HEAD^')) || NO_COMMIT,
    after: sha ?? NO_COMMIT, ref, source_repo: repo.slug, source: branch, target: branch,
    author_login: authorEmail?.split('@')[0] || user, author_name: authorName || user, author_email: authorEmail || '', author_avatar: '',
    sender: user, params: { ...input.params }, cron: '', deploy_to: input.deployTo ?? '', started: now, finished: 0, created: now, updated: now,
    version: 1, config_source: 'file',
  };
  const system: SystemInfo = { link: 'http://localhost', host: 'localhost', proto: 'http', version: HARRIER_VERSION };
  return { repo, build, system, fromGit };
}

function defaultRef(root: string, event: EventName, branch: string, fromGit: boolean): string {
  if (event === 'pull_request') return 'refs/pull/1/head';
  if (event === 'tag') {
    const tag = fromGit ? git(root, 'describe', '--tags', '--exact-match', 'HEAD') : undefined;
    if (!tag) throw new UsageError('--event tag needs a tag: no tag points at HEAD; tag the commit, or pass --ref refs/tags/NAME');
    return `refs/tags/${tag}`;
  }
  return `refs/heads/${branch}`;
}

function safeUserName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'local';
  }
}
