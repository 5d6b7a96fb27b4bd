// The log viewer with logs that are long or still growing, in headless Chromium against
// real server and runner processes: a 10,000-line coloured log already stored renders
// with only a window of rows in the DOM, #L anchors highlight and deep-link,
// the raw log downloads, and a running step's log follows its tail until the reader scrolls up.
// The build is made once, in beforeAll; each test opens the page it needs in a session of its own.
// How fast the long log becomes usable and how long its frames take is bench/log-viewer.ts's to measure.
import fs from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { LONG_LOG_LINES as LINES, startLongLogBuild, type LongLogBuild } from './long-log-build.ts';
import { PATIENCE_MS, startUiHarness, type UiHarness } from './ui-harness.ts';

// Functions given to page.evaluate run in the browser; the tests' tsconfig has no DOM types.
declare const document: any;

describe('the log viewer', () => {
  let h: UiHarness;
  let long: LongLogBuild;
  beforeAll(async () => {
    h = await startUiHarness();
    long = await startLongLogBuild(h);
  }, 180_000);
  afterEach(async () => {
    const errors = await h?.endTest();
    expect(errors ?? []).toEqual([]);
  });
  afterAll(async () => {
    // The ticker still runs: cancelling lets the runner stop it at once.
    await long?.cancel().catch(() => undefined);
    await h?.close();
  });

  /** A signed-in page showing the stored long log, all of its lines loaded. */
  async function openLongLog(hash = ''): Promise<Page> {
    const { page } = await h.session();
    await page.goto(`${long.longStepPath}${hash}`);
    const log = page.getByRole('region', { name: /Log of step long/ });
    await expect.poll(() => log.getAttribute('data-lines'), { timeout: PATIENCE_MS }).toBe(String(LINES + 1));
    return page;
  }

  it('renders a stored 10,000-line log, keeping only a window of rows in the DOM, and opens at its #L anchor', async () => {
    const page = await openLongLog('#L5001');
    await page.waitForFunction(() => document.querySelector('.log-line.hl')?.textContent?.includes('line 5000 of a long log'), null, { timeout: PATIENCE_MS });

    const log = page.getByRole('region', { name: /Log of step long/ });
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
    await h.screenshot(page, 'log-anchor');
  }, 120_000);

  it('selects lines by their numbers into the URL, one or a range with shift', async () => {
    const page = await openLongLog('#L5001');
    await page.locator('.log-line.hl').waitFor({ timeout: PATIENCE_MS });
    await page.locator('.log-line .ln', { hasText: /^4990$/ }).click();
    await page.waitForURL(/#L4990$/);
    await page.locator('.log-line .ln', { hasText: /^4995$/ }).click({ modifiers: ['Shift'] });
    await page.waitForURL(/#L4990-L4995$/);
    expect(await page.locator('.log-line.hl').count()).toBe(6);
    // A reload lands on the same lines.
    await page.reload();
    await page.locator('.log-line.hl').first().waitFor({ timeout: PATIENCE_MS });
    expect(await page.locator('.log-line.hl').count()).toBe(6);
  }, 120_000);

  it('finds text anywhere in the log, though most rows are not in the DOM', async () => {
    const page = await openLongLog();
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
  }, 120_000);

  it('scrolls to the end of the log with only a window of rows in the DOM, and downloads the raw log', async () => {
    const page = await openLongLog();
    await page.getByRole('button', { name: 'Bottom' }).click();
    await page.locator('.log-line', { hasText: `line ${LINES} of` }).waitFor();
    expect(await page.locator('.log-line').count()).toBeLessThan(200);

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download' }).click()]);
    const text = fs.readFileSync((await download.path())!, 'utf8');
    const lines = text.split('\n');
    expect(lines).toHaveLength(LINES + 2); // the command line, the lines, and the final newline's empty rest
    expect(lines[LINES]).toBe(`\x1b[3${LINES % 8}mline ${LINES}\x1b[0m of a long log, with some text to make it wider than a word`);
  }, 120_000);

  it('follows a running step to its last line, stops when the reader scrolls up, and follows again from the bottom', async () => {
    const { page } = await h.session();
    await page.goto(`/${long.slug}/${long.build.number}`);
    const log = page.getByRole('region', { name: /Log of step ticker/ });
    await log.getByText(/^tick \d+$/).first().waitFor({ timeout: PATIENCE_MS });
    await page.waitForFunction(() => document.querySelectorAll('.log .log-line').length > 40, null, { timeout: PATIENCE_MS });
    expect(await log.getAttribute('data-following')).toBe('true');
    // The newest tick on screen and the line count, read in one frame: ticks keep arriving,
    // so two separate reads could straddle a new line.
    const view = () =>
      page.evaluate(() => {
        const el = document.querySelector('.log')!;
        const box = el.getBoundingClientRect();
        const visible = [...el.querySelectorAll('.log-line')].filter((r: any) => {
          const b = r.getBoundingClientRect();
          return b.top >= box.top && b.bottom <= box.bottom + 1;
        });
        const last = Number(/tick (\d+)/.exec(visible[visible.length - 1]?.textContent ?? '')?.[1] ?? -1);
        return { last, total: Number(el.getAttribute('data-lines')), top: el.scrollTop as number };
      });
    // Following means the last line on screen is the newest: total minus the "+ i=0; …" command line.
    const behindTail = async () => {
      const v = await view();
      return Math.abs(v.last - (v.total - 1));
    };
    await expect.poll(behindTail, { timeout: PATIENCE_MS }).toBeLessThanOrEqual(2);
    await h.screenshot(page, 'log-following');

    await log.hover();
    await page.mouse.wheel(0, -300);
    await page.getByRole('button', { name: 'Follow the log ↓' }).waitFor();
    expect(await log.getAttribute('data-following')).toBe('false');
    const held = await view();
    // Lines go on arriving: wait until several have, then the view must not have moved.
    await expect.poll(async () => (await view()).total, { timeout: PATIENCE_MS }).toBeGreaterThan(held.total + 5);
    const later = await view();
    expect(later.top).toBe(held.top);
    expect(later.last).toBe(held.last);

    await page.getByRole('button', { name: 'Follow the log ↓' }).click();
    await expect.poll(() => log.getAttribute('data-following'), { timeout: PATIENCE_MS }).toBe('true');
    await expect.poll(behindTail, { timeout: PATIENCE_MS }).toBeLessThanOrEqual(2);
  }, 120_000);
});

async function expectText(locator: import('playwright-core').Locator, text: string): Promise<void> {
  await locator.waitFor();
  expect((await locator.textContent())?.trim()).toBe(text);
}
