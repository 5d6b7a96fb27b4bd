import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiHarness, type ApiHarness } from '../../test/support/http.ts';
import { githubScenario, SLUG, type GithubScenario } from '../../test/support/scenario.ts';
import type { QueueFigures } from '../queue/queue-figures.ts';
import { createMetrics } from './metrics.ts';

const messageOf = async (res: Response) => ((await res.json()) as { message: string }).message;

const PIPELINE = `kind: pipeline
type: docker
name: unit

steps:
- name: test
  image: alpine:3
  commands:
  - echo test
`;

const NO_FIGURES: QueueFigures = { labelSets: [], runners: { connected: 0, busy: 0, capacity: 0 } };

/** The value of one sample line in Prometheus' text format, e.g. sample(text, 'harrier_webhook_deliveries_total{outcome="build"}'). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('createMetrics', () => {
  it('counts what other code reports, under the names the README lists', async () => {
    const metrics = createMetrics();
    metrics.queueWait(3, '{"os":"linux","arch":"amd64","labels":{}}');
    metrics.leaseExpired('requeued');
    metrics.leaseExpired('errored');
    metrics.leaseExpired('errored');
    metrics.buildFinished('success', 42);
    metrics.stepFinished('failure', 7);
    metrics.delivery('refused');
    const text = await metrics.exposition(NO_FIGURES);
    expect(sample(text, 'harrier_stage_queue_wait_seconds_count{label_set="{\\"os\\":\\"linux\\",\\"arch\\":\\"amd64\\",\\"labels\\":{}}"}')).toBe(1);
    expect(sample(text, 'harrier_stage_queue_wait_seconds_bucket{le="5",label_set="{\\"os\\":\\"linux\\",\\"arch\\":\\"amd64\\",\\"labels\\":{}}"}')).toBe(1);
    expect(sample(text, 'harrier_lease_expiries_total{outcome="requeued"}')).toBe(1);
    expect(sample(text, 'harrier_lease_expiries_total{outcome="errored"}')).toBe(2);
    expect(sample(text, 'harrier_build_duration_seconds_sum{status="success"}')).toBe(42);
    expect(sample(text, 'harrier_step_duration_seconds_count{status="failure"}')).toBe(1);
    expect(sample(text, 'harrier_webhook_deliveries_total{outcome="refused"}')).toBe(1);
    expect(sample(text, 'harrier_webhook_deliveries_total{outcome="build"}')).toBe(0);
    expect(sample(text, 'harrier_runners_connected')).toBe(0);
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('keeps each instance\'s figures apart, so servers in one process do not mix', async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.delivery('build');
    expect(sample(await a.exposition(NO_FIGURES), 'harrier_webhook_deliveries_total{outcome="build"}')).toBe(1);
    expect(sample(await b.exposition(NO_FIGURES), 'harrier_webhook_deliveries_total{outcome="build"}')).toBe(0);
  });

  it('reports a label set whose work is done as 0 rather than dropping it', async () => {
    const metrics = createMetrics();
    const key = '{"os":"linux","arch":"arm64","labels":{}}';
    const busy: QueueFigures = {
      labelSets: [{ key, os: 'linux', arch: 'arm64', labels: {}, waiting: 4, running: 1, oldestWaitingSeconds: 9, runners: 0 }],
      runners: { connected: 1, busy: 1, capacity: 2 },
    };
    const series = (name: string) => `${name}{label_set="${key.replaceAll('"', '\\"')}"}`;
    expect(sample(await metrics.exposition(busy), series('harrier_stages_waiting'))).toBe(4);
    const later = await metrics.exposition(NO_FIGURES);
    expect(sample(later, series('harrier_stages_waiting'))).toBe(0);
    expect(sample(later, series('harrier_stages_running'))).toBe(0);
    expect(sample(later, 'harrier_runner_slots{state="total"}')).toBe(0);
  });
});

describe('GET /metrics', () => {
  const harnesses: ApiHarness[] = [];
  const harness = async (env: Record<string, string> = {}) => {
    const h = await startApiHarness({ env });
    harnesses.push(h);
    return h;
  };
  afterAll(async () => {
    await Promise.all(harnesses.map((h) => h.close()));
  });

  it('answers in Prometheus\' text format without a token on a local install', async () => {
    const h = await harness();
    const res = await fetch(`${h.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    for (const name of [
      'harrier_stage_queue_wait_seconds',
      'harrier_lease_expiries_total',
      'harrier_build_duration_seconds',
      'harrier_step_duration_seconds',
      'harrier_webhook_deliveries_total',
      'harrier_stages_waiting',
      'harrier_stages_running',
      'harrier_runners_connected',
      'harrier_runner_slots',
    ]) {
      expect(text, name).toContain(`# TYPE ${name} `);
    }
  });

  it('refuses a scrape without the token, or with another, when HARRIER_METRICS_TOKEN is set, and answers one with it', async () => {
    const h = await harness({ HARRIER_METRICS_TOKEN: 'scrape-me-please' });
    const without = await fetch(`${h.url}/metrics`);
    expect(without.status).toBe(401);
    expect(await messageOf(without)).toMatch(/HARRIER_METRICS_TOKEN as Authorization: Bearer/);
    const wrong = await fetch(`${h.url}/metrics`, { headers: { Authorization: 'Bearer scrape-me-now' } });
    expect(wrong.status).toBe(401);
    expect(await messageOf(wrong)).toMatch(/not the server's HARRIER_METRICS_TOKEN/);
    const right = await fetch(`${h.url}/metrics`, { headers: { Authorization: 'Bearer scrape-me-please' } });
    expect(right.status).toBe(200);
    expect(await right.text()).toContain('harrier_runners_connected');
  });

  it('refuses every scrape of a public install without HARRIER_METRICS_TOKEN, saying to set it', async () => {
    const h = await harness({ HARRIER_HOST: 'https://ci.example.com' });
    const res = await fetch(`${h.url}/metrics`);
    expect(res.status).toBe(403);
    expect(await messageOf(res)).toMatch(/^set HARRIER_METRICS_TOKEN/);
  });
});

describe('webhook deliveries on /metrics', () => {
  let s: GithubScenario;

  beforeAll(async () => {
    s = await githubScenario({ pipeline: PIPELINE });
  });
  afterAll(async () => {
    await s?.close();
  });

  const deliveries = async (outcome: string) =>
    sample(await (await fetch(`${s.server.host}/metrics`)).text(), `harrier_webhook_deliveries_total{outcome="${outcome}"}`);
  const deliver = (event: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${s.server.host}/hook`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-GitHub-Event': event, ...headers }, body });

  it('counts a delivery that made a build', async () => {
    const before = await deliveries('build');
    const { responses } = await s.push({ 'a.txt': 'a' }, 'Add a');
    expect(responses.map((r) => r.status)).toEqual([202]);
    // Counted by the worker that made the build.
    await responses[0].build();
    expect(await deliveries('build')).toBe(before! + 1);
  });

  it('counts a delivery Harrier ignores on purpose', async () => {
    const before = await deliveries('ignored');
    expect((await deliver('ping', '{}')).status).toBe(200);
    expect(await deliveries('ignored')).toBe(before! + 1);
  });

  it('counts a delivery refused for a bad body or a bad signature', async () => {
    const before = await deliveries('refused');
    expect((await deliver('push', 'not json')).status).toBe(400);
    const repo = await s.server.ctx.db.repo.findFirstOrThrow({ where: { slug: SLUG } });
    const forged = JSON.stringify({ repository: { id: Number(repo.uid), full_name: SLUG } });
    expect((await deliver('push', forged, { 'X-Hub-Signature-256': `sha256=${'0'.repeat(64)}` })).status).toBe(401);
    expect(await deliveries('refused')).toBe(before! + 2);
    expect(await deliveries('failed')).toBe(0);
  });
});
