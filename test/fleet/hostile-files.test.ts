// Pipeline files written to be costly, pushed to a real server all at once: each push is
// answered with an error build that says which limit the file broke and where, and the
// server keeps answering /healthz while it reads them (they are read on its pipeline
// thread). Timings are the benchmark's job (bench/hostile-files.ts); this proves the order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fleet, startFleet, oneStepPipeline } from '../support/fleet.ts';
import { HEAD, STEP, costlyPaths, deepBrackets, mergeBomb, oversized } from '../support/hostile-pipelines.ts';

// Each file goes to a repository of its own, so the pushes can be delivered at once.
const FILES: Record<string, { file: string; changed?: Record<string, string>; error: RegExp }> = {
  'hostile/merge-bomb': { file: mergeBomb(8), error: /:\d+:\d+ the file's anchors and merge keys expand to more than 10000 values/ },
  'hostile/deep': { file: deepBrackets(200_000), error: /:4:104 the pipeline file nests more than 100 levels deep here/ },
  'hostile/large': { file: oversized(1_100_000), error: /Harrier reads files of at most 1,048,576 bytes/ },
  'hostile/costly-paths': {
    ...costlyPaths(),
    error: /matching the conditions' patterns took more than 10,000,000 steps; use fewer or shorter patterns/,
  },
};

describe('hostile pipeline files', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await startFleet({
      name: 'hostile-files',
      repos: [...Object.keys(FILES), 'hostile/backtracking'].map((slug) => ({ slug, pipeline: oneStepPipeline('a', ['echo']) })),
      runners: 0,
    });
  });
  afterAll(async () => {
    await fleet?.close();
  });

  it('fails each build with the limit its file broke, while /healthz keeps answering', async () => {
    let pushesAnswered = 0;
    const pushes = Object.entries(FILES).map(async ([slug, { file, changed }]) => {
      const build = await fleet.push(slug, { files: { '.drone.yml': file, ...changed } });
      pushesAnswered++;
      return [slug, build] as const;
    });
    // Health checks run while the files are read; each records how many pushes were answered before it.
    const health: { status: number; before: number }[] = [];
    const all = Promise.all(pushes);
    let done = false;
    void all.finally(() => (done = true));
    while (!done) {
      const res = await fetch(`${fleet.servers[0].env.HARRIER_HOST}/healthz`);
      health.push({ status: res.status, before: pushesAnswered });
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const [slug, build] of await all) {
      expect(build.status, slug).toBe('error');
      expect(build.error, slug).toMatch(FILES[slug].error);
    }
    expect(health.every((h) => h.status === 200)).toBe(true);
    // Some health check was answered while every push was still being read.
    expect(health.some((h) => h.before === 0)).toBe(true);
  }, 240_000);

  it('matches a pattern that makes a regular expression backtrack, and builds', async () => {
    const file = `${HEAD}${STEP}trigger:\n  paths:\n    include: ['${'*a'.repeat(12)}*b', 'a*']\n`;
    const build = await fleet.push('hostile/backtracking', { files: { '.drone.yml': file, [`${'a'.repeat(60)}`]: 'x\n' } });
    expect(build.status).toBe('pending');
  }, 120_000);
});
