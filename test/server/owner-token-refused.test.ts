// Failing closed when it is the server that finds out: GitHub revokes the grant of the user
// who activated a repository, and the next push is where Harrier hears the 401. That user is
// marked refused at once (stored permissions no longer count) rather than at their next visit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubScenario, type GithubScenario } from '../support/scenario.ts';

const PIPELINE = 'kind: pipeline\ntype: docker\nname: default\nsteps:\n- name: a\n  image: alpine:3\n  commands: [echo]\n';

describe('a repository whose owner GitHub no longer accepts', () => {
  let s: GithubScenario;
  beforeAll(async () => {
    s = await githubScenario({ pipeline: PIPELINE });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('marks the owner refused when a push meets a 401 reading the pipeline file', async () => {
    const before = await s.server.ctx.db.user.findFirstOrThrow();
    expect(before.scmRefused).toBe(0);
    s.fake.state.token = 'revoked-by-github';
    const { responses } = await s.push({ 'a.txt': 'a' }, 'After the grant was revoked');
    // Stored and answered; the worker meets the 401 and fails the delivery, the provider's
    // refusal not being something a retry fixes.
    expect(responses[0].status).toBe(202);
    const outcome = await responses[0].outcome();
    expect(outcome).toMatchObject({ status: 'failed', build: null });
    expect(outcome.reason).toMatch(/401/);
    const after = await s.server.ctx.db.user.findUniqueOrThrow({ where: { id: before.id } });
    expect(after.scmRefused).toBeGreaterThan(0);
  });
});
