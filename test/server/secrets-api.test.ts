// The repository secrets API over real HTTP on SQLite and PostgreSQL: Drone's paths and
// JSON, values encrypted at rest and never answered or logged, write permission, and a
// server that will not start without an encryption key.
import fs from 'node:fs';
import os from 'node:os';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Secret } from '../../core/domain.ts';
import { loadServerConfig } from '../../server/config.ts';
import { startServer } from '../../server/main.ts';
import { secretBoxFor, secretContext } from '../../server/secrets/secret-box.ts';
import { githubScenario, SLUG, type GithubScenario } from '../support/scenario.ts';

const KEY = '5e'.repeat(32);
const PIPELINE = 'kind: pipeline\ntype: docker\nname: default\nsteps:\n- name: build\n  image: alpine:3\n  commands: [echo hi]\n';
const VALUES = ['hunter2-docker-password', 'second-value-after-patch', 'case-twin-value'];

/** Every log line the server writes, at every level. */
function capturedLogger() {
  const lines: string[] = [];
  const logger = pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) });
  return { logger, lines };
}

function post(s: GithubScenario, path: string, body: unknown, method = 'POST') {
  return s.api(path, { method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
}

async function message(res: Response): Promise<string> {
  return ((await res.json()) as { message: string }).message;
}

describe.each(['sqlite', 'postgres'] as const)('repository secrets on %s', (flavour) => {
  let s: GithubScenario;
  const logs = capturedLogger();
  const path = `/api/repos/${SLUG}/secrets`;
  const answers: string[] = [];

  /** Fetches and keeps the raw answer, so the last test can check no answer held a value. */
  async function call(res: Promise<Response>): Promise<{ status: number; text: string; body: any }> {
    const r = await res;
    const text = await r.text();
    answers.push(text);
    return { status: r.status, text, body: text ? JSON.parse(text) : undefined };
  }

  beforeAll(async () => {
    s = await githubScenario({ pipeline: PIPELINE, flavour, env: { HARRIER_DATABASE_SECRET: KEY }, logger: logs.logger });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('creates a secret and answers with Drone\'s secret JSON without the value', async () => {
    const r = await call(post(s, path, { name: 'docker_password', data: VALUES[0] }));
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ id: expect.any(Number), repo_id: expect.any(Number), name: 'docker_password', pull_request: false });
    expect(r.body).not.toHaveProperty('data');
  });

  it('stores the value encrypted, bound to its repository and name', async () => {
    const row = await s.server.ctx.db.secret.findFirstOrThrow({ where: { name: 'docker_password' } });
    expect(row.data).toMatch(/^v1:/);
    expect(row.data).not.toContain(VALUES[0]);
    expect(secretBoxFor(KEY)!.open(row.data, secretContext(row.repoId, row.name))).toBe(VALUES[0]);
  });

  it('lists secrets by name with their pull_request flag, never a value', async () => {
    await call(post(s, path, { name: 'npm.token-2', data: 'npm-value', pull_request: true }));
    const r = await call(s.api(path));
    expect(r.status).toBe(200);
    expect((r.body as Secret[]).map((x) => [x.name, x.pull_request])).toEqual([
      ['docker_password', false],
      ['npm.token-2', true],
    ]);
    expect(r.text).not.toContain('npm-value');
    expect(r.text).not.toContain('"data"');
  });

  it('shows one secret, and answers 404 for a name the repository does not have', async () => {
    const r = await call(s.api(`${path}/docker_password`));
    expect(r.body).toMatchObject({ name: 'docker_password', pull_request: false });
    const missing = await call(s.api(`${path}/nope`));
    expect(missing.status).toBe(404);
    expect(missing.body.message).toMatch(/no secret named "nope"/);
  });

  it('refuses names Drone refuses, with the rule in the message', async () => {
    for (const name of ['has space', 'semi;colon', 'ünï', '', 'x'.repeat(201)]) {
      const r = await call(post(s, path, { name, data: 'value' }));
      expect(r.status, name).toBe(400);
      expect(r.body.message).toMatch(/^invalid request body: name: /);
    }
    const rule = await call(post(s, path, { name: 'a/b', data: 'value' }));
    expect(rule.body.message).toContain('only letters, digits, "_", "." and "-"');
  });

  it('refuses a missing or empty value and a wrong pull_request type', async () => {
    expect((await call(post(s, path, { name: 'novalue' }))).body.message).toMatch(/data: must be a string/);
    expect((await call(post(s, path, { name: 'empty', data: '' }))).body.message).toMatch(/data: must not be empty/);
    expect((await call(post(s, path, { name: 'flag', data: 'value', pull_request: 'yes' }))).body.message).toMatch(/pull_request: must be true or false/);
  });

  it('refuses a value shorter than 4 characters on create and on change, naming the minimum', async () => {
    for (const data of ['abc', 'é✓x', ' a ']) {
      const created = await call(post(s, path, { name: 'short', data }));
      expect(created.status, data).toBe(400);
      expect(created.body.message).toMatch(/data: must be at least 4 characters long: a shorter value could not be masked in build logs/);
    }
    const changed = await call(post(s, `${path}/docker_password`, { data: 'abc' }, 'PATCH'));
    expect(changed.status).toBe(400);
    expect(changed.body.message).toMatch(/at least 4 characters/);
    // Four characters, counted as people count them (one emoji is two UTF-16 units), are enough.
    const four = await call(post(s, path, { name: 'four_chars', data: '😀abc' }));
    expect(four.status).toBe(200);
    expect((await call(s.api(`${path}/four_chars`, { method: 'DELETE' }))).status).toBe(204);
  });

  it('answers 409 to a second secret of the same name, also when only the case differs', async () => {
    const same = await call(post(s, path, { name: 'docker_password', data: 'other' }));
    expect(same.status).toBe(409);
    expect(same.body.message).toMatch(/already has a secret named "docker_password"/);
    const twin = await call(post(s, path, { name: 'DOCKER_PASSWORD', data: VALUES[2] }));
    expect(twin.status).toBe(409);
  });

  it('changes the value and the pull_request flag with PATCH, keeping what was not sent', async () => {
    const flag = await call(post(s, `${path}/docker_password`, { pull_request: true }, 'PATCH'));
    expect(flag.status).toBe(200);
    expect(flag.body).toMatchObject({ name: 'docker_password', pull_request: true });
    let row = await s.server.ctx.db.secret.findFirstOrThrow({ where: { name: 'docker_password' } });
    expect(secretBoxFor(KEY)!.open(row.data, secretContext(row.repoId, row.name))).toBe(VALUES[0]);

    const value = await call(post(s, `${path}/docker_password`, { data: VALUES[1] }, 'PATCH'));
    expect(value.body).toEqual({ id: row.id, repo_id: row.repoId, name: 'docker_password', pull_request: true });
    row = await s.server.ctx.db.secret.findFirstOrThrow({ where: { name: 'docker_password' } });
    expect(secretBoxFor(KEY)!.open(row.data, secretContext(row.repoId, row.name))).toBe(VALUES[1]);
    expect((await call(post(s, `${path}/docker_password`, { data: '' }, 'PATCH'))).status).toBe(400);
    expect((await call(post(s, `${path}/nope`, { data: 'value' }, 'PATCH'))).status).toBe(404);
  });

  it('deletes a secret with 204', async () => {
    const del = await s.api(`${path}/npm.token-2`, { method: 'DELETE' });
    expect(del.status).toBe(204);
    expect((await call(s.api(`${path}/npm.token-2`))).status).toBe(404);
    expect((await s.api(`${path}/npm.token-2`, { method: 'DELETE' })).status).toBe(404);
  });

  it('needs write permission on the repository for every secrets endpoint, as Drone', async () => {
    const { db } = s.server.ctx;
    const repo = await db.repo.findFirstOrThrow({ where: { slug: SLUG } });
    await db.perm.updateMany({ where: { repoId: repo.id }, data: { write: false, admin: false, syncedAt: s.server.ctx.now() } });
    try {
      for (const [method, p, body] of [
        ['GET', path],
        ['GET', `${path}/docker_password`],
        ['POST', path, { name: 'readonly', data: 'value' }],
        ['PATCH', `${path}/docker_password`, { pull_request: false }],
        ['DELETE', `${path}/docker_password`],
      ] as const) {
        const r = await call(method === 'GET' ? s.api(p) : post(s, p, body ?? {}, method));
        expect(r.status, `${method} ${p}`).toBe(403);
        expect(r.body.message).toMatch(/you need write permission/);
      }
    } finally {
      await db.perm.updateMany({ where: { repoId: repo.id }, data: { write: true, admin: true } });
    }
    const anonymous = await fetch(`${s.server.host}${path}`);
    expect(anonymous.status).toBe(401);
  });

  it('never put a value in an answer or in the server log', () => {
    expect(answers.length).toBeGreaterThan(10);
    expect(logs.lines.some((l) => l.includes('"event":"secret_created"'))).toBe(true);
    for (const value of [...VALUES, 'npm-value']) {
      for (const text of answers) expect(text).not.toContain(value);
      for (const line of logs.lines) expect(line).not.toContain(value);
    }
  });
});

describe('a server without HARRIER_DATABASE_SECRET', () => {
  it('refuses to start, before touching the database, saying to set HARRIER_DATABASE_SECRET and how', async () => {
    const dir = fs.mkdtempSync(`${os.tmpdir()}/harrier-no-key-`);
    try {
      const config = loadServerConfig({ HARRIER_RPC_SECRET: 'x', HARRIER_DATA_DIR: dir, HARRIER_DATABASE_SECRET: '' });
      await expect(startServer(config, pino({ level: 'silent' }))).rejects.toThrow(/HARRIER_DATABASE_SECRET is not set.*openssl rand -hex 32.*restart/);
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
