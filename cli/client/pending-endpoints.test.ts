// `harrier build retry` against a stand-in that records what it was sent (path, query). It
// was written before the server had POST …/builds/{n}/retry; the server has it now
// (server/builds/retry-build.ts, tested in test/server/retry-build.test.ts), and this check
// belongs with the other build commands against the real thing (client-commands.test.ts),
// which is still to do; cron, promote, rollback,
// manual builds and organisation secrets are there already (builds-beyond-push.test.ts,
// org-secret-commands.test.ts).
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Build } from '../../core/domain.ts';
import { Router, startFakeServer, type FakeServer } from '../../test/fakes/fake-http.ts';
import { captureIO } from '../testing/command-io.ts';
import { runClientCommand } from './client-program.ts';

const TOKEN = 'personal-token';

function build(fields: Partial<Build>): Build {
  return { number: 8, status: 'pending', event: 'push', ref: 'refs/heads/main', target: 'main', after: 'a'.repeat(40), author_login: 'octocat', message: 'm', started: 0, finished: 0, deploy_to: '', error: '', stages: [], ...fields } as Build;
}

describe('commands of endpoints other parts of Harrier are adding', () => {
  let fake: FakeServer;

  beforeAll(async () => {
    const router = new Router().on('POST', '/api/repos/:owner/:name/builds/:number/retry', () => ({ status: 200, body: build({ number: 7 }) }));
    fake = await startFakeServer(router, (req) => ({ status: 404, body: { message: `no such endpoint: ${req.method} ${req.path}` } }));
  });
  afterAll(async () => {
    await fake?.close();
  });

  async function harrier(...args: string[]) {
    const io = captureIO(os.tmpdir(), { HARRIER_SERVER: fake.url, HARRIER_TOKEN: TOKEN });
    const code = await runClientCommand(args, io);
    const sent = fake.requests.items.at(-1)!;
    return { code, out: io.out(), err: io.err(), sent: { method: sent.method, path: sent.path, query: sent.query, authorization: sent.authorization } };
  }

  it('build retry posts to …/retry, with ?stage= for one stage', async () => {
    const all = await harrier('build', 'retry', 'octocat/hello-world', '7');
    expect(all.sent).toMatchObject({ method: 'POST', path: '/api/repos/octocat/hello-world/builds/7/retry', query: '', authorization: `Bearer ${TOKEN}` });
    expect(all.out).toMatch(/^build 7 retried\n/);
    const one = await harrier('build', 'retry', 'octocat/hello-world', '7', '--stage', '2');
    expect(one.sent).toMatchObject({ path: '/api/repos/octocat/hello-world/builds/7/retry', query: '?stage=2' });
    expect(one.out).toMatch(/^build 7 retried \(stage 2\)\n/);
  });

  it('says an endpoint is missing and the server wants upgrading, when the server answers no such endpoint', async () => {
    const ran = await harrier('build', 'retry', 'octocat/hello-world', 'last');
    expect(ran.code).toBe(1);
    expect(ran.err).toBe(
      "harrier: no such endpoint: GET /api/repos/octocat/hello-world/builds/latest (this server does not have this command's endpoint yet: upgrade it) (404 from GET /api/repos/octocat/hello-world/builds/latest)\n",
    );
  });
});
