// `harrier build logs --follow` as a user runs it: the built CLI in a child process,
// following a step that a real `harrier runner` runs in Docker, against a real server;
// and the exit codes a shell sees from the process.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Build, LogLine } from '../../core/domain.ts';
import { oneStepPipeline } from '../../test/support/fleet.ts';
import { spawnHarrier, type HarrierProcess } from '../../test/support/processes.ts';
import { githubScenario, SLUG, type GithubScenario } from '../../test/support/scenario.ts';
import { TEST_RPC_SECRET } from '../../test/support/server.ts';
import { captureIO } from '../testing/command-io.ts';
import { runClientCommand } from './client-program.ts';

const BIN = path.resolve(import.meta.dirname, '../../bin/harrier.js');

// The step prints two lines and then waits far longer than the test: it ends only when the test cancels it.
const PIPELINE = oneStepPipeline('talk', ['echo first line', 'echo second line', 'sleep 600']);

interface Cli {
  child: ChildProcess;
  out(): string;
  err(): string;
  exited: Promise<number | null>;
  printed(text: string): Promise<void>;
}

describe('harrier build logs --follow, and exit codes, as processes', () => {
  let s: GithubScenario;
  let runner: HarrierProcess;
  let workspace: string;
  const env = () => ({ PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', HARRIER_SERVER: s.server.host, HARRIER_TOKEN: s.token });

  beforeAll(async () => {
    if (!fs.existsSync(path.resolve(import.meta.dirname, '../../dist/cli/main.js'))) throw new Error('the CLI is not built: run `npm run build` (npm test does it)');
    s = await githubScenario({ pipeline: PIPELINE });
    workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'harrier-cli-follow-ws-'));
  });
  afterAll(async () => {
    await runner?.stop();
    await s?.close();
    if (workspace) fs.rmSync(workspace, { recursive: true, force: true });
  });

  function harrier(args: string[]): Cli {
    const child = spawn(process.execPath, [BIN, ...args], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const listeners = new Set<() => void>();
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      listeners.forEach((l) => l());
    });
    child.stderr!.on('data', (chunk: Buffer) => void (err += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    return {
      child,
      out: () => out,
      err: () => err,
      exited,
      printed: (wanted) =>
        new Promise((resolve, reject) => {
          const check = () => {
            if (!out.includes(wanted)) return;
            listeners.delete(check);
            resolve();
          };
          listeners.add(check);
          exited.then((code) => reject(new Error(`harrier ${args.join(' ')} exited ${code} before printing ${wanted}; stdout:\n${out}\nstderr:\n${err}`)));
          check();
        }),
    };
  }

  async function build(number: number): Promise<Build> {
    return (await (await s.api(`/api/repos/${SLUG}/builds/${number}`)).json()) as Build;
  }

  it('prints a running step\'s lines as it prints them and ends with the step; then prints the finished build\'s steps in order, each line marked', async () => {
    const { responses } = await s.push({ 'a.txt': 'a' }, 'Add a');
    const created = (await responses[0].build()) as Build;
    // Started before any runner exists: the command waits for the step to start, then follows it.
    const follow = harrier(['build', 'logs', SLUG, String(created.number), '1', 'talk', '--follow']);
    runner = spawnHarrier('runner', {
      HARRIER_SERVER_URL: s.server.host,
      HARRIER_RPC_SECRET: TEST_RPC_SECRET,
      HARRIER_RUNNER_NAME: `e2e-cli-${randomBytes(4).toString('hex')}`,
      HARRIER_RUNNER_CAPACITY: '1',
      HARRIER_RUNNER_WORKSPACE: workspace,
    });
    await follow.printed('second line\n');
    // The step sleeps until it is cancelled, so the lines arrived while it ran.
    const running = await build(created.number);
    expect(running.stages![0].steps!.find((st) => st.name === 'talk')!.status).toBe('running');
    expect(follow.child.exitCode).toBeNull();
    expect(follow.out()).toContain('+ echo first line\nfirst line\n+ echo second line\nsecond line\n');

    const cancel = captureIO(os.tmpdir(), env());
    expect(await runClientCommand(['build', 'cancel', SLUG, String(created.number)], cancel)).toBe(0);
    expect(await follow.exited).toBe(0);
    expect(follow.err()).toBe('');
    const stored = (await (await s.api(`/api/repos/${SLUG}/builds/${created.number}/logs/1/2`)).json()) as LogLine[];
    expect(follow.out()).toBe(stored.map((l) => l.out).join(''));

    // The build is over: following the whole of it prints each step's stored lines, marked, and returns.
    const whole = harrier(['build', 'logs', SLUG, 'last', '--follow']);
    expect(await whole.exited).toBe(0);
    expect(whole.out()).toMatch(/^\[default\/clone\] /);
    expect(whole.out()).toContain('[default/talk] first line\n[default/talk] + echo second line\n[default/talk] second line\n');

    const json = captureIO(os.tmpdir(), env());
    expect(await runClientCommand(['build', 'logs', SLUG, '1', 'default', '--format', 'json'], json)).toBe(0);
    const logs = JSON.parse(json.out()) as { stage: number; step: number; name: string; lines: LogLine[] }[];
    expect(logs.map((l) => [l.stage, l.step, l.name])).toEqual([
      [1, 1, 'clone'],
      [1, 2, 'talk'],
    ]);
    expect(logs[1].lines.map((l) => l.out)).toContain('second line\n');

    const lines = captureIO(os.tmpdir(), env());
    expect(await runClientCommand(['build', 'logs', SLUG, '1', '1', '2'], lines)).toBe(0);
    expect(lines.out()).toContain('+ echo first line\nfirst line\n');
  });

  it('as a process, ends with the server\'s message and exit 1 on a refusal, and exit 2 on a usage error', async () => {
    const [refused, usage] = [harrier(['build', 'info', SLUG, '999']), harrier(['build', 'info'])];
    expect(await refused.exited).toBe(1);
    expect(refused.err()).toBe(`harrier: ${SLUG} has no build 999 (404 from GET /api/repos/${SLUG}/builds/999)\n`);
    expect(await usage.exited).toBe(2);
    expect(usage.err()).toContain("error: missing required argument 'repo'");
  });
});
