import { afterEach, describe, expect, it } from 'vitest';
import { buildFacts } from '../../pipeline/index.ts';
import { build, repo, system } from '../../pipeline/testdata/fixtures.ts';
import { PipelineThread } from './pipeline-thread.ts';

const file = (steps: number) =>
  `kind: pipeline\ntype: docker\nname: default\nsteps:\n${Array.from({ length: steps }, (_, i) => `- name: s${i}\n  image: alpine:3\n  commands: [echo ${i}, echo two, echo three]\n  environment: {A: "1", B: "2", C: "3"}\n`).join('')}`;

let thread: PipelineThread;
afterEach(async () => thread?.close());

describe('the pipeline thread', () => {
  it('checks a file and says whether it looks at changed paths', async () => {
    thread = new PipelineThread();
    const plain = await thread.check(file(2), false, null);
    expect(plain.checked.ok && plain.checked.pipelines.map((p) => p.steps.map((s) => s.name))).toEqual([['s0', 's1']]);
    expect(plain.usesPaths).toBe(false);
    const withPaths = await thread.check(`${file(1)}trigger:\n  paths: [docs/**]\n`, false, null);
    expect(withPaths.usesPaths).toBe(true);
  });

  it("reads a build's file with the build's facts substituted, and a substitution error at its line and column", async () => {
    thread = new PipelineThread();
    const facts = { build, repo, system };
    const named = `kind: pipeline\nname: on-\${DRONE_BRANCH}\nsteps:\n- name: test-\${DRONE_BUILD_NUMBER}\n  image: alpine:3\n`;
    const { checked } = await thread.check(named, false, facts);
    expect(checked.ok && checked.pipelines.map((p) => [p.name, p.steps[0].name])).toEqual([[`on-${build.target}`, `test-${build.number}`]]);
    const parsed = await thread.parse(named, facts);
    expect(parsed.ok && parsed.pipelines[0].name).toBe(`on-${build.target}`);
    const asWritten = await thread.check(named, false, null);
    expect(asWritten.checked.ok && asWritten.checked.pipelines[0].name).toBe('on-${DRONE_BRANCH}');
    const bad = await thread.check('kind: pipeline\nsteps:\n- name: \${DRONE_BRANCH\n', false, facts);
    expect(bad.checked).toEqual({ ok: false, errors: [{ line: 3, col: 9, message: expect.stringContaining('bad substitution') }] });
  });

  it('answers a hostile file with the limit it broke', async () => {
    thread = new PipelineThread();
    const { checked } = await thread.check(`kind: pipeline\nx: ${'['.repeat(100_000)}\n`, false, null);
    expect(!checked.ok && checked.errors[0].message).toMatch(/nests more than 100 levels/);
  });

  it('matches conditions, and refuses patterns that cost too much', async () => {
    thread = new PipelineThread();
    const facts = { ...buildFacts({ build: { event: 'push', target: 'main', ref: 'refs/heads/main' } as never, repo: { slug: 'o/r' } as never, system: { host: 'ci' } as never }) };
    const conds = [{ branch: { include: ['ma*'], exclude: [] } }, { branch: { include: ['dev'], exclude: [] } }];
    expect(await thread.match(conds, facts)).toEqual([true, false]);
    const costly = { paths: { include: [`${'{*a,*b}'.repeat(300)}c`], exclude: [] } };
    const files = Array.from({ length: 200 }, () => 'ab'.repeat(1_000));
    await expect(thread.match([costly], { ...facts, changedFiles: files })).rejects.toThrow(/steps; use fewer or shorter patterns/);
  });

  it('leaves the event loop free while it parses', async () => {
    thread = new PipelineThread();
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 1);
    const job = thread.check(file(900), false, null);
    const before = ticks;
    const { checked } = await job;
    clearInterval(ticker);
    expect(checked.ok).toBe(true);
    // Had the parse run on this thread, no interval could have fired until it ended.
    expect(ticks - before).toBeGreaterThan(3);
  });

  it('stops a job that overruns, and answers the jobs queued behind it on a new thread', async () => {
    thread = new PipelineThread();
    const slow = thread.check(file(900), false, null, 0.05);
    const next = thread.parse(file(1), { build, repo, system });
    await expect(slow).rejects.toThrow(/took more than 0.05 s and was stopped/);
    expect((await next).ok).toBe(true);
  });
});
