// `harrier lint` and `harrier exec` as a user runs them: the built CLI (npm test builds
// dist/ first) in a child process, with real exit codes and real signals.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureNodeImage, TEST_IMAGES } from '../test/support/images.ts';
import { localFacts } from './local-facts.ts';
import { gitWorkdir, leftovers, removeWorkdir } from './testing/git-workdir.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin/harrier.js');
const IMAGE = TEST_IMAGES.alpine;
const workdirs: string[] = [];

beforeAll(() => {
  if (!fs.existsSync(path.join(ROOT, 'dist/cli/exec-command.js'))) throw new Error('the CLI is not built: run `npm run build` (npm test does it)');
  // .drone.yml.example runs node:20; a stand-in is made only when the engine has none.
  ensureNodeImage('node:20');
});
afterAll(() => workdirs.forEach(removeWorkdir));

interface Cli {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  /** Resolves once stdout holds `text`. */
  printed(text: string, timeoutMs?: number): Promise<void>;
}

function harrier(args: string[], cwd: string): Cli {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const listeners = new Set<() => void>();
  const take = (chunk: Buffer) => {
    text += chunk.toString();
    listeners.forEach((l) => l());
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return {
    child,
    output: () => text,
    exited,
    printed: (wanted, timeoutMs = 45_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`harrier ${args.join(' ')} did not print ${wanted}; output:\n${text}`)), timeoutMs);
        const check = () => {
          if (!text.includes(wanted)) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolve();
        };
        listeners.add(check);
        check();
      }),
  };
}

async function finished(args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  const cli = harrier(args, cwd);
  const code = await cli.exited;
  return { code, output: cli.output() };
}

function workdir(pipeline: string) {
  const repo = gitWorkdir({ '.drone.yml': pipeline });
  workdirs.push(repo.dir);
  return repo;
}

describe.concurrent('the harrier command', () => {
  it('harrier exec .drone.yml.example runs the example on this checkout and succeeds', async () => {
    const run = await finished(['exec', '.drone.yml.example'], ROOT);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/^\[hello\] Building \S+ at [0-9a-f]{40} on /m);
    expect(run.output).toContain('[test] tests would run here');
    expect(run.output).toMatch(/^pipeline "default": success/m);
    const slug = localFacts({ root: ROOT, configPath: '.drone.yml.example', event: 'push', trusted: false, params: {} }).repo.slug;
    expect(await leftovers(slug)).toEqual([]);
  });

  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`${signal} kills the running step, removes its containers and network, and exits ${code}`, async () => {
      // Not killed, the step would outlast the test's time limit.
      const repo = workdir(`kind: pipeline\ntype: docker\nname: default\nsteps:\n- name: wait\n  image: ${IMAGE}\n  commands: [echo waiting, sleep 600]\n`);
      const cli = harrier(['exec'], repo.dir);
      await cli.printed('[wait] waiting');
      cli.child.kill(signal);
      expect(await cli.exited, cli.output()).toBe(code);
      expect(cli.output()).toMatch(/^\[wait\] killed \(exit code 137, /m);
      expect(await leftovers(repo.slug)).toEqual([]);
    });
  }

  it('harrier exec exits 1 on a malformed file, with FILE:LINE:COL', async () => {
    const repo = workdir(`kind: pipeline\ntype: docker\nname: default\nsteps:\n- name: build\n  image: ${IMAGE}\n  commands: echo: [\n`);
    const run = await finished(['exec'], repo.dir);
    expect(run.code).toBe(1);
    expect(run.output).toMatch(/^\.drone\.yml:7:\d+ /m);
  });

  it('harrier exec and lint exit 2 on usage errors', async () => {
    const repo = workdir(`kind: pipeline\ntype: docker\nname: default\nsteps:\n- name: build\n  image: ${IMAGE}\n`);
    const runs = await Promise.all([
      finished(['exec', '--no-such-flag'], repo.dir),
      finished(['exec', 'missing.yml'], repo.dir),
      finished(['exec', '--event', 'pushed'], repo.dir),
      finished(['lint', 'missing.yml'], repo.dir),
      finished(['lint', '--format', 'xml'], repo.dir),
    ]);
    expect(runs.map((r) => r.code)).toEqual([2, 2, 2, 2, 2]);
    expect(runs[1].output).toContain('harrier exec: missing.yml: no such file');
  });

  it('harrier lint prints problems on stdout and exits 1; a valid file exits 0', async () => {
    const bad = workdir('kind: pipeline\ntype: docker\nname: default\nsteps:\n- name: build\n  image: alpine:3\n  comands: [echo]\n');
    const invalid = await finished(['lint'], bad.dir);
    expect(invalid.code).toBe(1);
    expect(invalid.output).toContain('.drone.yml:7:3 unknown key `comands` in step `build`. Did you mean `commands`?\n');
    const valid = await finished(['lint', '--format', 'json', '.drone.yml.example'], ROOT);
    expect(valid.code).toBe(0);
    expect(JSON.parse(valid.output).pipelines[0].name).toBe('default');
  });
});
