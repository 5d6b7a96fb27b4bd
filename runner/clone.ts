// Clones the build's commit on the runner's machine with the git CLI into the stage's
// workspace, which every step then mounts. Credentials reach git through its
// environment (GIT_CONFIG_*), never its arguments, so they stay out of `ps` and the log.
import fs from 'node:fs';
import path from 'node:path';
import type { Build, EventName, Netrc } from '../core/domain.ts';
import { type CloneOutput, displayUrl, type GitResult, runGit } from './git-command.ts';
import { sleep } from './rpc-client.ts';

export interface CloneOptions {
  /** An empty folder to clone into. */
  dir: string;
  remote: string;
  build: Pick<Build, 'ref' | 'after' | 'event'> & { event: EventName };
  /** Commits of history to fetch; 0 fetches all of it. */
  depth: number;
  /** How many times to try the fetch again after it failed. */
  retries: number;
  netrc: Netrc | null;
  output: CloneOutput;
  signal: AbortSignal;
  /** Pause before retry n is n times this; tests shorten it. */
  retryDelayMs?: number;
}

export class CloneError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CloneError';
  }
}

/** The environment git runs with: no prompts, and the netrc credentials as a header for the netrc's host only. */
export function gitEnvironment(remote: string, netrc: Netrc | null, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '', SSH_ASKPASS: '' };
  let url: URL | undefined;
  try {
    url = new URL(remote);
  } catch {
    return env;
  }
  if (!netrc || !/^https?:$/.test(url.protocol) || url.hostname !== netrc.machine) return env;
  const index = Number(base.GIT_CONFIG_COUNT ?? 0) || 0;
  const token = Buffer.from(`${netrc.login}:${netrc.password}`).toString('base64');
  // Scoped to the repository's origin, so a redirect elsewhere does not get the header.
  env[`GIT_CONFIG_KEY_${index}`] = `http.${url.protocol}//${url.host}/.extraHeader`;
  env[`GIT_CONFIG_VALUE_${index}`] = `Authorization: Basic ${token}`;
  env.GIT_CONFIG_COUNT = String(index + 1);
  return env;
}

/** What to fetch for the build's ref, and the branch to check out when it is one. */
export function refspecFor(ref: string): { refspec: string; branch?: string } {
  if (ref.startsWith('refs/heads/')) {
    const branch = ref.slice('refs/heads/'.length);
    return { refspec: `+${ref}:refs/remotes/origin/${branch}`, branch };
  }
  if (ref.startsWith('refs/tags/')) return { refspec: `+${ref}:${ref}` };
  return { refspec: `+${ref}:` };
}

function transportSupportsShallow(stderr: string): boolean {
  return !/dumb http transport does not support shallow|does not support shallow|shallow.*not supported/i.test(stderr);
}

export async function cloneRepo(options: CloneOptions): Promise<void> {
  const { dir, remote, build, netrc, output, signal } = options;
  const env = gitEnvironment(remote, netrc);
  const git = (args: string[], display?: string[]) => runGit(args, { cwd: dir, env, output, signal, display });
  const must = async (args: string[], what: string, display?: string[]) => {
    const result = await git(args, display);
    if (result.code !== 0) throw new CloneError(`${what} failed (git exit code ${result.code})`, result.code);
    return result;
  };
  const sha = build.after;
  if (!/^[0-9a-f]{7,64}$/i.test(sha)) throw new CloneError(`the build has no commit to check out (after="${sha}")`, 1);

  await must(['init', '-q'], 'git init');
  await addOrigin(dir, remote, output);

  const { refspec, branch } = build.ref ? refspecFor(build.ref) : { refspec: sha, branch: undefined };
  let depth = options.depth;
  const fetch = async (spec: string): Promise<GitResult> => {
    let result = await git(['fetch', ...(depth > 0 ? [`--depth=${depth}`] : []), 'origin', spec]);
    if (result.code !== 0 && depth > 0 && !transportSupportsShallow(result.stderr)) {
      output(`the remote cannot fetch shallow; fetching the full history\n`);
      depth = 0;
      result = await git(['fetch', 'origin', spec]);
    }
    return result;
  };

  const attempts = Math.max(0, options.retries) + 1;
  for (let attempt = 1; ; attempt++) {
    const result = await fetch(refspec);
    if (result.code === 0) break;
    if (attempt >= attempts) {
      // The ref may be gone (a branch deleted after the push) while its commit is still served.
      if (build.ref && (await fetch(sha)).code === 0) break;
      throw new CloneError(`could not fetch ${build.ref || sha} from ${displayUrl(remote)} (git exit code ${result.code})`, result.code);
    }
    const wait = (options.retryDelayMs ?? 1_000) * attempt;
    output(`fetch failed; trying again in ${Math.round(wait / 100) / 10}s (attempt ${attempt + 1} of ${attempts})\n`);
    await sleep(wait, signal);
  }

  if (!(await fetchedAsTip(dir, sha)) && !(await hasCommit(dir, env, sha, signal))) {
    // The ref moved on since the push, beyond the fetched depth: ask for the commit itself,
    // then for the ref's whole history when the server refuses to hand out single commits.
    output(`commit ${sha} is not in the fetched history; fetching it\n`);
    const direct = await fetch(sha);
    if ((direct.code !== 0 || !(await hasCommit(dir, env, sha, signal))) && fs.existsSync(path.join(dir, '.git', 'shallow'))) {
      await git(['fetch', '--unshallow', 'origin', refspec]);
    }
    if (!(await hasCommit(dir, env, sha, signal))) {
      throw new CloneError(`commit ${sha} is not in ${build.ref || 'the repository'} at ${displayUrl(remote)}`, 1);
    }
  }

  if (branch) await must(['checkout', '-q', '-f', '-B', branch, sha], 'git checkout');
  else await must(['checkout', '-q', '-f', sha], 'git checkout');
}

/**
 * Writes what `git remote add origin <remote>` writes to the new repository's config, and
 * logs it as that command: the same result with one git process fewer, which on a busy
 * machine is a tenth of a second or more of every build.
 */
async function addOrigin(dir: string, remote: string, output: CloneOutput): Promise<void> {
  output(`+ git remote add origin ${displayUrl(remote)}\n`);
  // A quoted config value: only backslash, double quote and line breaks need escaping.
  const quoted = remote.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '');
  await fs.promises.appendFile(path.join(dir, '.git', 'config'), `[remote "origin"]\n\turl = "${quoted}"\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n`);
}

/**
 * Whether the fetch brought the commit as the tip of what it fetched (the usual case: the
 * ref has not moved since the push), read from FETCH_HEAD without starting git again.
 */
async function fetchedAsTip(dir: string, sha: string): Promise<boolean> {
  if (sha.length !== 40 && sha.length !== 64) return false;
  const fetched = await fs.promises.readFile(path.join(dir, '.git', 'FETCH_HEAD'), 'utf8').catch(() => '');
  return fetched.split('\n').some((line) => line.split('\t')[0].toLowerCase() === sha.toLowerCase());
}

async function hasCommit(dir: string, env: NodeJS.ProcessEnv, sha: string, signal: AbortSignal): Promise<boolean> {
  const result = await runGit(['cat-file', '-e', `${sha}^{commit}`], { cwd: dir, env, output: () => {}, signal });
  return result.code === 0;
}
