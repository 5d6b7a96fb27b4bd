// `paths` conditions end to end on the server, for both providers and both databases:
// the trigger asks the provider what a push or pull request changed (only when the file
// has a `paths` condition), builds the pipelines whose trigger.paths match, stores the
// list on the build and hands it to the runner for `when.paths`; a capped list or a
// provider error makes the list unknown, and then everything runs.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Build } from '../../core/domain.ts';
import { compileStagePlan } from '../../runner/compile-plan.ts';
import { RpcClient } from '../../runner/rpc-client.ts';
import type { BitbucketFake } from '../fakes/bitbucket-api.ts';
import type { GithubFake } from '../fakes/github-api.ts';
import { bitbucketScenario, githubScenario, SLUG, type Scenario } from '../support/scenario.ts';
import { TEST_RPC_SECRET } from '../support/server.ts';
import type { DeliveredResponse } from '../fakes/delivered.ts';

const PIPELINES = `kind: pipeline
type: docker
name: docs
trigger:
  paths:
    include: ['docs/**']
steps:
- name: build-docs
  image: alpine:3
  commands: [echo docs]
---
kind: pipeline
type: docker
name: code
trigger:
  paths:
    exclude: ['docs/**', '*.md']
steps:
- name: test
  image: alpine:3
  commands: [echo test]
- name: lint-web
  image: alpine:3
  commands: [echo web]
  when:
    paths: ['web/**']
---
kind: pipeline
type: docker
name: publish
depends_on: [docs]
steps:
- name: publish
  image: alpine:3
  commands: [echo publish]
`;

/** Details go only to the runner holding a stage: the tests accept as this runner first. */
const PATHS_RUNNER = 'paths-runner';
const NO_PATHS = 'kind: pipeline\ntype: docker\nname: plain\nsteps:\n- name: s\n  image: alpine:3\n  commands: [echo plain]\n';

// One content for all: git stores it once, where 3,000 distinct blobs took seconds to write.
function manyFiles(dir: string, count: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [`${dir}/f-${i}.txt`, 'generated\n']));
}

type AnyScenario = Scenario<GithubFake | BitbucketFake>;

const cases = [
  ['github', 'sqlite'],
  ['bitbucket', 'sqlite'],
  ['github', 'postgres'],
  ['bitbucket', 'postgres'],
] as const;

describe.each(cases)('paths on %s with %s', (provider, flavour) => {
  let s: AnyScenario;
  let rpc: RpcClient;
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
  /** Where the provider's changed-files answers come from. */
  const changesPath = provider === 'github' ? /\/(compare|pulls\/\d+\/files|commits)\b/ : /\/diffstat\b/;

  beforeAll(async () => {
    const opts = { pipeline: PIPELINES, flavour, logger };
    s = (provider === 'github' ? await githubScenario(opts) : await bitbucketScenario(opts)) as AnyScenario;
    rpc = new RpcClient({ serverUrl: s.server.host, secret: TEST_RPC_SECRET, runner: PATHS_RUNNER, attempts: 1 });
  });
  afterAll(async () => {
    await s?.close();
  });

  /** The build a delivery made (once a worker made it), or the one a restart answered with. */
  async function built(res: DeliveredResponse | Response): Promise<Build> {
    expect(res.status).toBe('build' in res ? 202 : 200);
    const body = 'build' in res ? await res.build() : ((await res.json()) as Build);
    expect(body.number, JSON.stringify(body)).toBeGreaterThan(0);
    return (await (await s.api(`/api/repos/${SLUG}/builds/${body.number}`)).json()) as Build;
  }

  async function heldDetails(stageId: number) {
    expect((await rpc.accept(stageId, PATHS_RUNNER)).accepted).toBe(true);
    return rpc.details(stageId);
  }

  async function storedChanges(build: Build): Promise<string[] | null> {
    const row = await s.server.ctx.db.build.findFirstOrThrow({ where: { id: build.id } });
    return row.changedFiles === null ? null : (JSON.parse(row.changedFiles) as string[]);
  }

  const stageNames = (b: Build) => b.stages!.map((st) => st.name);

  async function openPullRequest(number: number, branch: string, files: Record<string, string>) {
    s.git.checkout('main');
    const head = s.git.commit(files, `Change on ${branch}`, branch);
    s.git.checkout('main');
    const [res] =
      provider === 'github'
        ? await (s.fake as GithubFake).pullRequest(SLUG, { number, head: { ref: branch, sha: head }, base: { ref: 'main' } })
        : await (s.fake as BitbucketFake).pullRequest(SLUG, 'pullrequest:created', { id: number, source: { branch, hash: head } });
    return res;
  }

  it('builds only the pipelines whose trigger.paths match a pushed change, and stores what changed', async () => {
    const { responses } = await s.push({ 'docs/guide.md': 'guide\n' }, 'Write docs');
    const build = await built(responses[0]);
    expect(stageNames(build)).toEqual(['docs', 'publish']);
    expect(build.stages!.find((st) => st.name === 'publish')).toMatchObject({ status: 'waiting_on_dependencies', depends_on: ['docs'] });
    expect(await storedChanges(build)).toEqual(['docs/guide.md']);
  });

  it('starts a pipeline at once when the one it depends on was left out by paths, instead of waiting forever', async () => {
    const { responses } = await s.push({ 'src/main.ts': 'code\n' }, 'Write code');
    const build = await built(responses[0]);
    expect(stageNames(build)).toEqual(['code', 'publish']);
    expect(build.stages!.find((st) => st.name === 'publish')).toMatchObject({ status: 'pending', depends_on: [] });
  });

  it('hands the changed files to the runner, whose compiler skips steps by when.paths', async () => {
    const { responses } = await s.push({ 'src/app.ts': 'app\n' }, 'More code');
    const build = await built(responses[0]);
    const code = build.stages!.find((st) => st.name === 'code')!;
    const details = await heldDetails(code.id);
    expect(details.changed_files).toEqual(['src/app.ts']);
    const compiled = compileStagePlan(details, { workspaceHostPath: '/tmp/unused', idPrefix: 'paths-test', labels: {} });
    expect(compiled.ok && compiled.plan.skipped).toEqual(['lint-web']);

    const web = await built((await s.push({ 'web/index.html': '<p>\n' }, 'Web change')).responses[0]);
    const webDetails = await heldDetails(web.stages!.find((st) => st.name === 'code')!.id);
    const webPlan = compileStagePlan(webDetails, { workspaceHostPath: '/tmp/unused', idPrefix: 'paths-test', labels: {} });
    expect(webPlan.ok && webPlan.plan.skipped).toEqual([]);
  });

  it('answers that no pipeline matches when a push changes nothing any trigger.paths wants, besides pipelines without paths', async () => {
    const { responses } = await s.push({ 'NOTES.md': 'notes\n' }, 'Only notes');
    const build = await built(responses[0]);
    expect(stageNames(build)).toEqual(['publish']);
  });

  it('keeps the changed files when a build is restarted, so the same pipelines run again', async () => {
    const { responses } = await s.push({ 'docs/restart.md': 'r\n' }, 'Docs to restart');
    const old = await built(responses[0]);
    expect((await s.api(`/api/repos/${SLUG}/builds/${old.number}`, { method: 'DELETE' })).status).toBe(200);
    const res = await s.api(`/api/repos/${SLUG}/builds/${old.number}`, { method: 'POST' });
    const restarted = await built(res);
    expect(restarted.parent).toBe(old.number);
    expect(stageNames(restarted)).toEqual(['docs', 'publish']);
    expect(await storedChanges(restarted)).toEqual(['docs/restart.md']);
  });

  it('uses the pull request\'s own files for a pull request', async () => {
    const res = await openPullRequest(21, 'docs-pr', { 'docs/pr.md': 'pr\n' });
    const build = await built(res);
    expect(build.event).toBe('pull_request');
    expect(stageNames(build)).toEqual(['docs', 'publish']);
    expect(await storedChanges(build)).toEqual(['docs/pr.md']);
    expect(s.fake.state.requests.items.some((r) => r.path.endsWith(provider === 'github' ? '/pulls/21/files' : '/pullrequests/21/diffstat'))).toBe(true);
  });

  it('runs every pipeline when the provider capped the list, and stores the list as unknown', async () => {
    const count = provider === 'github' ? 301 : 3000;
    const { responses } = await s.push({ ...manyFiles('generated', count), 'docs/too.md': 'x\n' }, 'A huge change');
    const build = await built(responses[0]);
    expect(stageNames(build)).toEqual(['docs', 'code', 'publish']);
    expect(await storedChanges(build)).toBeNull();
    const details = await heldDetails(build.stages![1].id);
    expect(details.changed_files).toBeNull();
    expect(lines.some((l) => l.includes('"event":"changed_files_unknown"'))).toBe(true);
  }, 60_000);

  it('keeps the build when the provider fails to list the changes: paths match, and the failure is logged', async () => {
    const sha = s.git.commit({ 'docs/after-force-push.md': 'x\n' }, 'After a force push');
    // A `before` the provider does not know, as after a force push that dropped it.
    const [res] =
      provider === 'github'
        ? await (s.fake as GithubFake).push(SLUG, { after: sha, before: 'f'.repeat(40) })
        : await (s.fake as BitbucketFake).push(SLUG, { after: sha, before: 'f'.repeat(40) });
    const build = await built(res);
    expect(stageNames(build)).toEqual(['docs', 'code', 'publish']);
    expect(await storedChanges(build)).toBeNull();
    const failure = lines.find((l) => l.includes('"event":"changed_files_failed"'));
    expect(failure).toMatch(/404/);
  });

  it('does not ask the provider for changed files when the pipeline file has no paths condition', async () => {
    const sha = s.git.commit({ '.drone.yml': NO_PATHS, 'docs/x.md': 'x\n' }, 'No more paths');
    s.fake.state.requests.clear();
    const [res] = await s.fake.push(SLUG, { after: sha });
    const build = await built(res);
    expect(stageNames(build)).toEqual(['plain']);
    expect(await storedChanges(build)).toBeNull();
    expect(s.fake.state.requests.items.filter((r) => changesPath.test(r.path))).toEqual([]);
    s.git.commit({ '.drone.yml': PIPELINES }, 'Paths again');
  });
});
