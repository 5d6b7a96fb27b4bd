// A push becomes a build that runs in Docker, end to end: provider stand-in, real
// git repository, signed webhook, `harrier server`, `harrier runner`, containers,
// logs, and commit statuses back at the provider.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogLine } from '../../core/domain.ts';
import { startE2e, type E2e } from './e2e-harness.ts';

const PIPELINE = `kind: pipeline
type: docker
name: default

steps:
- name: greet
  image: alpine:3
  commands:
  - echo "hello from $DRONE_REPO at $DRONE_COMMIT_SHA"
  - test "$CI" = true
  - ls /drone/src/README.md
- name: slow
  image: alpine:3
  commands:
  - echo first
  - sleep 2
  - echo second
`;

const FAILING = `kind: pipeline
type: docker
name: default

steps:
- name: broken
  image: alpine:3
  commands:
  - echo about to fail
  - exit 3
- name: never
  image: alpine:3
  commands:
  - echo unreachable
`;

function harrierContainers(runnerName: string): string[] {
  return execFileSync('docker', ['ps', '-aq', '--filter', 'label=io.harrier.managed=true', '--filter', `label=io.harrier.runner=${runnerName}`], {
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean);
}

function texts(lines: LogLine[]): string[] {
  return lines.map((l) => l.out.replace(/\n$/, ''));
}

describe.each(['github', 'bitbucket'] as const)('a push on %s', (provider) => {
  let e: E2e;
  beforeAll(async () => {
    e = await startE2e(provider, PIPELINE);
  }, 120_000);
  afterAll(async () => {
    await e?.close();
  });

  it('builds the pushed commit in containers, with the expected logs, live while it runs, and commit statuses at the provider', async () => {
    const { sha, build } = await e.push({ 'src/main.txt': 'v1\n' }, 'Add main');
    expect(build).toMatchObject({ number: 1, event: 'push', after: sha });
    // Made pending by a worker (the provider's first status below says so); read once the
    // delivery shows it built, by when the runner may have taken it.
    expect(['pending', 'running']).toContain(build.status);

    // The slow step's first line is readable before the step ends.
    const live = await waitForLine(e, 1, 1, 3, 'first');
    const during = (await e.api(`/api/repos/${e.slug}/builds/1`)).body;
    expect(during.stages[0].steps[2].status).toBe('running');
    expect(live).toBe(true);

    const done = await e.waitForBuild(1);
    expect(done.status).toBe('success');
    const steps = done.stages![0].steps!;
    expect(steps.map((s) => [s.name, s.status, s.exit_code])).toEqual([
      ['clone', 'success', 0],
      ['greet', 'success', 0],
      ['slow', 'success', 0],
    ]);
    for (const s of steps) expect(s.stopped).toBeGreaterThanOrEqual(s.started);

    const greet = texts(await e.logs(1, 1, 2));
    expect(greet).toEqual([
      '+ echo "hello from $DRONE_REPO at $DRONE_COMMIT_SHA"',
      `hello from ${e.slug} at ${sha}`,
      '+ test "$CI" = true',
      '+ ls /drone/src/README.md',
      '/drone/src/README.md',
    ]);
    expect(texts(await e.logs(1, 1, 3))).toEqual(['+ echo first', 'first', '+ sleep 2', '+ echo second', 'second']);
    expect(texts(await e.logs(1, 1, 1)).join('\n')).toContain(sha);

    const states = await statusesFor(e, sha, 2);
    expect(states).toEqual(provider === 'github' ? ['pending', 'success'] : ['INPROGRESS', 'SUCCESSFUL']);
    expect(harrierContainers(e.runnerName)).toEqual([]);
  });

  it('fails the build at the first failing step, skips the rest, and reports the failure', async () => {
    const { sha } = await e.push({ '.drone.yml': FAILING }, 'Break the build');
    const done = await e.waitForBuild(2);
    expect(done.status).toBe('failure');
    expect(done.stages![0].status).toBe('failure');
    expect(done.stages![0].steps!.map((s) => [s.name, s.status, s.exit_code])).toEqual([
      ['clone', 'success', 0],
      ['broken', 'failure', 3],
      ['never', 'skipped', 0],
    ]);
    expect(texts(await e.logs(2, 1, 2))).toEqual(['+ echo about to fail', 'about to fail', '+ exit 3']);
    const states = await statusesFor(e, sha, 2);
    expect(states).toEqual(provider === 'github' ? ['pending', 'failure'] : ['INPROGRESS', 'FAILED']);
    // Nothing of the stage is left behind on the engine.
    const left = execFileSync('docker', ['ps', '-aq', '--filter', `label=io.harrier.build=${done.id}`], { encoding: 'utf8' }).trim();
    expect(left).toBe('');
  });
});

async function waitForLine(e: E2e, build: number, stage: number, step: number, text: string, timeoutMs = 60_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const res = await e.api<LogLine[]>(`/api/repos/${e.slug}/builds/${build}/logs/${stage}/${step}`);
    if (res.status === 200 && res.body.some((l) => l.out === `${text}\n`)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

async function statusesFor(e: E2e, sha: string, count: number): Promise<string[]> {
  const list = () => e.fake.state.statuses.items.filter((s: { sha: string }) => s.sha === sha || sha.startsWith(s.sha));
  const deadline = Date.now() + 30_000;
  while (list().length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return list().map((s: { state: string }) => s.state);
}
