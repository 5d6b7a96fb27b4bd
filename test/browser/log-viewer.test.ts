// The log viewer with logs that are long or still growing, in headless Chromium against
// real server and runner processes: a 10,000-line coloured log already stored renders
// at once with only a window of rows in the DOM, #L anchors highlight and deep-link,
// the raw log downloads, and a running step's log follows its tail until the reader scrolls up.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Build } from '../../core/domain.ts';
import { startUiHarness, type UiHarness } from './ui-harness.ts';

// Functions given to page.evaluate run in the browser; the tests' tsconfig has no DOM types.
declare const document: any;
declare const requestAnimationFrame: (callback: (time: number) => void) => number;

const LINES = 10_000;

const PIPELINE = `kind: pipeline
type: docker
name: default

steps:
- name: long
  image: alpine:3
  commands:
  - seq 1 ${LINES} | awk '{ printf "\\033[3%dmline %d\\033[0m of a long log, with some text to make it wider than a word\\n", $1 % 8, $1 }'
- name: ticker
  image: alpine:3
  commands:
  - |
    i=0; while [ $i -lt 200 ]; do i=$((i+1)); echo "tick $i"; sleep 0.05; done
`;

describe('the log viewer', () => {
  let h: UiHarness;
  let build: Build;
  beforeAll(async () => {
    h = await startUiHarness({ files: { 'README.md': '# logs\n', '.drone.yml': PIPELINE }, slug: 'octocat/long-logs' });
    await h.page.goto('/');
    await h.page.getByRole('link', { name: 'Sign in with GitHub' }).click();
    await h.page.getByRole('button', { name: 'Activate octocat/long-logs' }).click();
    await h.page.waitForURL(/settings$/);
    build = await h.push({ 'CHANGELOG.md': 'more\n' }, 'Print a long log');
    // The long step is done (all its lines stored) once the ticker has started.
    const deadline = Date.now() + 90_000;
    for (;;) {
      const { body } = await h.api<Build>(`/api/repos/${h.slug}/builds/${build.number}`);
      const steps = body.stages?.[0]?.steps ?? [];
      if (steps[1]?.status === 'success' && steps[2]?.status === 'running') break;
      if (body.status !== 'pending' && body.status !== 'running') throw new Error(`the build ended early: ${JSON.stringify(body)}`);
      if (Date.now() > deadline) throw new Error(`the long step did not finish: ${JSON.stringify(steps)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 150_000);
  afterAll(async () => {
    // The ticker may still run: cancelling lets the runner stop at once.
    if (build) await h.api(`/api/repos/${h.slug}/builds/${build.number}`, 'DELETE').catch(() => undefined);
    await h?.close();
  });

  it('renders a stored 10,000-line log at once, keeping only a window of rows in the DOM, and opens at its #L anchor', async () => {
    const { page } = h;
    const started = Date.now();
    await page.goto(`/${h.slug}/${build.number}/1/2#L5001`);
    await page.waitForFunction(() => document.querySelector('.log-line.hl')?.textContent?.includes('line 5000 of a long log'));
    const usableMs = await page.evaluate(() => performance.now());
    console.log(`10,000-line log: usable ${Math.round(usableMs)} ms after navigation began (${Date.now() - started} ms by the test's clock)`);
    expect(usableMs).toBeLessThan(3000);

    const log = page.getByRole('region', { name: /Log of step long/ });
    expect(await log.getAttribute('data-lines')).toBe(String(LINES + 1));
    const rows = await page.locator('.log-line').count();
    expect(rows).toBeGreaterThan(20);
    expect(rows).toBeLessThan(200);

    // The anchored line is highlighted and in view.
    const hl = page.locator('.log-line.hl');
    expect(await hl.count()).toBe(1);
    const [box, row] = await Promise.all([log.boundingBox(), hl.boundingBox()]);
    expect(row!.y).toBeGreaterThanOrEqual(box!.y);
    expect(row!.y + row!.height).toBeLessThanOrEqual(box!.y + box!.height);
    // Colours: line 5000 was printed in colour 5000 % 8 = 0, the next in 1.
    expect(await hl.locator('.fg-0').textContent()).toBe('line 5000');
    expect(await page.locator('.log-line', { hasText: 'line 5001 of' }).locator('.fg-1').count()).toBe(1);
    await h.screenshot('log-anchor');
  });

  it('selects lines by their numbers into the URL, one or a range with shift', async () => {
    const { page } = h;
    await page.locator('.log-line .ln', { hasText: /^4990$/ }).click();
    await page.waitForURL(/#L4990$/);
    await page.locator('.log-line .ln', { hasText: /^4995$/ }).click({ modifiers: ['Shift'] });
    await page.waitForURL(/#L4990-L4995$/);
    expect(await page.locator('.log-line.hl').count()).toBe(6);
    // A reload lands on the same lines.
    await page.reload();
    await page.locator('.log-line.hl').first().waitFor();
    expect(await page.locator('.log-line.hl').count()).toBe(6);
  });

  it('finds text anywhere in the log, though most rows are not in the DOM', async () => {
    const { page } = h;
    const find = page.getByRole('searchbox', { name: 'Find in the log' });
    await page.getByRole('region', { name: /Log of step long/ }).press('Control+f');
    expect(await find.evaluate((el) => el === document.activeElement)).toBe(true);
    await find.fill('LINE 7777 of');
    await find.press('Enter');
    await expectText(page.locator('.log-line.found .lt'), 'line 7777 of a long log, with some text to make it wider than a word');
    await expectText(page.getByRole('status').filter({ hasText: ' of ' }), '1 of 1');
    await find.fill('no such text');
    await find.press('Enter');
    await page.getByRole('status').filter({ hasText: 'No match' }).waitFor();
    await find.press('Escape');
  });

  it('scrolls to the end of the log with only a window of rows in the DOM, and downloads the raw log', async () => {
    const { page } = h;
    await page.getByRole('button', { name: 'Bottom' }).click();
    await page.locator('.log-line', { hasText: `line ${LINES} of` }).waitFor();
    expect(await page.locator('.log-line').count()).toBeLessThan(200);

    // Scrolling through the whole log, frame by frame: how long the longest frame takes.
    const frames = await page.evaluate(async () => {
      const el = document.querySelector('.log')!;
      const times: number[] = [];
      el.scrollTop = 0;
      let last = performance.now();
      for (let top = 0; top < el.scrollHeight; top += 4000) {
        el.scrollTop = top;
        await new Promise((r) => requestAnimationFrame(r));
        const now = performance.now();
        times.push(now - last);
        last = now;
      }
      return times;
    });
    const worst = Math.max(...frames.slice(1));
    console.log(`scrolling 10,000 lines in ${frames.length} jumps: longest frame ${worst.toFixed(1)} ms`);
    expect(worst).toBeLessThan(200);

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download' }).click()]);
    const text = fs.readFileSync((await download.path())!, 'utf8');
    const lines = text.split('\n');
    expect(lines).toHaveLength(LINES + 2); // the command line, the lines, and the final newline's empty rest
    expect(lines[LINES]).toBe(`\x1b[3${LINES % 8}mline ${LINES}\x1b[0m of a long log, with some text to make it wider than a word`);
  });

  it('follows a running step to its last line, stops when the reader scrolls up, and follows again from the bottom', async () => {
    const { page } = h;
    await page.goto(`/${h.slug}/${build.number}`);
    const log = page.getByRole('region', { name: /Log of step ticker/ });
    await log.getByText(/^tick \d+$/).first().waitFor({ timeout: 30_000 });
    await page.waitForFunction(() => document.querySelectorAll('.log .log-line').length > 40);
    expect(await log.getAttribute('data-following')).toBe('true');
    // The newest tick on screen and the line count, read in one frame: ticks keep arriving,
    // so two separate reads could straddle a new line.
    const view = () =>
      page.evaluate(() => {
        const el = document.querySelector('.log')!;
        const box = el.getBoundingClientRect();
        const visible = [...el.querySelectorAll('.log-line')].filter((r) => {
          const b = r.getBoundingClientRect();
          return b.top >= box.top && b.bottom <= box.bottom + 1;
        });
        const last = Number(/tick (\d+)/.exec(visible[visible.length - 1]?.textContent ?? '')?.[1] ?? -1);
        return { last, total: Number(el.getAttribute('data-lines')) };
      });
    const lastShown = async () => (await view()).last;
    const total = async () => (await view()).total;
    // Following means the last line on screen is the newest: total minus the "+ i=0; …" command line.
    const behindTail = async () => {
      const v = await view();
      return Math.abs(v.last - (v.total - 1));
    };
    await expect.poll(behindTail, { timeout: 5_000 }).toBeLessThanOrEqual(2);
    await h.screenshot('log-following');

    await log.hover();
    await page.mouse.wheel(0, -300);
    await page.getByRole('button', { name: 'Follow the log ↓' }).waitFor();
    expect(await log.getAttribute('data-following')).toBe('false');
    const held = await log.evaluate((el) => el.scrollTop);
    const heldLine = await lastShown();
    await page.waitForTimeout(600);
    expect(await log.evaluate((el) => el.scrollTop)).toBe(held);
    expect(await lastShown()).toBe(heldLine);
    expect(await total()).toBeGreaterThan(heldLine + 5);

    await page.getByRole('button', { name: 'Follow the log ↓' }).click();
    await expect.poll(() => log.getAttribute('data-following'), { timeout: 5_000 }).toBe('true');
    await expect.poll(behindTail, { timeout: 5_000 }).toBeLessThanOrEqual(2);
  }, 60_000);

  it('threw no errors in the pages', () => {
    expect(h.pageErrors).toEqual([]);
  });
});

async function expectText(locator: import('playwright-core').Locator, text: string): Promise<void> {
  await locator.waitFor();
  expect((await locator.textContent())?.trim()).toBe(text);
}
