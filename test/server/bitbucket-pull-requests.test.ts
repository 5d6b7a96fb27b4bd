// Bitbucket pull requests as Drone users expect them: the build carries the head commit's
// full hash although Bitbucket's delivery names it by 12 characters, and a fork's pull
// request reads its pipeline file from the fork and clones the fork at its commit, without
// the destination repository's credentials. Through the server's real /hook and delivery
// workers, the Bitbucket stand-in with real git repositories, and the real runner on Docker.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Build, LogLine } from '../../core/domain.ts';
import { DockerBackend } from '../../runner/backend/docker/docker-backend.ts';
import { compileStagePlan } from '../../runner/compile-plan.ts';
import { executeStage } from '../../runner/execute-stage.ts';
import { LABEL_RUNNER } from '../../runner/labels.ts';
import { RpcClient } from '../../runner/rpc-client.ts';
import { testRunnerName } from '../../runner/testing/test-runner-names.ts';
import { BITBUCKET_API_PREFIX } from '../fakes/bitbucket-api-routes.ts';
import type { FakeBitbucketRepo } from '../fakes/bitbucket-api.ts';
import { LocalGitRepo } from '../fakes/local-git-repo.ts';
import { bitbucketScenario, SLUG, type BitbucketScenario } from '../support/scenario.ts';
import { TEST_RPC_SECRET } from '../support/server.ts';

const pipeline = (step: string) => `kind: pipeline
type: docker
name: default
steps:
- name: ${step}
  image: alpine:3
  commands:
  - echo commit=$DRONE_COMMIT_SHA
  - cat origin.txt
`;

const FORK_SLUG = 'stranger/hello-world';

describe.each(['sqlite', 'postgres'] as const)('Bitbucket pull requests on %s', (flavour) => {
  const runnerName = testRunnerName(`bitbucket-pr-${flavour}`);
  const backend = new DockerBackend();
  const workspaceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'harrier-bitbucket-pr-ws-'));
  let s: BitbucketScenario;
  let forkGit: LocalGitRepo;
  let fork: FakeBitbucketRepo;
  let rpc: RpcClient;

  beforeAll(async () => {
    // A private destination: its clone needs credentials, which a fork's clone must never get.
    s = await bitbucketScenario({ pipeline: pipeline('destination'), flavour, private: true });
    s.git.commit({ 'origin.txt': 'destination\n' }, 'Say where the code comes from');
    // The fork starts from the destination's history, as a Bitbucket fork does, in a repository of its own.
    forkGit = new LocalGitRepo();
    forkGit.git('pull', '--quiet', s.git.dir, 'main');
    fork = s.fake.addRepo({ slug: FORK_SLUG, gitDir: forkGit.dir, private: false, permission: 'read' });
    rpc = new RpcClient({ serverUrl: s.server.host, secret: TEST_RPC_SECRET, runner: runnerName, attempts: 1 });
  });
  afterAll(async () => {
    await s?.close();
    forkGit?.remove();
    await backend.removeLeftovers({ [LABEL_RUNNER]: runnerName });
    fs.rmSync(workspaceDir, { recursive: true, force: true });
  });

  async function build(number: number): Promise<Build> {
    return (await (await s.api(`/api/repos/${SLUG}/builds/${number}`)).json()) as Build;
  }

  it('records the head commit\'s full hash, asked of Bitbucket from its 12 characters, and posts the status for it', async () => {
    const sha = s.git.commit({ 'origin.txt': 'feature\n' }, 'Start a feature', 'feature');
    s.git.checkout('main');
    const [res] = await s.fake.pullRequest(SLUG, 'pullrequest:created', { id: 1, source: { branch: 'feature', hash: sha }, destination: { branch: 'main' } });
    expect(res.status).toBe(202);
    const created = await res.build();
    expect(created).toMatchObject({ event: 'pull_request', after: sha, source_repo: SLUG });
    expect(sha).toHaveLength(40);
    const asked = s.fake.state.requests.items.filter((r) => r.method === 'GET' && r.path === `${BITBUCKET_API_PREFIX}/2.0/repositories/${SLUG}/commit/${sha.slice(0, 12)}`);
    expect(asked.map((r) => r.status)).toEqual([200]);
    const status = await s.fake.waitForStatus((st) => st.repo === SLUG && st.fullSha === sha);
    expect(status.sha).toBe(sha);
    // A pull request from the repository itself clones the repository, with its credentials.
    const stage = (await build(created.number)).stages![0];
    expect((await rpc.accept(stage.id, runnerName)).accepted).toBe(true);
    const details = await rpc.details(stage.id);
    expect(details.clone_url).toBeUndefined();
    expect(details.netrc).not.toBeNull();
    await rpc.release(stage.id);
  });

  it('reads a fork\'s pipeline file from the fork and clones the fork at its commit, without the destination\'s credentials', async () => {
    const sha = forkGit.commit({ 'origin.txt': 'fork\n', '.drone.yml': pipeline('from-fork') }, 'Change it in the fork', 'fork-feature');
    expect(s.git.git('branch', '--list', 'fork-feature')).toBe('');
    const [res] = await s.fake.pullRequest(SLUG, 'pullrequest:created', { id: 2, source: { branch: 'fork-feature', hash: sha, repo: fork }, destination: { branch: 'main' } });
    expect(res.status).toBe(202);
    const created = await build((await res.build()).number);
    expect(created).toMatchObject({ event: 'pull_request', after: sha, source_repo: FORK_SLUG, ref: 'refs/heads/fork-feature' });
    // The file was the fork's: its step names the stage's only step.
    expect(created.stages![0].steps!.map((st) => st.name)).toEqual(['clone', 'from-fork']);
    const read = s.fake.state.requests.items.filter((r) => r.method === 'GET' && r.path.includes('/src/'));
    expect(read.at(-1)!.path).toBe(`${BITBUCKET_API_PREFIX}/2.0/repositories/${FORK_SLUG}/src/${sha}/.drone.yml`);

    const stage = created.stages![0];
    expect((await rpc.accept(stage.id, runnerName)).accepted).toBe(true);
    const details = await rpc.details(stage.id);
    expect(details.clone_url).toBe(forkGit.cloneUrl);
    expect(details.netrc).toBeNull();
    const outcome = await executeStage(details, { rpc, backend, compile: compileStagePlan, workspaceDir, runnerName });
    expect(outcome).toEqual({ status: 'success', error: '' });
    const step = (await build(created.number)).stages![0].steps!.find((st) => st.name === 'from-fork')!;
    const lines = (await (await s.api(`/api/repos/${SLUG}/builds/${created.number}/logs/${stage.number}/${step.number}`)).json()) as LogLine[];
    const out = lines.map((l) => l.out).join('');
    expect(out).toContain(`commit=${sha}\n`);
    expect(out).toContain('fork\n');
  });
  it('records a private fork\'s pull request as an error that says why: the fork cannot be cloned without the repository\'s credentials', async () => {
    s.fake.addRepo({ slug: 'stranger/secret-fork', gitDir: forkGit.dir, private: true, permission: 'read' });
    const sha = forkGit.commit({ 'origin.txt': 'secret fork\n' }, 'Change it in a private fork', 'secret-feature');
    const [res] = await s.fake.pullRequest(SLUG, 'pullrequest:created', {
      id: 3,
      source: { branch: 'secret-feature', hash: sha, repo: s.fake.repo('stranger/secret-fork')! },
      destination: { branch: 'main' },
    });
    const created = await build((await res.build()).number);
    expect(created).toMatchObject({ status: 'error', after: sha, source_repo: 'stranger/secret-fork' });
    expect(created.error).toMatch(/private fork stranger\/secret-fork.*without the repository's credentials/);
    expect(created.stages).toEqual([]);
  });
});
