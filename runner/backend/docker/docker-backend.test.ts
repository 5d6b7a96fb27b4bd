import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../../pipeline/types.ts';
import { TEST_IMAGES } from '../../../test/support/images.ts';
import { LABEL_RUNNER } from '../../labels.ts';
import { type HandPlanOptions, type HandStep, handPlan } from '../../testing/hand-plan.ts';
import { ImageUnavailableError, StepTimeoutError } from '../backend.ts';
import { DockerBackend, drain, settleCpus } from './docker-backend.ts';
import { sweepStaleTestObjects, testRunnerName } from '../../testing/test-runner-names.ts';

const runnerLabel = testRunnerName('backend');
const backend = new DockerBackend();
const plans: Plan[] = [];

function plan(steps: HandStep[], options: HandPlanOptions = {}): Plan {
  const p = handPlan(steps, { ...options, labels: { [LABEL_RUNNER]: runnerLabel, ...options.labels } });
  plans.push(p);
  return p;
}

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8' }).trim();
}

function collect(): { output: (chunk: Buffer) => void; text: () => string } {
  const chunks: Buffer[] = [];
  return { output: (chunk) => void chunks.push(chunk), text: () => Buffer.concat(chunks).toString() };
}

const never = new AbortController().signal;

beforeAll(() => sweepStaleTestObjects());

afterEach(async () => {
  await Promise.all(plans.splice(0).map((p) => backend.destroy(p)));
});

afterAll(async () => {
  await backend.removeLeftovers({ [LABEL_RUNNER]: runnerLabel });
});

describe('DockerBackend', () => {
  it('finds the name of the container whose host name it is given, as a runner inside a compose replica asks', async () => {
    const name = `${runnerLabel}-replica-${process.pid}`;
    const id = docker('create', '--name', name, '--label', `${LABEL_RUNNER}=${runnerLabel}`, TEST_IMAGES.busybox, 'true');
    try {
      expect(await backend.ownContainerName(id.slice(0, 12))).toBe(name);
      expect(await backend.ownContainerName('not-a-container-host')).toBeUndefined();
    } finally {
      docker('rm', '-f', id);
    }
  });

  it('streams a line of output while the container is still running', async () => {
    const p = plan([{ name: 'live', commands: ['echo first', 'sleep 2', 'echo second'] }]);
    await backend.setup(p, never);
    let runningAtFirstChunk: boolean | undefined;
    const chunks: string[] = [];
    const result = await backend.run(
      p,
      p.steps[0],
      (chunk) => {
        chunks.push(chunk.toString());
        if (runningAtFirstChunk === undefined) {
          runningAtFirstChunk = docker('inspect', '-f', '{{.State.Running}}', p.steps[0].id) === 'true';
        }
      },
      never,
    );
    expect(runningAtFirstChunk).toBe(true);
    expect(result).toEqual({ exitCode: 0, oomKilled: false });
    expect(chunks.join('')).toBe("+ echo first\nfirst\n+ sleep 2\n+ echo second\nsecond\n");
  });

  it('returns the exit code of a failing step and streams both stdout and stderr', async () => {
    const p = plan([{ name: 'fails', commands: ['echo out', 'echo err >&2', 'exit 3'] }]);
    await backend.setup(p, never);
    const out = collect();
    const result = await backend.run(p, p.steps[0], out.output, never);
    expect(result.exitCode).toBe(3);
    expect(out.text()).toContain('out\n');
    expect(out.text()).toContain('err\n');
  });

  it('passes environment, working dir and the workspace bind mount to the container', async () => {
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'harrier-ws-'));
    try {
      const p = plan([{ name: 'env', env: { GREETING: 'hello world' }, commands: ['pwd', 'echo "$GREETING" > greeting.txt'] }], {
        workspaceHostPath: workspace,
      });
      await backend.setup(p, never);
      const out = collect();
      expect((await backend.run(p, p.steps[0], out.output, never)).exitCode).toBe(0);
      expect(out.text()).toContain('/drone/src\n');
      expect(fs.readFileSync(path.join(workspace, 'greeting.txt'), 'utf8')).toBe('hello world\n');
    } finally {
      fs.rmSync(workspace, { recursive: true, force: true });
    }
  });

  it('shares a temp volume between steps', async () => {
    const p = plan(
      [
        { name: 'write', commands: ['echo kept > /cache/file'], mounts: [] },
        { name: 'read', commands: ['cat /cache/file'] },
      ],
      { volumes: [] },
    );
    const volumeId = `${p.network.id}-cache`;
    p.volumes.push({ id: volumeId, name: 'cache', kind: 'temp' });
    for (const step of p.steps) step.mounts = [{ volumeId, target: '/cache' }];
    await backend.setup(p, never);
    await backend.run(p, p.steps[0], () => {}, never);
    const out = collect();
    expect((await backend.run(p, p.steps[1], out.output, never)).exitCode).toBe(0);
    expect(out.text()).toContain('kept\n');
  });

  it('mounts an in-memory volume as a tmpfs of its size limit, its own for each container, with no engine volume', async () => {
    const p = plan([
      { name: 'write', commands: ['grep " /mem " /proc/mounts', 'stat -c "mode %a" /mem', 'echo kept > /mem/file'] },
      { name: 'read', commands: ['ls -A /mem', 'grep " /free " /proc/mounts'] },
    ]);
    const ram = `${p.network.id}-ram`;
    const free = `${p.network.id}-free`;
    p.volumes.push({ id: ram, name: 'ram', kind: 'temp', medium: 'memory', sizeLimit: 8 * 1024 ** 2 }, { id: free, name: 'free', kind: 'temp', medium: 'memory' });
    p.steps[0].mounts = [{ volumeId: ram, target: '/mem' }];
    p.steps[1].mounts = [{ volumeId: ram, target: '/mem' }, { volumeId: free, target: '/free' }];
    await backend.setup(p, never);
    const first = collect();
    expect((await backend.run(p, p.steps[0], first.output, never)).exitCode).toBe(0);
    expect(first.text()).toMatch(/^tmpfs \/mem tmpfs rw,.*size=8192k/m);
    // Writable by a step of any user, as /tmp is.
    expect(first.text()).toContain('\nmode 1777\n');
    const second = collect();
    expect((await backend.run(p, p.steps[1], second.output, never)).exitCode).toBe(0);
    // Nothing listed by ls -A: the second container's tmpfs starts empty.
    expect(second.text()).toMatch(/\+ ls -A \/mem\n\+ grep/);
    expect(second.text()).toMatch(/^tmpfs \/free tmpfs rw/m);
    expect(docker('volume', 'ls', '-q', '--filter', `name=${p.network.id}`)).toBe('');
  });

  it('makes a service reachable from a step by its name', async () => {
    const p = plan([
      { name: 'web', service: true, commands: ['mkdir -p /www', 'echo served-by-web > /www/index.html', 'httpd -f -p 8080 -h /www'] },
      {
        name: 'client',
        commands: ['for i in $(seq 1 600); do wget -q -O - http://web:8080/ && exit 0; sleep 0.1; done; exit 1'],
      },
    ]);
    await backend.setup(p, never);
    const serviceOut = collect();
    await backend.run(p, p.steps[0], serviceOut.output, never);
    const out = collect();
    const result = await backend.run(p, p.steps[1], out.output, never);
    expect(result.exitCode).toBe(0);
    expect(out.text()).toContain('served-by-web');
    expect(serviceOut.text()).toContain('+ httpd -f -p 8080 -h /www');
  });

  it('returns from a detached step once it started and leaves it running', async () => {
    // Waited for, the step would outlast the test's time limit.
    const p = plan([{ name: 'bg', detach: true, commands: ['echo started', 'sleep 600'] }]);
    await backend.setup(p, never);
    expect(await backend.run(p, p.steps[0], () => {}, never)).toEqual({ exitCode: 0, oomKilled: false });
    expect(docker('inspect', '-f', '{{.State.Running}}', p.steps[0].id)).toBe('true');
    await backend.destroy(p);
    expect(docker('ps', '-aq', '--filter', `name=${p.steps[0].id}`)).toBe('');
  });

  it('kills the container and rejects with the reason when the signal aborts', async () => {
    const p = plan([{ name: 'long', commands: ['echo started', 'sleep 600'] }]);
    await backend.setup(p, never);
    const ac = new AbortController();
    // Aborted once the step runs, so the kill, not a start that never happened, is what is tested.
    const output = (chunk: Buffer) => {
      if (chunk.toString().includes('started')) ac.abort(new Error('cancelled by test'));
    };
    await expect(backend.run(p, p.steps[0], output, ac.signal)).rejects.toThrow('cancelled by test');
    expect(docker('inspect', '-f', '{{.State.Running}}', p.steps[0].id)).toBe('false');
  });

  it('kills a step that outlives its timeout and rejects with a StepTimeoutError', async () => {
    const p = plan([{ name: 'slow', timeoutSeconds: 1, commands: ['sleep 600'] }]);
    await backend.setup(p, never);
    const err = await backend.run(p, p.steps[0], () => {}, never).catch((e) => e);
    expect(err).toBeInstanceOf(StepTimeoutError);
    expect(err.message).toBe('step timed out after 1s');
    expect(docker('inspect', '-f', '{{.State.Running}}', p.steps[0].id)).toBe('false');
  });

  it('names the image when it is missing and cannot be pulled', async () => {
    const p = plan([{ name: 'missing', image: 'harrier-test/not-there:1.0', pull: 'if-not-exists', commands: ['true'] }]);
    await backend.setup(p, never);
    const err = await backend.run(p, p.steps[0], () => {}, never).catch((e) => e);
    expect(err).toBeInstanceOf(ImageUnavailableError);
    expect(err.message).toContain('harrier-test/not-there:1.0');
  });

  it('does not try to pull a missing image under pull: never', async () => {
    const p = plan([{ name: 'never', image: 'harrier-test/not-there:1.0', pull: 'never', commands: ['true'] }]);
    await backend.setup(p, never);
    await expect(backend.run(p, p.steps[0], () => {}, never)).rejects.toThrow(/"harrier-test\/not-there:1.0".*pull policy is "never"/);
  });

  it('falls back to the engine copy with a warning when a pull under the default policy fails, as Drone does', async () => {
    const p = plan([{ name: 'latest', image: TEST_IMAGES.busybox, pull: 'default', commands: ['echo ran'] }]);
    await backend.setup(p, never);
    const out = collect();
    expect((await backend.run(p, p.steps[0], out.output, never)).exitCode).toBe(0);
    expect(out.text()).toMatch(/^warning: image "harrier-test\/busybox:latest" is not available: pull failed: .*; using the copy the engine already has\n/);
    expect(out.text()).toContain('ran\n');
  });

  it('reports the pull error when pull: always fails and the engine has no copy', async () => {
    const p = plan([{ name: 'always', image: 'harrier-test/not-there:3', pull: 'always', commands: ['true'] }]);
    await backend.setup(p, never);
    await expect(backend.run(p, p.steps[0], () => {}, never)).rejects.toThrow(/image "harrier-test\/not-there:3" is not available: pull failed/);
  });

  it('loses no output when the receiver applies backpressure', async () => {
    const p = plan([{ name: 'lots', image: TEST_IMAGES.busybox, entrypoint: ['/bin/sh', '-c'], command: ['seq 1 50000'] }]);
    await backend.setup(p, never);
    const chunks: Buffer[] = [];
    let calls = 0;
    await backend.run(
      p,
      p.steps[0],
      (chunk) => {
        chunks.push(chunk);
        if (++calls % 5 === 0) return new Promise((resolve) => setTimeout(resolve, 5));
      },
      never,
    );
    const lines = Buffer.concat(chunks).toString().trimEnd().split('\n');
    expect(lines.length).toBe(50000);
    expect(lines[49999]).toBe('50000');
  });

  it('removes every container, the network and the volumes of a plan, also ones it never recorded, and is idempotent', async () => {
    const p = plan([
      { name: 'svc', service: true, commands: ['sleep 60'] },
      { name: 'fails', commands: ['exit 1'] },
    ]);
    const volumeId = `${p.network.id}-tmp`;
    p.volumes.push({ id: volumeId, name: 'tmp', kind: 'temp' });
    await backend.setup(p, never);
    await backend.run(p, p.steps[0], () => {}, never);
    await backend.run(p, p.steps[1], () => {}, never);
    // A container the backend never saw, as if created by a process that crashed midway.
    docker('create', '--label', `io.harrier.plan=${p.network.id}`, '--name', `${p.network.id}-stray`, TEST_IMAGES.busybox, 'true');
    const filter = `label=io.harrier.plan=${p.network.id}`;
    expect(docker('ps', '-aq', '--filter', filter).split('\n').length).toBe(3);
    expect(docker('network', 'ls', '-q', '--filter', filter)).not.toBe('');
    expect(docker('volume', 'ls', '-q', '--filter', filter)).not.toBe('');

    await backend.destroy(p);
    expect(docker('ps', '-aq', '--filter', filter)).toBe('');
    expect(docker('network', 'ls', '-q', '--filter', filter)).toBe('');
    expect(docker('volume', 'ls', '-q', '--filter', filter)).toBe('');
    await backend.destroy(p);
  });

  it('runs a step in the container prepare() made for it, and removes a prepared container whose step never ran', async () => {
    const p = plan([
      { name: 'first', commands: ['echo from-the-prepared-container'] },
      { name: 'skipped', commands: ['true'] },
    ]);
    await backend.setup(p, never);
    backend.prepare(p, p.steps[0], never);
    backend.prepare(p, p.steps[1], never);
    const filter = `label=io.harrier.plan=${p.network.id}`;
    // Script steps are started and held: the engine lists both as running before any run.
    await expect.poll(() => docker('ps', '--filter', filter, '--filter', 'status=running', '--format', '{{.Names}}').split('\n').sort(), { timeout: 20_000 }).toEqual(
      [p.steps[0].id, p.steps[1].id].sort(),
    );
    const out = collect();
    expect(await backend.run(p, p.steps[0], out.output, never)).toEqual({ exitCode: 0, oomKilled: false });
    expect(out.text()).toContain('from-the-prepared-container\n');
    expect(docker('ps', '-aq', '--filter', filter).split('\n')).toHaveLength(2);

    await backend.removeContainers(p);
    expect(docker('ps', '-aq', '--filter', filter)).toBe('');
    expect(docker('network', 'ls', '-q', '--filter', filter)).not.toBe('');
    await backend.destroy(p);
    expect(docker('network', 'ls', '-q', '--filter', filter)).toBe('');
  });

  it('holds a prepared script step until run(): its command has not run, and sees closed input once it does', async () => {
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'harrier-held-'));
    fs.chmodSync(workspace, 0o777);
    const p = plan([{ name: 'held', commands: ['echo ran > /drone/src/marker', 'cat', 'echo after-cat', 'exit 3'] }], { workspaceHostPath: workspace });
    await backend.setup(p, never);
    backend.prepare(p, p.steps[0], never);
    const filter = `label=io.harrier.plan=${p.network.id}`;
    await expect.poll(() => docker('ps', '--filter', filter, '--filter', 'status=running', '--format', '{{.Names}}'), { timeout: 20_000 }).toBe(p.steps[0].id);
    // Running, and still nothing of the step's own has happened.
    expect(fs.existsSync(path.join(workspace, 'marker'))).toBe(false);
    const out = collect();
    // `cat` ends at once: input is closed after the word, as for a container never held.
    expect(await backend.run(p, p.steps[0], out.output, never)).toEqual({ exitCode: 3, oomKilled: false });
    expect(out.text()).toBe("+ echo ran > /drone/src/marker\n+ cat\n+ echo after-cat\nafter-cat\n+ exit 3\n");
    expect(fs.readFileSync(path.join(workspace, 'marker'), 'utf8')).toBe('ran\n');
    fs.rmSync(workspace, { recursive: true, force: true });
  });

  it('runs nothing of a held step whose stage is torn down before its turn', async () => {
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'harrier-held-'));
    fs.chmodSync(workspace, 0o777);
    const p = plan([{ name: 'never', commands: ['echo ran > /drone/src/marker'] }], { workspaceHostPath: workspace });
    await backend.setup(p, never);
    backend.prepare(p, p.steps[0], never);
    const filter = `label=io.harrier.plan=${p.network.id}`;
    await expect.poll(() => docker('ps', '--filter', filter, '--filter', 'status=running', '--format', '{{.Names}}'), { timeout: 20_000 }).toBe(p.steps[0].id);
    await backend.destroy(p);
    expect(docker('ps', '-aq', '--filter', filter)).toBe('');
    expect(fs.existsSync(path.join(workspace, 'marker'))).toBe(false);
    fs.rmSync(workspace, { recursive: true, force: true });
  });

  it('tears down after a failed setup or a step that never started', async () => {
    const p = plan([{ name: 'missing', image: 'harrier-test/not-there:2', pull: 'never', commands: ['true'] }]);
    await backend.setup(p, never);
    await expect(backend.run(p, p.steps[0], () => {}, never)).rejects.toThrow();
    await backend.destroy(p);
    expect(docker('network', 'ls', '-q', '--filter', `label=io.harrier.plan=${p.network.id}`)).toBe('');

    const neverSetUp = plan([{ name: 'x', commands: ['true'] }]);
    await backend.destroy(neverSetUp);
  });

  it('removes leftovers carrying a runner label', async () => {
    const label = testRunnerName('leftover');
    const p = handPlan([{ name: 'old', commands: ['sleep 60'], detach: true }], { labels: { [LABEL_RUNNER]: label } });
    await backend.setup(p, never);
    await backend.run(p, p.steps[0], () => {}, never);
    const removed = await backend.removeLeftovers({ 'io.harrier.managed': 'true', [LABEL_RUNNER]: label });
    expect(removed).toBe(2);
    expect(docker('ps', '-aq', '--filter', `label=${LABEL_RUNNER}=${label}`)).toBe('');
    expect(docker('network', 'ls', '-q', '--filter', `label=${LABEL_RUNNER}=${label}`)).toBe('');
    await backend.destroy(p);
  });
});

describe('DockerBackend keeping networks', () => {
  const pooling = new DockerBackend(undefined, { networkLabels: { [LABEL_RUNNER]: runnerLabel } });
  afterEach(async () => {
    await Promise.all(plans.splice(0).map((p) => pooling.destroy(p)));
    await pooling.close();
  });
  const networkOf = (p: Plan) => docker('inspect', '--format', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}', p.steps[0].id);
  const runnersNetworks = () => docker('network', 'ls', '--filter', `label=${LABEL_RUNNER}=${runnerLabel}`, '--format', '{{.Name}}').split('\n').filter(Boolean).sort();

  it('gives the next stage the network an earlier one emptied, never one in use, and removes them on close', async () => {
    const first = plan([{ name: 'db', service: true, commands: ['sleep 60'] }]);
    await pooling.setup(first, never);
    await pooling.run(first, first.steps[0], () => {}, never);
    const kept = networkOf(first);
    expect(kept).toMatch(/^harrier-net-/);
    // The network carries the runner's labels, none of the stage's.
    expect(docker('network', 'inspect', '--format', '{{index .Labels "io.harrier.plan"}}|{{index .Labels "io.harrier.managed"}}', kept)).toBe('|true');

    // While the first stage runs, a second gets a network of its own.
    const second = plan([{ name: 'b', commands: ['true'] }]);
    await pooling.setup(second, never);
    await pooling.run(second, second.steps[0], () => {}, never);
    expect(networkOf(second)).not.toBe(kept);
    const other = networkOf(second);
    await pooling.destroy(second);
    await pooling.destroy(first);
    expect(runnersNetworks()).toEqual([kept, other].sort());

    // A stage after them takes a kept one; the name the first stage gave its service is gone with it.
    const third = plan([{ name: 'c', commands: ['nslookup db 2>&1 && exit 1 || echo no-db'] }]);
    await pooling.setup(third, never);
    const out = collect();
    expect(await pooling.run(third, third.steps[0], out.output, never)).toEqual({ exitCode: 0, oomKilled: false });
    expect([kept, other]).toContain(networkOf(third));
    expect(out.text()).toContain('no-db\n');
    await pooling.destroy(third);

    await pooling.close();
    expect(runnersNetworks()).toEqual([]);
  });

  it('makes a new network when a kept one was removed meanwhile, as `docker network prune` does', async () => {
    const first = plan([{ name: 'a', commands: ['true'] }]);
    await pooling.setup(first, never);
    await pooling.run(first, first.steps[0], () => {}, never);
    const kept = networkOf(first);
    await pooling.destroy(first);
    docker('network', 'rm', kept);
    const second = plan([{ name: 'b', commands: ['true'] }]);
    await pooling.setup(second, never);
    expect(await pooling.run(second, second.steps[0], () => {}, never)).toEqual({ exitCode: 0, oomKilled: false });
    expect(networkOf(second)).not.toBe(kept);
  });
});

describe('DockerBackend limits', () => {
  const MiB = 1024 ** 2;
  const limited = new DockerBackend(undefined, { limits: { memoryBytes: 256 * MiB, cpus: 0.5, pids: 48 } });
  afterEach(async () => {
    await Promise.all(plans.splice(0).map((p) => limited.destroy(p)));
  });

  it('gives every step and service container the runner limits, as the engine and the container itself see them', async () => {
    const p = plan([
      { name: 'svc', service: true, commands: ['sleep 60'] },
      {
        name: 'read',
        commands: [
          'cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes',
          'cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max',
        ],
      },
    ]);
    await limited.setup(p, never);
    await limited.run(p, p.steps[0], () => {}, never);
    const out = collect();
    expect((await limited.run(p, p.steps[1], out.output, never)).exitCode).toBe(0);
    expect(out.text()).toContain(`\n${256 * MiB}\n`);
    expect(out.text()).toContain('\n48\n');
    for (const step of p.steps) {
      const host = JSON.parse(docker('inspect', '-f', '{{json .HostConfig}}', step.id));
      expect({ name: step.name, Memory: host.Memory, MemorySwap: host.MemorySwap, NanoCpus: host.NanoCpus, PidsLimit: host.PidsLimit }).toEqual({
        name: step.name,
        Memory: 256 * MiB,
        MemorySwap: 256 * MiB,
        NanoCpus: 500_000_000,
        PidsLimit: 48,
      });
    }
  });

  it('fails only the step that forks past the process limit; the next step of the stage runs', async () => {
    const p = plan([
      { name: 'forks', commands: ['i=0; while [ $i -lt 500 ]; do sleep 600 & i=$((i+1)); done; wait'] },
      { name: 'after', commands: ['echo still-fine'] },
    ]);
    await limited.setup(p, never);
    const forks = collect();
    const result = await limited.run(p, p.steps[0], forks.output, never);
    expect(result.exitCode).not.toBe(0);
    expect(forks.text()).toMatch(/can't fork/);
    const after = collect();
    expect((await limited.run(p, p.steps[1], after.output, never)).exitCode).toBe(0);
    expect(after.text()).toContain('still-fine\n');
  });

  it('sets no limits when it was given none, as for harrier exec', async () => {
    const p = plan([{ name: 'free', commands: ['true'] }]);
    await backend.setup(p, never);
    await backend.run(p, p.steps[0], () => {}, never);
    const host = JSON.parse(docker('inspect', '-f', '{{json .HostConfig}}', p.steps[0].id));
    expect([host.Memory, host.NanoCpus, host.PidsLimit ?? 0]).toEqual([0, 0, 0]);
    await backend.destroy(p);
  });

  // Issue 10's data-loss bug: a receiver slower than the container (a busy server) must still
  // get every line; only output that stops coming is given up on.
  it('keeps reading after the container stopped for as long as the output keeps coming', async () => {
    const p = plan([{ name: 'slow-reader', commands: ['seq 1 200000', 'echo last-line'] }]);
    await backend.setup(p, never);
    const chunks: string[] = [];
    const lost: string[] = [];
    const output = (chunk: Buffer) => {
      chunks.push(chunk.toString());
      return new Promise<void>((resolve) => setTimeout(resolve, 100));
    };
    const result = await backend.run(p, p.steps[0], output, never, (reason) => void lost.push(reason));
    expect(result.exitCode).toBe(0);
    expect(lost).toEqual([]);
    const text = chunks.join('');
    // Far more chunks than 2 s of this receiver could take: the reading went on well past the exit.
    expect(chunks.length).toBeGreaterThan(25);
    // Every line, in order, besides the shell's trace of the two commands.
    const printed = text.split('\n').filter((l) => l && !l.startsWith('+ '));
    expect(printed).toEqual([...Array.from({ length: 200_000 }, (_, i) => String(i + 1)), 'last-line']);
    await backend.destroy(p);
  }, 120_000);

  it('waits for a log writer that holds the output back longer than the drain time, and loses nothing', async () => {
    // Small enough to sit in the engine's and the kernel's buffers, so the container exits
    // while the receiver takes nothing.
    const p = plan([{ name: 'held', commands: ['seq 1 5000', 'echo last-line'] }]);
    await backend.setup(p, never);
    const chunks: string[] = [];
    const lost: string[] = [];
    let exited = false;
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    // The first chunk is taken only once the container is gone and well past the drain time.
    const output = (chunk: Buffer) => {
      chunks.push(chunk.toString());
      if (chunks.length === 1) return held;
    };
    const watcher = setInterval(() => {
      if (exited) return;
      const state = docker('inspect', '-f', '{{.State.Status}}', p.steps[0].id).trim();
      if (state === 'exited') {
        exited = true;
        setTimeout(release, 3 * 2_000);
      }
    }, 100);
    try {
      const result = await backend.run(p, p.steps[0], output, never, (reason) => void lost.push(reason));
      expect(result.exitCode).toBe(0);
    } finally {
      clearInterval(watcher);
      release();
    }
    expect(exited).toBe(true);
    expect(lost).toEqual([]);
    const printed = chunks.join('').split('\n').filter((l) => l && !l.startsWith('+ '));
    expect(printed).toEqual([...Array.from({ length: 5_000 }, (_, i) => String(i + 1)), 'last-line']);
    await backend.destroy(p);
  }, 60_000);
});

describe('drain', () => {
  it('gives up on output that stops coming without ending, and lets the stream go', async () => {
    const stream = new PassThrough();
    const progress = { chunks: 0, waiting: false };
    const pumped = new Promise<void>((resolve) => stream.on('close', resolve));
    expect(await drain({ pumped, progress }, stream)).toBe(false);
    expect(stream.destroyed).toBe(true);
  });

  it('stops waiting on a held-back writer once the step was stopped', async () => {
    const stream = new PassThrough();
    const progress = { chunks: 0, waiting: true };
    const stopped = new AbortController();
    stopped.abort(new Error('cancelled'));
    expect(await drain({ pumped: new Promise(() => {}), progress }, stream, stopped.signal)).toBe(false);
    expect(stream.destroyed).toBe(true);
  });

  it('ends as soon as the output does', async () => {
    const stream = new PassThrough();
    expect(await drain({ pumped: Promise.resolve(), progress: { chunks: 3, waiting: false } }, stream)).toBe(true);
  });
});

describe('settleCpus', () => {
  it('leaves one of the engine CPUs free by default, never going below one, and lowers a setting to what the engine has', () => {
    expect(settleCpus(undefined, 8)).toBe(7);
    expect(settleCpus(undefined, 2)).toBe(1);
    expect(settleCpus(undefined, 1)).toBe(1);
    expect(settleCpus(1.5, 8)).toBe(1.5);
    expect(settleCpus(16, 8)).toBe(8);
    expect(settleCpus(0, 8)).toBe(0);
  });
});
