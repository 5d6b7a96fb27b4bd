import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Build } from '../../core/domain.ts';
import { githubScenario, SLUG, type GithubScenario } from '../../test/support/scenario.ts';
import type { LanguageSettings } from '../language/language-settings.ts';
import { KEPT_DETECTIONS } from '../language/language-cache.ts';
import { defaultProposal, LANGUAGES } from '../language/proposals.ts';
import { ScmError } from '../providers/scm.ts';

const PIPELINE = `kind: pipeline
type: docker
name: default

steps:
- name: build
  image: alpine:3
  commands:
  - echo hello
`;

const EDITED = `kind: pipeline
type: docker
name: edited

steps:
- name: test
  image: node:20
  commands:
  - npm ci
  - npm run lint
  - npm test
`;

const LANGUAGE_PATH = `/api/repos/${SLUG}/language`;

describe.each(['sqlite', 'postgres'] as const)('language settings on %s', (flavour) => {
  let s: GithubScenario;

  beforeAll(async () => {
    s = await githubScenario({ pipeline: PIPELINE, flavour });
  });
  afterAll(async () => {
    await s?.close();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  const row = () => s.server.ctx.db.repo.findFirstOrThrow({ where: { slug: SLUG } });
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await s.api(path, {
      method,
      headers: { ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const settings = async () => {
    const res = await call('GET', LANGUAGE_PATH);
    expect(res.status).toBe(200);
    return res.body as LanguageSettings;
  };
  const reactivate = async () => {
    expect((await s.api(`/api/repos/${SLUG}`, { method: 'DELETE' })).status).toBe(200);
    const res = await s.api(`/api/repos/${SLUG}`, { method: 'POST' });
    expect(res.status).toBe(200);
    return res;
  };

  it('detects a repository with no language marker as generic at activation, and stores no proposal, so commits without a pipeline file stay unbuilt', async () => {
    expect(await row()).toMatchObject({ language: 'generic', pipelineProposal: '' });
  });

  it('GET answers the language, what was detected, every language, the proposal, its default, and whether the pipeline file is there', async () => {
    const body = await settings();
    expect(body).toEqual({
      language: 'generic',
      detected: 'generic',
      languages: LANGUAGES.map((l) => ({ id: l.id, name: l.name })),
      proposal: '',
      default_proposal: defaultProposal('generic'),
      config_path: '.drone.yml',
      has_config: true,
      commit: s.git.head(),
    });
    expect(body.languages).toContainEqual({ id: 'node', name: 'Node.js' });
  });

  it('detects the language again when the repository is activated again, storing its default proposal', async () => {
    s.git.commit({ 'package.json': '{"scripts":{"test":"true"}}\n' }, 'Add package.json');
    await reactivate();
    expect(await row()).toMatchObject({ language: 'node', pipelineProposal: defaultProposal('node') });
    expect(await settings()).toMatchObject({ language: 'node', detected: 'node', proposal: defaultProposal('node'), default_proposal: defaultProposal('node') });
  });

  it('refuses a proposal that is not a valid pipeline with 400 and FILE:LINE:COL lines, keeping the stored one', async () => {
    const broken = 'kind: pipeline\ntype: docker\nname: default\nsteps:\n- name: a\n  image: alpine\n  depends_on: [missing]\n- name: b\n  image: alpine\n  depends_on: [gone]\n';
    const res = await call('PATCH', LANGUAGE_PATH, { proposal: broken });
    expect(res.status).toBe(400);
    expect(res.body.message.split('\n')).toEqual([
      '.drone.yml:5:3 step `a` depends on `missing`, which is not a step of pipeline `default`.',
      '.drone.yml:8:3 step `b` depends on `gone`, which is not a step of pipeline `default`.',
    ]);
    expect(res.body.errors).toEqual([
      { line: 5, col: 3, message: expect.stringMatching(/missing/) },
      { line: 8, col: 3, message: expect.stringMatching(/gone/) },
    ]);
    expect((await row()).pipelineProposal).toBe(defaultProposal('node'));
  });

  it('refuses YAML that does not parse with the line and column of the mistake', async () => {
    const res = await call('PATCH', LANGUAGE_PATH, { proposal: 'kind: pipeline\nsteps: [\n' });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/^\.drone\.yml:\d+:\d+ /);
  });

  it('refuses an unknown language with 400 naming the field and the choices', async () => {
    const res = await call('PATCH', LANGUAGE_PATH, { language: 'cobol' });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/language: must be one of node, go, python/);
  });

  it('stores an edited proposal that passes the pipeline checks and answers the settings with it', async () => {
    const res = await call('PATCH', LANGUAGE_PATH, { proposal: EDITED });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ language: 'node', proposal: EDITED, default_proposal: defaultProposal('node') });
    expect((await row()).pipelineProposal).toBe(EDITED);
  });

  it('an empty PATCH changes nothing', async () => {
    const before = await row();
    const res = await call('PATCH', LANGUAGE_PATH, {});
    expect(res.status).toBe(200);
    expect(res.body.proposal).toBe(EDITED);
    expect((await row()).version).toBe(before.version);
  });

  it('detecting again keeps an edited proposal while the language is the same', async () => {
    const res = await call('POST', `${LANGUAGE_PATH}/detect`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ language: 'node', detected: 'node', proposal: EDITED });
  });

  it('changing the language without a proposal resets the proposal to that language\'s default', async () => {
    const res = await call('PATCH', LANGUAGE_PATH, { language: 'go' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ language: 'go', detected: 'node', proposal: defaultProposal('go'), default_proposal: defaultProposal('go') });
    expect(await row()).toMatchObject({ language: 'go', pipelineProposal: defaultProposal('go') });
  });

  it('detecting again when the files say another language switches to it with its default proposal', async () => {
    await call('PATCH', LANGUAGE_PATH, { proposal: EDITED });
    const res = await call('POST', `${LANGUAGE_PATH}/detect`);
    expect(res.body).toMatchObject({ language: 'node', detected: 'node', proposal: defaultProposal('node') });
  });

  it('changes the language and the proposal together', async () => {
    const res = await call('PATCH', LANGUAGE_PATH, { language: 'python', proposal: EDITED });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ language: 'python', proposal: EDITED, default_proposal: defaultProposal('python') });
  });

  it('says has_config false when the default branch has no pipeline file, and a push then builds the proposal', async () => {
    const { responses } = await s.push({ '.drone.yml': null }, 'Remove the pipeline file');
    const build = await responses[0].build();
    expect(build).toMatchObject({ config_source: 'proposal', status: 'pending' });
    const stored = await s.server.ctx.db.build.findFirstOrThrow({ where: { id: build.id } });
    expect(stored.config).toBe(EDITED);
    expect((await settings()).has_config).toBe(false);
  });

  it('activates the repository even when the provider fails during detection, and detects on the next GET', async () => {
    await s.server.ctx.db.repo.update({ where: { id: (await row()).id }, data: { language: '', pipelineProposal: '' } });
    // A commit not seen before: its files must be read.
    s.git.commit({ 'NOTES.md': 'detection fails here\n' }, 'A commit whose files the provider will not give');
    const realFile = s.server.ctx.providers.get('github').file.bind(s.server.ctx.providers.get('github'));
    const spy = vi.spyOn(s.server.ctx.providers.get('github'), 'file').mockImplementation(async (...args) => {
      if (args[3] === 'go.mod') throw new ScmError('GitHub answered 500 Internal Server Error', 500, 'github');
      return realFile(...args);
    });
    const res = await reactivate();
    expect(((await res.json()) as { active: boolean }).active).toBe(true);
    expect(await row()).toMatchObject({ active: true, language: '', pipelineProposal: '' });

    const failing = await call('GET', LANGUAGE_PATH);
    expect(failing.status).toBe(502);
    expect(failing.body.message).toMatch(/GitHub did not let Harrier read the files of octocat\/hello-world at main: .*500/);

    spy.mockRestore();
    expect(await settings()).toMatchObject({ language: 'node', proposal: defaultProposal('node') });
    expect(await row()).toMatchObject({ language: 'node', pipelineProposal: defaultProposal('node') });
  });

  it('lets anyone read the settings of a public repository, and only admins change them', async () => {
    const anonymous = await fetch(`${s.server.host}${LANGUAGE_PATH}`);
    expect(anonymous.status).toBe(200);
    expect(((await anonymous.json()) as LanguageSettings).language).toBe('node');
    const change = await fetch(`${s.server.host}${LANGUAGE_PATH}`, { method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body: '{"language":"go"}' });
    expect(change.status).toBe(401);

    const { db } = s.server.ctx;
    await db.perm.updateMany({ data: { admin: false, syncedAt: s.server.ctx.now() } });
    s.fake.repo(SLUG)!.permissions = { admin: false, push: true, pull: true };
    try {
      expect((await call('GET', LANGUAGE_PATH)).status).toBe(200);
      const patch = await call('PATCH', LANGUAGE_PATH, { language: 'go' });
      expect(patch.status).toBe(403);
      expect(patch.body.message).toMatch(/you need admin permission/);
      expect((await call('POST', `${LANGUAGE_PATH}/detect`)).status).toBe(403);
    } finally {
      s.fake.repo(SLUG)!.permissions = { admin: true, push: true, pull: true };
      await db.perm.updateMany({ data: { admin: true } });
    }
  });

  /** Provider API calls made while `during` runs, as METHOD path. */
  const providerCalls = async (during: () => Promise<unknown>) => {
    const from = s.fake.state.requests.items.length;
    await during();
    return s.fake.state.requests.items.slice(from).map((r) => `${r.method} ${r.path}`);
  };
  const detections = async () => s.server.ctx.db.languageDetection.findMany({ where: { repoId: (await row()).id } });

  it('reads the files once per commit: a second GET costs one provider call, for the head commit', async () => {
    const head = s.git.commit({ 'CHANGELOG.md': '# 1.0\n' }, 'A new head');
    const first = await providerCalls(() => settings());
    expect(first.length).toBeGreaterThan(10);
    const second = await providerCalls(async () => expect(await settings()).toMatchObject({ detected: 'node', has_config: false, commit: head }));
    expect(second).toEqual([`GET /api/v3/repos/${SLUG}/commits/main`]);
    // POST …/detect reads the files again, at the same commit.
    expect((await providerCalls(() => call('POST', `${LANGUAGE_PATH}/detect`))).length).toBeGreaterThan(10);
  });

  it('answers anonymous callers from the newest stored detection, without a single provider call', async () => {
    const stored = await settings();
    s.git.commit({ 'go.mod': 'module example.com/app\n' }, 'Now a Go module');
    const calls = await providerCalls(async () => {
      const anonymous = await fetch(`${s.server.host}${LANGUAGE_PATH}`);
      expect(anonymous.status).toBe(200);
      expect(await anonymous.json()).toMatchObject({ detected: stored.detected, commit: stored.commit, has_config: stored.has_config });
    });
    expect(calls).toEqual([]);
    // A signed-in reader's GET detects the new commit; anonymous callers see it from then on.
    expect((await settings()).detected).toBe('go');
    expect(await providerCalls(async () => expect(await (await fetch(`${s.server.host}${LANGUAGE_PATH}`)).json()).toMatchObject({ detected: 'go' }))).toEqual([]);
  });

  it('answers "not detected yet" with the stored language to anonymous callers when nothing is stored, without a provider call', async () => {
    await s.server.ctx.db.languageDetection.deleteMany({ where: { repoId: (await row()).id } });
    const calls = await providerCalls(async () => {
      const anonymous = await fetch(`${s.server.host}${LANGUAGE_PATH}`);
      expect(await anonymous.json()).toMatchObject({ language: (await row()).language, detected: '', has_config: null, commit: '' });
    });
    expect(calls).toEqual([]);
    expect(await detections()).toEqual([]);
  });

  it('keeps the detections of the newest few commits of a repository only', async () => {
    let head = '';
    for (let i = 0; i < KEPT_DETECTIONS + 2; i++) {
      head = s.git.commit({ 'CHANGELOG.md': `# ${i}\n` }, `Release ${i}`);
      expect((await settings()).commit).toBe(head);
    }
    const kept = await detections();
    expect(kept).toHaveLength(KEPT_DETECTIONS);
    expect(kept.map((d) => d.commit)).toContain(head);
  });

  it('answers a caller whose token the provider refuses from the stored detection, and treats them as anonymous from then on', async () => {
    const stored = await settings();
    const { db } = s.server.ctx;
    const user = await db.user.findFirstOrThrow({ where: { login: s.fake.state.user.login } });
    const valid = s.fake.state.token;
    s.fake.state.token = 'gho_the_grant_was_revoked';
    try {
      const res = await call('GET', LANGUAGE_PATH);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ detected: stored.detected, commit: stored.commit });
      expect((await db.user.findUniqueOrThrow({ where: { id: user.id } })).scmRefused).toBeGreaterThan(0);
      // Until they sign in again, not even a GET spends a provider call on their token.
      expect(await providerCalls(async () => expect((await call('GET', LANGUAGE_PATH)).status).toBe(200))).toEqual([]);
      const change = await call('PATCH', LANGUAGE_PATH, { language: 'go' });
      expect(change.status).toBe(403);
      expect(change.body.message).toContain('sign in again');
    } finally {
      s.fake.state.token = valid;
      await db.user.update({ where: { id: user.id }, data: { scmRefused: 0 } });
    }
  });

  it('answers 404 for the settings of a private repository to someone who cannot read it', async () => {
    const { db } = s.server.ctx;
    const id = (await row()).id;
    await db.repo.update({ where: { id }, data: { private: true, visibility: 'private' } });
    try {
      expect((await fetch(`${s.server.host}${LANGUAGE_PATH}`)).status).toBe(404);
    } finally {
      await db.repo.update({ where: { id }, data: { private: false, visibility: 'public' } });
    }
  });
});
