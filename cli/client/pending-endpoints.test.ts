// Commands whose endpoints the server does not have yet (retry, promote, cron, organisation
// secrets) checked against a stand-in that answers as Drone's API does and records what it
// was sent: the paths, queries and JSON bodies are Drone's. Once the server has them, they
// belong in client-commands.test.ts against the real thing.
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Build, Cron, OrgSecret } from '../../core/domain.ts';
import { Router, startFakeServer, type FakeServer } from '../../test/fakes/fake-http.ts';
import { captureIO } from '../testing/command-io.ts';
import { runClientCommand } from './client-program.ts';

const TOKEN = 'personal-token';

function build(fields: Partial<Build>): Build {
  return { number: 8, status: 'pending', event: 'push', ref: 'refs/heads/main', target: 'main', after: 'a'.repeat(40), author_login: 'octocat', message: 'm', started: 0, finished: 0, deploy_to: '', error: '', stages: [], ...fields } as Build;
}

const cron: Cron = { id: 1, repo_id: 1, name: 'nightly', expr: '0 0 2 * * *', branch: 'main', disabled: false, next: 1_800_000_000, prev: 0, error: '', created: 1, updated: 1, version: 1 };
const orgSecret: OrgSecret = { id: 3, namespace: 'octocat', name: 'registry_password', pull_request: false };

describe('commands of endpoints other parts of Harrier are adding', () => {
  let fake: FakeServer;

  beforeAll(async () => {
    const router = new Router()
      .on('POST', '/api/repos/:owner/:name/builds/:number/retry', () => ({ status: 200, body: build({ number: 7 }) }))
      .on('POST', '/api/repos/:owner/:name/builds/:number/promote', (req) => ({ status: 200, body: build({ number: 9, event: 'promote', deploy_to: req.query.get('target') ?? '' }) }))
      .on('GET', '/api/repos/:owner/:name/cron', () => ({ status: 200, body: [cron] }))
      .on('POST', '/api/repos/:owner/:name/cron', () => ({ status: 200, body: cron }))
      .on('DELETE', '/api/repos/:owner/:name/cron/:cron', () => ({ status: 204 }))
      .on('POST', '/api/repos/:owner/:name/cron/:cron', () => ({ status: 200, body: build({ number: 10, event: 'cron' }) }))
      .on('GET', '/api/secrets/:namespace', () => ({ status: 200, body: [orgSecret] }))
      .on('POST', '/api/secrets/:namespace', () => ({ status: 200, body: orgSecret }))
      .on('PATCH', '/api/secrets/:namespace/:name', () => ({ status: 200, body: { ...orgSecret, pull_request: true } }))
      .on('DELETE', '/api/secrets/:namespace/:name', () => ({ status: 204 }));
    fake = await startFakeServer(router, (req) => ({ status: 404, body: { message: `no such endpoint: ${req.method} ${req.path}` } }));
  });
  afterAll(async () => {
    await fake?.close();
  });

  async function harrier(...args: string[]) {
    const io = captureIO(os.tmpdir(), { HARRIER_SERVER: fake.url, HARRIER_TOKEN: TOKEN });
    const code = await runClientCommand(args, io);
    const sent = fake.requests.items.at(-1)!;
    return { code, out: io.out(), err: io.err(), sent: { method: sent.method, path: sent.path, query: sent.query, body: sent.body ? JSON.parse(sent.body) : undefined, authorization: sent.authorization } };
  }

  it('build retry posts to …/retry, with ?stage= for one stage', async () => {
    const all = await harrier('build', 'retry', 'octocat/hello-world', '7');
    expect(all.sent).toMatchObject({ method: 'POST', path: '/api/repos/octocat/hello-world/builds/7/retry', query: '', authorization: `Bearer ${TOKEN}` });
    expect(all.out).toMatch(/^build 7 retried\n/);
    const one = await harrier('build', 'retry', 'octocat/hello-world', '7', '--stage', '2');
    expect(one.sent).toMatchObject({ path: '/api/repos/octocat/hello-world/builds/7/retry', query: '?stage=2' });
    expect(one.out).toMatch(/^build 7 retried \(stage 2\)\n/);
  });

  it('build promote posts the target and each --param as query parameters', async () => {
    const ran = await harrier('build', 'promote', 'octocat/hello-world', '7', 'production', '-p', 'VERSION=1.2', '--param', 'DRY_RUN=no', '--format', 'json');
    expect(ran.code).toBe(0);
    expect(ran.sent.path).toBe('/api/repos/octocat/hello-world/builds/7/promote');
    expect(Object.fromEntries(new URLSearchParams(ran.sent.query))).toEqual({ target: 'production', VERSION: '1.2', DRY_RUN: 'no' });
    expect(JSON.parse(ran.out)).toMatchObject({ number: 9, event: 'promote', deploy_to: 'production' });
    const clash = await harrier('build', 'promote', 'octocat/hello-world', '7', 'production', '-p', 'target=staging');
    expect(clash.code).toBe(2);
  });

  it('cron ls, add, rm and run use Drone\'s cron paths and fields', async () => {
    const ls = await harrier('cron', 'ls', 'octocat/hello-world');
    expect(ls.sent).toMatchObject({ method: 'GET', path: '/api/repos/octocat/hello-world/cron' });
    expect(ls.out).toBe('NAME     EXPR         BRANCH  DISABLED  NEXT                  PREV\nnightly  0 0 2 * * *  main    no        2027-01-15T08:00:00Z\n');
    const add = await harrier('cron', 'add', 'octocat/hello-world', 'nightly', '0 0 2 * * *', '--branch', 'main');
    expect(add.sent).toMatchObject({ method: 'POST', path: '/api/repos/octocat/hello-world/cron', body: { name: 'nightly', expr: '0 0 2 * * *', branch: 'main' } });
    expect(add.out).toBe('cron nightly added: 0 0 2 * * * on main, next at 2027-01-15T08:00:00Z\n');
    const rm = await harrier('cron', 'rm', 'octocat/hello-world', 'nightly');
    expect(rm.sent).toMatchObject({ method: 'DELETE', path: '/api/repos/octocat/hello-world/cron/nightly' });
    expect(rm.out).toBe('cron nightly removed\n');
    const run = await harrier('cron', 'run', 'octocat/hello-world', 'nightly');
    expect(run.sent).toMatchObject({ method: 'POST', path: '/api/repos/octocat/hello-world/cron/nightly' });
    expect(run.out).toBe('cron nightly started build 10\n');
    expect((await harrier('cron', 'exec', 'octocat/hello-world', 'nightly')).sent.path).toBe('/api/repos/octocat/hello-world/cron/nightly');
  });

  it('secret --org uses Drone\'s organisation secret paths', async () => {
    expect((await harrier('secret', 'ls', '--org', 'octocat')).sent).toMatchObject({ method: 'GET', path: '/api/secrets/octocat' });
    const add = await harrier('secret', 'add', '--org', 'octocat', '--name', 'registry_password', '--data', 'hunter22');
    expect(add.sent).toMatchObject({ method: 'POST', path: '/api/secrets/octocat', body: { name: 'registry_password', data: 'hunter22', pull_request: false } });
    const update = await harrier('secret', 'update', '--org', 'octocat', '--name', 'registry_password', '--allow-pull-request');
    expect(update.sent).toMatchObject({ method: 'PATCH', path: '/api/secrets/octocat/registry_password', body: { pull_request: true } });
    expect(update.out).toBe('secret registry_password updated (pull requests from forks may use it)\n');
    expect((await harrier('secret', 'rm', '--org', 'octocat', '--name', 'registry_password')).sent).toMatchObject({ method: 'DELETE', path: '/api/secrets/octocat/registry_password' });
  });

  it('says an endpoint is missing and the server wants upgrading, when the server answers no such endpoint', async () => {
    const ran = await harrier('build', 'retry', 'octocat/hello-world', 'last');
    expect(ran.code).toBe(1);
    expect(ran.err).toBe(
      "harrier: no such endpoint: GET /api/repos/octocat/hello-world/builds/latest (this server does not have this command's endpoint yet: upgrade it) (404 from GET /api/repos/octocat/hello-world/builds/latest)\n",
    );
  });
});
