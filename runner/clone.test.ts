import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloneError, cloneRepo, gitEnvironment } from './clone.ts';
import { startGitHttpServer } from './testing/git-http-server.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'harrier-clone-test-'));
const origin = path.join(root, 'origin');
const commits: Record<string, string> = {};
const never = new AbortController().signal;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', ...args], { cwd, encoding: 'utf8' }).trim();
}

function commit(name: string): void {
  fs.writeFileSync(path.join(origin, 'file.txt'), `${name}\n`);
  git(origin, 'add', 'file.txt');
  git(origin, 'commit', '-q', '-m', name);
  commits[name] = git(origin, 'rev-parse', 'HEAD');
}

function workspace(): string {
  return fs.mkdtempSync(path.join(root, 'ws-'));
}

function collect() {
  let text = '';
  return { output: (chunk: Buffer | string) => void (text += chunk.toString()), text: () => text };
}

beforeAll(() => {
  fs.mkdirSync(origin);
  git(origin, 'init', '-q', '-b', 'main');
  commit('first');
  git(origin, 'tag', 'v1');
  commit('second');
  commit('third');
  git(origin, 'checkout', '-q', '-b', 'feature');
  commit('feature');
  git(origin, 'update-ref', 'refs/pull/7/head', commits.feature);
  git(origin, 'checkout', '-q', 'main');
  git(root, 'clone', '-q', '--bare', origin, path.join(root, 'served', 'repo.git'));
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const fileUrl = () => `file://${origin}`;

describe('cloneRepo', () => {
  it('checks out the build commit of a branch with a shallow fetch, echoing each git command', async () => {
    const dir = workspace();
    const out = collect();
    await cloneRepo({ dir, remote: fileUrl(), build: { ref: 'refs/heads/main', after: commits.third, event: 'push' }, depth: 1, retries: 0, netrc: null, output: out.output, signal: never });
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(commits.third);
    expect(git(dir, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('main');
    expect(git(dir, 'rev-list', '--count', 'HEAD')).toBe('1');
    expect(fs.readFileSync(path.join(dir, 'file.txt'), 'utf8')).toBe('third\n');
    expect(out.text()).toContain('+ git init -q\n');
    expect(out.text()).toContain(`+ git fetch --depth=1 origin +refs/heads/main:refs/remotes/origin/main\n`);
  });

  it('leaves origin set up as git remote add would, also for a URL with characters git config must quote', async () => {
    const odd = path.join(root, 'odd "name" #1; a\\b');
    git(root, 'clone', '-q', '--bare', origin, odd);
    const remote = `file://${odd}`;
    const dir = workspace();
    const out = collect();
    await cloneRepo({ dir, remote, build: { ref: 'refs/heads/main', after: commits.third, event: 'push' }, depth: 1, retries: 0, netrc: null, output: out.output, signal: never });
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(commits.third);
    expect(git(dir, 'remote')).toBe('origin');
    expect(git(dir, 'config', '--get', 'remote.origin.url')).toBe(remote);
    expect(git(dir, 'config', '--get-all', 'remote.origin.fetch')).toBe('+refs/heads/*:refs/remotes/origin/*');
    expect(out.text()).toContain('+ git remote add origin file:///');
    // A later fetch by a step goes through the same remote.
    expect(git(dir, 'ls-remote', 'origin', 'refs/heads/main').split('\t')[0]).toBe(commits.third);
  });

  it('fetches the whole history when depth is 0', async () => {
    const dir = workspace();
    await cloneRepo({ dir, remote: fileUrl(), build: { ref: 'refs/heads/main', after: commits.third, event: 'push' }, depth: 0, retries: 0, netrc: null, output: () => {}, signal: never });
    expect(git(dir, 'rev-list', '--count', 'HEAD')).toBe('3');
  });

  it('finds the build commit when the branch moved on beyond the fetched depth', async () => {
    const dir = workspace();
    const out = collect();
    await cloneRepo({ dir, remote: fileUrl(), build: { ref: 'refs/heads/main', after: commits.first, event: 'push' }, depth: 1, retries: 0, netrc: null, output: out.output, signal: never });
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(commits.first);
    expect(out.text()).toContain('is not in the fetched history');
  });

  it('checks out a tag build and keeps the tag', async () => {
    const dir = workspace();
    await cloneRepo({ dir, remote: fileUrl(), build: { ref: 'refs/tags/v1', after: commits.first, event: 'tag' }, depth: 1, retries: 0, netrc: null, output: () => {}, signal: never });
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(commits.first);
    expect(git(dir, 'tag', '--list')).toBe('v1');
  });

  it('checks out the head of a pull request ref', async () => {
    const dir = workspace();
    await cloneRepo({ dir, remote: fileUrl(), build: { ref: 'refs/pull/7/head', after: commits.feature, event: 'pull_request' }, depth: 1, retries: 0, netrc: null, output: () => {}, signal: never });
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(commits.feature);
  });

  it('fetches the commit itself when the build branch was deleted since the push', async () => {
    const dir = workspace();
    await cloneRepo({ dir, remote: fileUrl(), build: { ref: 'refs/heads/deleted-branch', after: commits.second, event: 'push' }, depth: 1, retries: 0, netrc: null, output: () => {}, signal: never });
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(commits.second);
    expect(git(dir, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('deleted-branch');
  });

  it('fails with a clear error when the commit is on no fetched ref', async () => {
    const dir = workspace();
    const err = await cloneRepo({ dir, remote: fileUrl(), build: { ref: 'refs/heads/main', after: 'f'.repeat(40), event: 'push' }, depth: 1, retries: 0, netrc: null, output: () => {}, signal: never }).catch((e) => e);
    expect(err).toBeInstanceOf(CloneError);
    expect(err.message).toContain(`commit ${'f'.repeat(40)} is not in refs/heads/main`);
  });

  it('retries a failing fetch as often as clone.retries says, then fails', async () => {
    const dir = workspace();
    const out = collect();
    const err = await cloneRepo({ dir, remote: `file://${root}/missing`, build: { ref: 'refs/heads/main', after: commits.first, event: 'push' }, depth: 1, retries: 2, netrc: null, output: out.output, signal: never, retryDelayMs: 10 }).catch((e) => e);
    expect(err).toBeInstanceOf(CloneError);
    expect(out.text().match(/\+ git fetch --depth=1 origin \+refs\/heads\/main:/g)?.length).toBe(3);
    expect(out.text()).toContain('attempt 3 of 3');
  });

  it('stops git at once when the signal aborts', async () => {
    const dir = workspace();
    const ac = new AbortController();
    ac.abort(new Error('cancelled'));
    await expect(cloneRepo({ dir, remote: fileUrl(), build: { ref: 'refs/heads/main', after: commits.first, event: 'push' }, depth: 1, retries: 0, netrc: null, output: () => {}, signal: ac.signal })).rejects.toThrow('cancelled');
  });

  describe('over smart HTTP with Basic auth', () => {
    const credentials = { login: 'ci-bot', password: 's3cret-pass' };
    let server: Awaited<ReturnType<typeof startGitHttpServer>>;
    beforeAll(async () => {
      server = await startGitHttpServer(path.join(root, 'served'), credentials);
    });
    afterAll(() => server.close());

    it('clones a private repository with the netrc credentials, keeping them out of the log', async () => {
      const dir = workspace();
      const out = collect();
      await cloneRepo({
        dir,
        remote: `${server.url}/repo.git`,
        build: { ref: 'refs/heads/main', after: commits.second, event: 'push' },
        depth: 1,
        retries: 0,
        netrc: { machine: '127.0.0.1', ...credentials },
        output: out.output,
        signal: never,
      });
      expect(git(dir, 'rev-parse', 'HEAD')).toBe(commits.second);
      const token = Buffer.from(`${credentials.login}:${credentials.password}`).toString('base64');
      expect(server.authorizations).toContain(`Basic ${token}`);
      expect(out.text()).not.toContain(credentials.password);
      expect(out.text()).not.toContain(token);
      expect(fs.readFileSync(path.join(dir, '.git', 'config'), 'utf8')).not.toContain(token);
    });

    it('fails without prompting when the repository is private and no credentials are given', async () => {
      // A prompt would wait for an answer past the test's time limit.
      const dir = workspace();
      await expect(
        cloneRepo({ dir, remote: `${server.url}/repo.git`, build: { ref: 'refs/heads/main', after: commits.second, event: 'push' }, depth: 1, retries: 0, netrc: null, output: () => {}, signal: never }),
      ).rejects.toThrow(CloneError);
    });
  });
});

describe('gitEnvironment', () => {
  const netrc = { machine: 'git.example.com', login: 'u', password: 'p' };

  it('scopes the credentials header to the netrc host', () => {
    const env = gitEnvironment('https://git.example.com/a/b.git', netrc, {});
    expect(env.GIT_CONFIG_COUNT).toBe('1');
    expect(env.GIT_CONFIG_KEY_0).toBe('http.https://git.example.com/.extraHeader');
    expect(env.GIT_CONFIG_VALUE_0).toBe(`Authorization: Basic ${Buffer.from('u:p').toString('base64')}`);
    expect(env.GIT_TERMINAL_PROMPT).toBe('0');
  });

  it('sends no credentials to another host', () => {
    expect(gitEnvironment('https://elsewhere.example.com/a.git', netrc, {}).GIT_CONFIG_COUNT).toBeUndefined();
  });

  it('adds to config entries already in the environment', () => {
    const env = gitEnvironment('https://git.example.com/a.git', netrc, { GIT_CONFIG_COUNT: '2' });
    expect(env.GIT_CONFIG_COUNT).toBe('3');
    expect(env.GIT_CONFIG_KEY_2).toBe('http.https://git.example.com/.extraHeader');
  });
});
