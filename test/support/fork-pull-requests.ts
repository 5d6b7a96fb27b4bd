// Pull requests from a fork (forker/hello-world, sharing the scenario's git repository) on
// the GitHub stand-in, for tests of what such builds may have before and after approval.
import { expect } from 'vitest';
import type { Build } from '../../core/domain.ts';
import { SLUG, type GithubScenario } from './scenario.ts';

export interface ForkPullRequest {
  number: number;
  /** The fork's branch, made from the current commit with one more file. */
  branch: string;
  /** Approve the build (it waits in `blocked` first, the repository made protected meanwhile), or leave it unapproved. */
  approve: boolean;
}

/** Delivers the pull request and returns its build as the API showed it when it was made. */
export async function forkPullRequest(s: GithubScenario, pr: ForkPullRequest): Promise<Build> {
  const { db } = s.server.ctx;
  const fork = s.fake.repo('forker/hello-world') ?? s.fake.addRepo({ slug: 'forker/hello-world', gitDir: s.git.dir, private: false });
  const sha = s.git.commit({ [`${pr.branch}.txt`]: pr.branch }, `From a fork: ${pr.branch}`, pr.branch);
  s.git.checkout('main');
  if (pr.approve) await db.repo.updateMany({ where: { slug: SLUG }, data: { protected: true } });
  try {
    const [res] = await s.fake.pullRequest(SLUG, { number: pr.number, head: { ref: pr.branch, sha, repo: fork }, base: { ref: 'main' } });
    const build = await res.build();
    const row = await db.build.findFirstOrThrow({ where: { number: build.number, repo: { slug: SLUG } } });
    expect(row.fork).toBe(true);
    if (pr.approve) {
      expect(build.status).toBe('blocked');
      expect((await s.api(`/api/repos/${SLUG}/builds/${build.number}/approve`, { method: 'POST' })).status).toBe(200);
    }
    return build;
  } finally {
    if (pr.approve) await db.repo.updateMany({ where: { slug: SLUG }, data: { protected: false } });
  }
}
