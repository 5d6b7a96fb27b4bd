// What the server hands a stage besides its pipeline, as the executor uses it: secrets
// become step environment (and a missing one fails its step, naming it), and the build's
// changed files decide `when.paths`. Real compiler, engine-less backend.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan, PlanStep } from '../pipeline/types.ts';
import type { StepOutput, StepResult } from './backend/backend.ts';
import { compileStagePlan } from './compile-plan.ts';
import { executeStage } from './execute-stage.ts';
import { RpcClient } from './rpc-client.ts';
import { FakeBackend } from './testing/fake-backend.ts';
import { FakeRpcServer } from './testing/fake-rpc-server.ts';
import { stageDetails, stepNamed, type DetailsInput } from './testing/stage-details.ts';

const secret = 'stage-inputs-secret';
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'harrier-stage-inputs-'));
let server: FakeRpcServer;
let rpc: RpcClient;

/** Records the environment each step ran with. */
class RecordingBackend extends FakeBackend {
  readonly envs = new Map<string, Record<string, string>>();
  override async run(plan: Plan, step: PlanStep, output: StepOutput, signal: AbortSignal): Promise<StepResult> {
    this.envs.set(step.name, step.env);
    return super.run(plan, step, output, signal);
  }
}

beforeAll(async () => {
  server = await new FakeRpcServer({ secret, pollWindowMs: 1_000 }).start();
  rpc = new RpcClient({ serverUrl: server.url, secret });
});
afterAll(async () => {
  await server.close();
  fs.rmSync(root, { recursive: true, force: true });
});

async function run(config: string, steps: string[], input: Partial<DetailsInput> = {}) {
  const details = stageDetails({ config, steps, ...input });
  server.stages.set(details.stage.id, details);
  const backend = new RecordingBackend();
  const outcome = await executeStage(details, { rpc, backend, compile: compileStagePlan, workspaceDir: path.join(root, 'ws'), runnerName: 'inputs-test' });
  const step = (name: string) => {
    const s = stepNamed(details, name);
    return { status: server.stepStatus(s.id), last: server.stepUpdates.get(s.id)?.at(-1), log: server.logText(s.id) };
  };
  return { outcome, backend, step };
}

const SECRET_PIPELINE = `kind: pipeline
type: docker
name: default
clone:
  disable: true
steps:
- name: publish
  image: alpine:3
  environment:
    TOKEN:
      from_secret: api_token
  commands:
  - echo publishing
`;

describe('secrets in the stage details', () => {
  it('reach the step that names them as environment', async () => {
    const r = await run(SECRET_PIPELINE, ['publish'], { secrets: [{ name: 'api_token', value: 's3cr3t-value' }] });
    expect(r.outcome.status).toBe('success');
    expect(r.backend.envs.get('publish')?.TOKEN).toBe('s3cr3t-value');
  });

  it('fail the step that names a secret the server did not send, naming the secret and the variable', async () => {
    const r = await run(SECRET_PIPELINE, ['publish']);
    expect(r.outcome.status).toBe('error');
    expect(r.outcome.error).toContain('secret "api_token" (for TOKEN) is not available to this build');
    expect(r.step('publish').status).toBe('error');
    expect(r.step('publish').last?.error).toMatch(/api_token.*neither the repository nor its organisation has a secret of that name; .*POST \/api\/secrets\/\{namespace\}/);
    expect(r.step('publish').log).toContain('secret "api_token"');
    expect(r.backend.envs.has('publish')).toBe(false);
  });

  it('say, on a pull request, that the secret may be withheld because it does not allow pull requests', async () => {
    const r = await run(SECRET_PIPELINE, ['publish'], { event: 'pull_request' });
    expect(r.step('publish').last?.error).toMatch(/does not allow pull requests \(set its pull_request to true\)/);
  });

  it('leave a step that names no secret running when another step lacks its secret', async () => {
    const config = SECRET_PIPELINE.replace('steps:\n', 'steps:\n- name: test\n  image: alpine:3\n  commands:\n  - echo test\n');
    const r = await run(config, ['test', 'publish']);
    expect(r.step('test').status).toBe('success');
    expect(r.step('publish').status).toBe('error');
  });
});

describe('changed files in the stage details', () => {
  const config = `kind: pipeline
type: docker
name: default
clone:
  disable: true
steps:
- name: docs
  image: alpine:3
  commands: [echo docs]
  when:
    paths: ['docs/**']
- name: code
  image: alpine:3
  commands: [echo code]
  when:
    paths:
      include: ['src/**']
      exclude: ['src/**/*.md']
`;

  it('skip steps whose when.paths match none of the changed files', async () => {
    const r = await run(config, ['docs', 'code'], { changedFiles: ['src/main.ts', 'README.md'] });
    expect(r.outcome.status).toBe('success');
    expect(r.step('docs').status).toBe('skipped');
    expect(r.step('code').status).toBe('success');
  });

  it('apply exclude patterns to every changed file', async () => {
    const r = await run(config, ['docs', 'code'], { changedFiles: ['src/notes/readme.md', 'docs/index.md'] });
    expect(r.step('docs').status).toBe('success');
    expect(r.step('code').status).toBe('skipped');
  });

  it('run every step when the changed files are unknown (null), as after a truncated list', async () => {
    const r = await run(config, ['docs', 'code'], { changedFiles: null });
    expect(r.step('docs').status).toBe('success');
    expect(r.step('code').status).toBe('success');
  });
});
