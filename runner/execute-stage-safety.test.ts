// What a stranger's step cannot do to the logs and the host, on the real Docker engine: the
// per-step log cap, secrets (and the clone credentials) masked in every form, however the
// output is cut, and workspaces private to the runner's user.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StageDetails } from '../core/protocol.ts';
import type { Pipeline } from '../pipeline/types.ts';
import type { Backend } from './backend/backend.ts';
import { DockerBackend } from './backend/docker/docker-backend.ts';
import { executeStage, type ExecuteStageOptions, type StageCompiler } from './execute-stage.ts';
import { LABEL_RUNNER } from './labels.ts';
import { RpcClient } from './rpc-client.ts';
import { MASK } from './secret-mask.ts';
import { FakeRpcServer } from './testing/fake-rpc-server.ts';
import { type HandStep, handPlan } from './testing/hand-plan.ts';
import { stageDetails, stepNamed } from './testing/stage-details.ts';
import { sweepStaleTestObjects, testRunnerName } from './testing/test-runner-names.ts';

const secret = 'test-rpc-secret';
const runnerName = testRunnerName('safety');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'harrier-safety-test-'));
const workspaceDir = path.join(root, 'workspaces', runnerName);
const origin = path.join(root, 'origin');
const backend = new DockerBackend();
let server: FakeRpcServer;
let rpc: RpcClient;
let sha = '';

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.com', ...args], { cwd, encoding: 'utf8' }).trim();
}

beforeAll(async () => {
  await sweepStaleTestObjects();
  fs.mkdirSync(origin);
  git(origin, 'init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(origin, 'hello.txt'), 'hello\n');
  git(origin, 'add', '.');
  git(origin, 'commit', '-q', '-m', 'first');
  sha = git(origin, 'rev-parse', 'HEAD');
  server = await new FakeRpcServer({ secret, pollWindowMs: 1_000 }).start();
  rpc = new RpcClient({ serverUrl: server.url, secret });
});

afterAll(async () => {
  await server.close();
  await backend.removeLeftovers({ [LABEL_RUNNER]: runnerName });
  fs.rmSync(root, { recursive: true, force: true });
});

interface SafetyRun {
  steps: HandStep[];
  secrets?: { name: string; value: string }[];
  netrc?: StageDetails['netrc'];
  remote?: string;
  clone?: boolean;
  logLimitBytes?: number;
  backend?: Backend;
  /** Called when the workspace exists, before any step runs. */
  onWorkspace?: (workspace: string) => void;
}

async function run(input: SafetyRun) {
  const details = stageDetails({
    config: '',
    steps: [...(input.clone === false ? [] : ['clone']), ...input.steps.map((s) => s.name)],
    remote: input.remote ?? `file://${origin}`,
    after: sha,
    secrets: input.secrets,
  });
  details.netrc = input.netrc ?? null;
  server.stages.set(details.stage.id, details);
  const offset = input.clone === false ? 1 : 2;
  const compile: StageCompiler = (_details, request) => {
    input.onWorkspace?.(request.workspaceHostPath);
    const plan = handPlan(
      input.steps.map((s, i) => ({ number: i + offset, ...s })),
      { workspaceHostPath: request.workspaceHostPath, labels: request.labels },
    );
    const pipeline = { name: 'default', clone: { disable: input.clone === false, depth: 1, retries: 0 } } as Pipeline;
    return { ok: true, pipeline, plan };
  };
  const options: ExecuteStageOptions = { rpc, backend: input.backend ?? backend, compile, workspaceDir, runnerName, logLimitBytes: input.logLimitBytes };
  const outcome = await executeStage(details, options);
  const step = (name: string) => {
    const s = stepNamed(details, name);
    return { lines: server.logs.get(s.id) ?? [], log: server.logText(s.id), last: server.stepUpdates.get(s.id)?.at(-1) };
  };
  return { details, outcome, step };
}

describe('the per-step log cap', () => {
  it('ends the log with one line saying what was kept, lets the step run to its own exit code, and reports log_cut', async () => {
    const r = await run({
      clone: false,
      logLimitBytes: 4096,
      steps: [
        { name: 'noisy', commands: ['seq 1 100000', 'echo finished-after-the-cut > /drone/src/marker', 'exit 3'] },
        { name: 'quiet', commands: ['cat /drone/src/marker'], runOn: ['success', 'failure'] },
      ],
    });
    const noisy = r.step('noisy');
    expect(noisy.last).toMatchObject({ status: 'failure', exit_code: 3, log_cut: true });
    const kept = noisy.lines.slice(0, -1).map((l) => l.out).join('');
    expect(Buffer.byteLength(kept)).toBeLessThanOrEqual(4096);
    expect(noisy.lines.at(-1)!.out).toBe(
      `[harrier] the log was cut here: the step wrote more than the limit of 4 KiB (HARRIER_RUNNER_LOG_LIMIT=4096 bytes). ${Buffer.byteLength(kept)} bytes were kept ` +
        "and the rest of its output is dropped; the step runs on to its end. The runner's operator can raise HARRIER_RUNNER_LOG_LIMIT.\n",
    );
    expect(noisy.log).not.toContain('\n100000\n');
    // The step went on past the cut: the file it wrote afterwards is there for the next step.
    expect(r.step('quiet').log).toContain('finished-after-the-cut\n');
    expect(r.step('quiet').last).toMatchObject({ status: 'success' });
    expect(r.step('quiet').last?.log_cut).toBeUndefined();
  });

  it('ends the log with the reason and reports log_cut when the backend could not read the output to its end', async () => {
    const stub: Backend = {
      setup: async () => {},
      run: async (_plan, _step, output, _signal, outputLost) => {
        await output(Buffer.from('before\n'));
        outputLost?.('the output stopped coming');
        await output(Buffer.from('after\n'));
        return { exitCode: 0, oomKilled: false };
      },
      destroy: async () => {},
      healthy: async () => {},
    };
    const r = await run({ clone: false, backend: stub, steps: [{ name: 'cut', commands: ['true'] }] });
    expect(r.step('cut').lines.map((l) => l.out)).toEqual(['before\n', '[harrier] the log ends here: the output stopped coming.\n']);
    expect(r.step('cut').last).toMatchObject({ status: 'success', exit_code: 0, log_cut: true });
  });
});

/** Printable text with regular expression characters, spaces at the ends sometimes, and characters outside ASCII. */
function randomValue(): string {
  const pool = [
    ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',
    ...'.*+?^${}()|[]\\/-_=:;,<>!@#%&~`\'"',
    'é', '✓', '日本', '😀', 'ß', 'Ω',
  ];
  const length = 4 + crypto.randomInt(33);
  let value = '';
  while ([...value].length < length) value += pool[crypto.randomInt(pool.length)];
  const pad = crypto.randomInt(4);
  if (pad === 1) value = ` ${value}`;
  if (pad === 2) value = `${value}  `;
  return value;
}

/** The forms a leak would take; none may be in a stored log line. */
function leakForms(value: string): string[] {
  const b64 = Buffer.from(value).toString('base64');
  const url = Buffer.from(value).toString('base64url');
  return [value, value.trim(), b64, b64.replace(/=+$/, ''), url, encodeURIComponent(value)].filter((f) => [...f].length >= 4);
}

describe('secret masking on Docker', () => {
  it('hides random secret values and the clone token printed plainly, base64- and URL-encoded, and across a 2 MB line', async () => {
    const values = Array.from({ length: 6 }, randomValue);
    const multiLine = `-----BEGIN KEY-----\n${crypto.randomBytes(30).toString('base64')}\n-----END KEY-----\n`;
    const token = `ghp_${crypto.randomBytes(12).toString('hex')}`;
    const secrets = [...values.map((value, i) => ({ name: `s${i}`, value })), { name: 'key', value: multiLine }];
    const steps: HandStep[] = secrets.map(({ name, value }, i) => ({
      name: `echo-${name}`,
      secretEnv: { S: name },
      // Encodings made here, since the test image has no URL encoder; the step prints them as any tool would.
      env: { URLFORM: encodeURIComponent(value), B64URL: Buffer.from(value).toString('base64url'), OFFSET: String(1048576 - 3 - i) },
      commands: [
        'printf "%s\\n" "$S"',
        'printf "[%s]\\n" "$S"',
        'echo $S',
        'printf "%s" "$S" | busybox base64 -w 0; echo',
        'printf "user:%s" "$S" | busybox base64 -w 0; echo',
        'echo "$B64URL"',
        'echo "https://example.com/?q=$URLFORM&x=1"',
        // One 2 MB line with the value across the point where the log splits it.
        '{ head -c "$OFFSET" /dev/zero | tr "\\0" a; printf "%s" "$S"; head -c 1000000 /dev/zero | tr "\\0" b; echo; }',
      ],
    }));
    steps.push({ name: 'echo-token', env: { TOKEN: token }, commands: ['echo "token $TOKEN"', 'printf "x-access-token:%s" "$TOKEN" | busybox base64 -w 0; echo'] });
    const r = await run({
      secrets,
      steps,
      netrc: { machine: 'example.invalid', login: token, password: 'x-oauth-basic' },
      // The clone fails, and git names the remote (with the token in it) in the clone log.
      remote: `file://${root}/${token}`,
    });
    expect(r.step('clone').log).toContain(MASK);
    const logs = [r.step('clone'), ...steps.map((s) => r.step(s.name))];
    // The clone failed, so the steps were skipped: run them again without the clone.
    expect(r.outcome.status).toBe('failure');
    const again = await run({ secrets, steps, clone: false, netrc: { machine: 'example.invalid', login: token, password: 'x-oauth-basic' } });
    expect(again.outcome).toEqual({ status: 'success', error: '' });
    logs.push(...steps.map((s) => again.step(s.name)));
    for (const [i, { value }] of secrets.entries()) {
      const log = again.step(`echo-${secrets[i].name}`).log;
      expect(log, JSON.stringify(value)).toContain(MASK);
      // The 2 MB line arrived, in pieces.
      expect(log.split('\n').filter((l) => /^a+(\*{6})?/.test(l)).length, JSON.stringify(value)).toBeGreaterThan(0);
    }
    const forms = [
      ...secrets.flatMap(({ value }) => [...leakForms(value), ...value.split('\n').filter((l) => l.length >= 4)]),
      ...leakForms(token),
      ...leakForms(`user:${token}`),
    ];
    for (const { lines } of logs) {
      for (const line of lines) {
        for (const form of forms) {
          if (line.out.includes(form)) throw new Error(`a log line holds ${JSON.stringify(form)}: ${JSON.stringify(line.out.slice(0, 200))}`);
        }
      }
    }
  });
});

describe('workspaces', () => {
  it('keeps the runner folder private (0700) and lets root steps write the stage workspace, which is not world-writable', async () => {
    fs.mkdirSync(workspaceDir, { recursive: true, mode: 0o777 });
    fs.chmodSync(workspaceDir, 0o777);
    const modes: Record<string, number> = {};
    const r = await run({
      clone: false,
      steps: [{ name: 'write', commands: ['echo written > /drone/src/file', 'cat /drone/src/file'] }],
      onWorkspace: (workspace) => {
        modes.runner = fs.statSync(workspaceDir).mode & 0o7777;
        modes.stage = fs.statSync(workspace).mode & 0o7777;
      },
    });
    expect(modes).toEqual({ runner: 0o700, stage: 0o755 });
    expect(r.step('write').log).toContain('written\n');
    expect(r.outcome.status).toBe('success');
  });
});
