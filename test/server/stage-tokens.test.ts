// A runner holds what it accepted, and nothing else: every call about a stage needs the
// stage token it was accepted with, even under the holder's name (all runners may share
// one secret, so a name proves nothing). Spoken as raw HTTP, as core/protocol.ts describes
// it, so that nothing in the runner's client hides what the server answers.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Build, Stage } from '../../core/domain.ts';
import { type AcceptResponse, RUNNER_HEADER, rpcPaths, STAGE_TOKEN_HEADER, type StageDetails } from '../../core/protocol.ts';
import { readLogLines } from '../../server/logs/log-store.ts';
import { githubScenario, SLUG, type GithubScenario } from '../support/scenario.ts';
import { TEST_RPC_SECRET } from '../support/server.ts';

const PIPELINE = `kind: pipeline
type: docker
name: default
steps:
- name: build
  image: alpine:3
  environment:
    TOKEN:
      from_secret: deploy_token
  commands: [echo build]
`;

const DEPLOY_TOKEN = 'deploy-token-value-7f3a';
const now = () => Math.floor(Date.now() / 1000);
const newToken = () => randomBytes(32).toString('base64url');

interface Answer {
  status: number;
  body: any;
  message: string;
}

function harness(flavour: 'sqlite' | 'postgres', env: Record<string, string> = {}) {
  const h = {} as { s: GithubScenario };
  beforeAll(async () => {
    h.s = await githubScenario({ pipeline: PIPELINE, flavour, env });
    const secret = await h.s.api(`/api/repos/${SLUG}/secrets`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'deploy_token', data: DEPLOY_TOKEN }),
    });
    expect(secret.status).toBe(200);
  });
  afterAll(async () => {
    await h.s?.close();
  });

  /** One RPC call as a runner makes it: the Bearer, the runner's name, the stage token (when given), a JSON body. */
  async function rpc(method: 'GET' | 'POST', path: string, opts: { name?: string; token?: string; body?: unknown; bearer?: string } = {}): Promise<Answer> {
    const res = await fetch(h.s.server.host + path, {
      method,
      headers: {
        authorization: `Bearer ${opts.bearer ?? TEST_RPC_SECRET}`,
        ...(opts.name ? { [RUNNER_HEADER]: opts.name } : {}),
        ...(opts.token ? { [STAGE_TOKEN_HEADER]: opts.token } : {}),
        ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    const text = await res.text();
    const body = text ? JSON.parse(text) : undefined;
    return { status: res.status, body, message: body?.message ?? '' };
  }

  async function queuedStage(message: string): Promise<{ build: Build; stage: Stage }> {
    const { responses } = await h.s.push({ [`${message}.txt`]: message }, message);
    const build = await responses[0].build();
    const full = (await (await h.s.api(`/api/repos/${SLUG}/builds/${build.number}`)).json()) as Build;
    return { build: full, stage: full.stages![0] };
  }

  async function accept(stage: Stage, name: string, token = newToken(), bearer?: string): Promise<string> {
    const answer = await rpc('POST', rpcPaths.accept(stage.id), { name, body: { machine: name, token }, bearer });
    expect(answer.status, answer.message).toBe(200);
    expect((answer.body as AcceptResponse).token).toBe(token);
    return token;
  }

  const stageRow = (id: number) => h.s.server.ctx.db.stage.findUniqueOrThrow({ where: { id }, include: { steps: { orderBy: { number: 'asc' } } } });
  const stepNamed = (stage: Stage, name: string) => stage.steps!.find((st) => st.name === name)!;
  return { h, rpc, queuedStage, accept, stageRow, stepNamed };
}

describe.each(['sqlite', 'postgres'] as const)('stage tokens on %s', (flavour) => {
  const { h, rpc, queuedStage, accept, stageRow, stepNamed } = harness(flavour);

  it("keeps a runner holding stage A out of stage B, even with B's id and B's runner name", async () => {
    const a = await queuedStage('holder-a');
    const b = await queuedStage('holder-b');
    const tokenA = await accept(a.stage, 'runner-a');
    const tokenB = await accept(b.stage, 'runner-b');
    const stepB = stepNamed(b.stage, 'build');
    // Runner a says it is runner b: with its own token, with none, with a made-up one.
    for (const token of [tokenA, undefined, newToken()]) {
      const as = { name: 'runner-b', token };
      const details = await rpc('GET', rpcPaths.details(b.stage.id), as);
      expect(details.status).toBe(403);
      expect(details.message).toContain(STAGE_TOKEN_HEADER);
      expect(JSON.stringify(details.body)).not.toContain(DEPLOY_TOKEN);
      expect((await rpc('POST', rpcPaths.updateStage(b.stage.id), { ...as, body: { status: 'failure' } })).status).toBe(403);
      expect((await rpc('POST', rpcPaths.updateStep(stepB.id), { ...as, body: { status: 'running', started: now() } })).status).toBe(403);
      expect((await rpc('POST', rpcPaths.logs(stepB.id), { ...as, body: [{ pos: 0, out: 'forged\n', time: 0 }] })).status).toBe(403);
      expect((await rpc('POST', rpcPaths.release(b.stage.id), as)).status).toBe(403);
      expect((await rpc('POST', rpcPaths.watch(b.build.id), as)).status).toBe(403);
    }
    // Nor can it get a token of its own by accepting B again under b's name.
    const stolen = await rpc('POST', rpcPaths.accept(b.stage.id), { name: 'runner-b', body: { machine: 'runner-b', token: newToken() } });
    expect(stolen.status).toBe(409);
    expect(stolen.message).toContain('another stage token');
    const row = await stageRow(b.stage.id);
    expect([row.status, row.machine]).toEqual(['pending', 'runner-b']);
    expect(row.steps.every((st) => st.status === 'pending')).toBe(true);
    expect(await readLogLines(h.s.server.ctx, stepB.id)).toEqual([]);

    // Runner b, with its token, gets what it accepted: the secrets too.
    const details = await rpc('GET', rpcPaths.details(b.stage.id), { name: 'runner-b', token: tokenB });
    expect(details.status).toBe(200);
    expect((details.body as StageDetails).secrets).toEqual([{ name: 'deploy_token', value: DEPLOY_TOKEN }]);
    expect((await rpc('POST', rpcPaths.logs(stepB.id), { name: 'runner-b', token: tokenB, body: [{ pos: 0, out: 'real\n', time: 0 }] })).status).toBe(204);
    for (const [stage, name, token] of [[a.stage, 'runner-a', tokenA], [b.stage, 'runner-b', tokenB]] as const) {
      expect((await rpc('POST', rpcPaths.updateStage(stage.id), { name, token, body: { status: 'success', started: now(), stopped: now() } })).status).toBe(200);
    }
  });

  it('stores only the sha256 of the token, and answers a repeated accept and a repeated final report with the same token', async () => {
    const { stage } = await queuedStage('repeat');
    const token = await accept(stage, 'runner-r');
    const row = await stageRow(stage.id);
    expect(row.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(token);
    // The answer to the first accept was lost: the same token again.
    expect(await accept(stage, 'runner-r', token)).toBe(token);
    const end = { status: 'success', started: now(), stopped: now() };
    expect((await rpc('POST', rpcPaths.updateStage(stage.id), { name: 'runner-r', token, body: end })).status).toBe(200);
    expect((await rpc('POST', rpcPaths.updateStage(stage.id), { name: 'runner-r', token, body: end })).status).toBe(200);
    // The ended stage gives nothing else, to nobody: not the repeat without its token, not its details with it.
    expect((await rpc('POST', rpcPaths.updateStage(stage.id), { name: 'runner-r', token: newToken(), body: end })).status).toBe(409);
    expect((await rpc('GET', rpcPaths.details(stage.id), { name: 'runner-r', token })).status).toBe(409);
  });

  it('refuses the old token once the stage was handed back, even when the same runner accepts it again', async () => {
    const { stage } = await queuedStage('released');
    const first = await accept(stage, 'runner-h');
    expect((await rpc('POST', rpcPaths.release(stage.id), { name: 'runner-h', token: first })).status).toBe(204);
    expect((await stageRow(stage.id)).tokenHash).toBe('');
    expect((await rpc('GET', rpcPaths.details(stage.id), { name: 'runner-h', token: first })).status).toBe(409);
    const second = await accept(stage, 'runner-h');
    const old = await rpc('GET', rpcPaths.details(stage.id), { name: 'runner-h', token: first });
    expect(old.status).toBe(403);
    expect(old.message).toContain('not the token');
    expect((await rpc('GET', rpcPaths.details(stage.id), { name: 'runner-h', token: second })).status).toBe(200);
    expect((await rpc('POST', rpcPaths.updateStage(stage.id), { name: 'runner-h', token: second, body: { status: 'success', started: now(), stopped: now() } })).status).toBe(200);
  });

  it('asks for the token in the stage token header when it is missing', async () => {
    const { stage } = await queuedStage('missing');
    const token = await accept(stage, 'runner-m');
    const missing = await rpc('POST', rpcPaths.updateStage(stage.id), { name: 'runner-m', body: { status: 'running' } });
    expect(missing.status).toBe(403);
    expect(missing.message).toBe(`calls about stage ${stage.id} must carry the token it was accepted with in the ${STAGE_TOKEN_HEADER} header`);
    const noToken = await rpc('POST', rpcPaths.accept(stage.id), { name: 'runner-m', body: { machine: 'runner-m' } });
    expect(noToken.status).toBe(400);
    expect(noToken.message).toMatch(/^invalid request body: token: the stage token is missing/);
    expect((await rpc('POST', rpcPaths.updateStage(stage.id), { name: 'runner-m', token, body: { status: 'success', started: now(), stopped: now() } })).status).toBe(200);
  });
});

/** Polls the database until `done` holds: the server's sweep acts every second here. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within a minute: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.each(['sqlite', 'postgres'] as const)('stage tokens after a lease ends, on %s', (flavour) => {
  const { rpc, queuedStage, accept, stageRow, stepNamed } = harness(flavour, { HARRIER_LEASE_SECONDS: '2' });

  it('clears the token when the lease runs out before a step started, and refuses the old one after the same runner accepts again', async () => {
    const { stage } = await queuedStage('expired-early');
    const first = await accept(stage, 'runner-q');
    await until(() => stageRow(stage.id), (r) => r.machine === '', 'the requeue');
    expect((await stageRow(stage.id)).tokenHash).toBe('');
    const second = await accept(stage, 'runner-q');
    expect((await rpc('GET', rpcPaths.details(stage.id), { name: 'runner-q', token: first })).status).toBe(403);
    expect((await rpc('POST', rpcPaths.updateStage(stage.id), { name: 'runner-q', token: second, body: { status: 'success', started: now(), stopped: now() } })).status).toBe(200);
  });

  it('clears the token when the lease runs out during a step, and the old one gets nothing', async () => {
    const { stage } = await queuedStage('expired-late');
    const token = await accept(stage, 'runner-l');
    const step = stepNamed(stage, 'build');
    expect((await rpc('POST', rpcPaths.updateStep(step.id), { name: 'runner-l', token, body: { status: 'running', started: now() } })).status).toBe(200);
    const row = await until(() => stageRow(stage.id), (r) => r.status === 'error', 'the lease expiry');
    expect(row.tokenHash).toBe('');
    expect((await rpc('GET', rpcPaths.details(stage.id), { name: 'runner-l', token })).status).toBe(409);
    expect((await rpc('POST', rpcPaths.logs(step.id), { name: 'runner-l', token, body: [{ pos: 0, out: 'late\n', time: 0 }] })).status).toBe(409);
  });
});
