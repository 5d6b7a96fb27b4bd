// Every line a step prints is kept: `seq 1 1000000` on real Docker, through `harrier
// runner` and `harrier server`, read back through the API byte for byte, by pages and
// whole, and live over SSE from a position given as Last-Event-ID.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogLine } from '../../core/domain.ts';
import { startE2e, type E2e } from './e2e-harness.ts';

const LINES = 1_000_000;

const PIPELINE = `kind: pipeline
type: docker
name: default

clone:
  disable: true

steps:
- name: seq
  image: alpine:3
  pull: if-not-exists
  commands:
  - seq 1 ${LINES}
`;

/** What the step printed, line by line: the command as the runner echoes it, then seq's output. */
function expectedOut(pos: number): string {
  return pos === 0 ? `+ seq 1 ${LINES}\n` : `${pos}\n`;
}

/** Positions whose line differs from what was printed, at most a few, so a failure says where. */
function mismatches(lines: LogLine[], from = 0): string[] {
  const wrong: string[] = [];
  for (let k = 0; k < lines.length && wrong.length < 5; k++) {
    const pos = from + k;
    if (lines[k].pos !== pos || lines[k].out !== expectedOut(pos)) wrong.push(`#${k}: ${JSON.stringify(lines[k])} where {pos: ${pos}, out: ${JSON.stringify(expectedOut(pos))}} was printed`);
  }
  return wrong;
}

describe('a step printing a million lines', () => {
  let e: E2e;
  let build: number;

  beforeAll(async () => {
    e = await startE2e('github', PIPELINE);
    const sha = e.git.commit({ 'run.txt': 'seq\n' }, 'print a million lines');
    const [res] = await e.fake.push(e.slug, { after: sha });
    expect(res.status).toBeLessThan(300);
    for (let i = 0; i < 600 && !build; i++) {
      const { body } = await e.api<{ number: number }[]>(`/api/repos/${e.slug}/builds`);
      if (body.length) build = body[0].number;
      else await new Promise((r) => setTimeout(r, 100));
    }
    expect(build).toBe(1);
    const done = await e.waitForBuild(build, 240_000);
    expect(done.status).toBe('success');
  }, 300_000);

  afterAll(async () => {
    await e?.close();
  });

  it('stores all 1,000,001 lines byte for byte, and the step says nothing was cut', async () => {
    const lines = await e.logs(build, 1, 1);
    expect(mismatches(lines)).toEqual([]);
    expect(lines.length).toBe(LINES + 1);
    const { body: detail } = await e.api<{ stages: { steps: { name: string; log_cut: boolean; status: string }[] }[] }>(`/api/repos/${e.slug}/builds/${build}`);
    const step = detail.stages[0].steps.find((s) => s.name === 'seq');
    expect(step?.status).toBe('success');
    expect(step?.log_cut).toBe(false);
  }, 120_000);

  it('gives the same lines page by page with ?offset=&limit=', async () => {
    const pages: [number, number][] = [
      [0, 1],
      [1, 10_000],
      [499_995, 10],
      [LINES - 9_999, 10_000],
      [LINES + 1, 10],
    ];
    for (const [offset, limit] of pages) {
      const { status, body } = await e.api<LogLine[]>(`/api/repos/${e.slug}/builds/${build}/logs/1/1?offset=${offset}&limit=${limit}`);
      expect(status).toBe(200);
      expect(body.length).toBe(Math.max(0, Math.min(limit, LINES + 1 - offset)));
      expect(mismatches(body, offset)).toEqual([]);
    }
  }, 60_000);

  it('replays the stored log over SSE after the position in Last-Event-ID, then ends with done', async () => {
    const after = LINES - 1_000;
    const res = await fetch(`${e.host}/api/stream/${e.slug}/${build}/1/1`, {
      headers: { Authorization: `Bearer ${e.token}`, Accept: 'text/event-stream', 'Last-Event-ID': String(after) },
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    const events = text.split('\n\n').filter((ev) => ev.startsWith('id: '));
    const lines = events.map((ev) => JSON.parse(/^data: (.*)$/m.exec(ev)![1]) as LogLine);
    expect(lines.length).toBe(1_000);
    expect(mismatches(lines, after + 1)).toEqual([]);
    expect(events.every((ev, k) => ev.startsWith(`id: ${after + 1 + k}\n`))).toBe(true);
    expect(text).toMatch(/event: done\ndata: \{"status":"success"\}/);
  }, 60_000);
});
