// How the web UI's log viewer copes with a stored 10,000-line coloured log, in headless
// Chromium against `harrier server` and `harrier runner` processes (the browser tests'
// harness; needs what `npm test` prepares: dist/, Redis, Docker, Chromium):
// - usable: from navigation start to the moment the line named by #L5001 is in the DOM,
//   highlighted (performance.now() read by a MutationObserver in the page). Baseline: the
//   same for a 10-line log, so the ratio is what 10,000 lines cost.
// - longest frame while jumping through the whole log 4,000 px at a time, one jump per
//   animation frame, right after it became usable. Baseline: the longest of as many frames
//   on the same page afterwards, not scrolling.
// Each figure is one page load; the first load of each kind warms caches and is not counted.
//   npx tsx bench/log-viewer.ts [page loads]
import type { Page } from 'playwright-core';
import { colouredLinesCommand, LONG_LOG_LINES, startLongLogBuild } from '../test/browser/long-log-build.ts';
import { startUiHarness, type UiHarness } from '../test/browser/ui-harness.ts';
import { ensureTestImages } from '../test/support/images.ts';
import { printTable } from './stats.ts';

// Functions given to page.evaluate run in the browser; this tsconfig has no DOM types.
declare const document: any;
declare const window: any;
declare const MutationObserver: any;
declare const requestAnimationFrame: (callback: (time: number) => void) => number;

const LOADS = Number(process.argv[2] ?? 5);
const SHORT_LINES = 10;
const SHORT_SLUG = 'octocat/short-log';

// The long log's pipeline step, printing 10 lines of the same shape.
const SHORT_PIPELINE = `kind: pipeline
type: docker
name: default

steps:
- name: long
  image: alpine:3
  commands:
  - ${colouredLinesCommand(SHORT_LINES)}
`;

/**
 * The page's clock when the highlighted row holding `text` first appeared; recorded in the page, so the
 * benchmark's own delays do not count. No named functions inside: tsx would wrap them in a helper the page lacks.
 */
function recordUsable(text: string): void {
  window.__usableAt = undefined;
  new MutationObserver((_: unknown, observer: { disconnect(): void }) => {
    const row = document.querySelector('.log-line.hl');
    if (row && row.textContent.includes(text)) {
      window.__usableAt = performance.now();
      observer.disconnect();
    }
  }).observe(document, { childList: true, subtree: true, characterData: true });
}

async function usableMs(h: UiHarness, path: string, text: string): Promise<{ ms: number; page: Page }> {
  const { context } = await h.session();
  await context.addInitScript(recordUsable, text);
  const page = await context.newPage();
  await page.goto(path);
  await page.waitForFunction(() => window.__usableAt !== undefined, null, { timeout: 60_000 });
  return { ms: await page.evaluate(() => window.__usableAt as number), page };
}

/** The longest frame of `jumps` animation frames, scrolling 4,000 px further in each or staying put. */
function longestFrame(page: Page, scroll: boolean): Promise<number> {
  return page.evaluate(async (scroll) => {
    const el = document.querySelector('.log');
    const jumps = Math.ceil(el.scrollHeight / 4000);
    el.scrollTop = 0;
    // Let the jump to the top render before timing.
    for (let i = 0; i < 3; i++) await new Promise((r) => requestAnimationFrame(r));
    let last = performance.now();
    let worst = 0;
    for (let i = 1; i <= jumps; i++) {
      if (scroll) el.scrollTop = i * 4000;
      await new Promise((r) => requestAnimationFrame(r));
      const now = performance.now();
      worst = Math.max(worst, now - last);
      last = now;
    }
    return worst;
  }, scroll);
}

ensureTestImages();
const h = await startUiHarness();
try {
  const long = await startLongLogBuild(h);
  // The long step is stored; its ticker would only add load to what is measured.
  await long.cancel();
  h.addRepo(SHORT_SLUG, { 'README.md': '# a short log\n', '.drone.yml': SHORT_PIPELINE });
  await h.activate(SHORT_SLUG);
  const short = await h.push(SHORT_SLUG, { 'CHANGELOG.md': 'more\n' }, 'Print a short log');
  await h.waitForBuild(SHORT_SLUG, short.number, (b) => b.status === 'success', 120_000);

  const longPath = `${long.longStepPath}#L${LONG_LOG_LINES / 2 + 1}`;
  const longText = `line ${LONG_LOG_LINES / 2} of a long log`;
  const shortPath = `/${SHORT_SLUG}/${short.number}/1/2#L${SHORT_LINES / 2 + 1}`;
  const shortText = `line ${SHORT_LINES / 2} of a long log`;

  const usableShort: number[] = [];
  const usableLong: number[] = [];
  const idle: number[] = [];
  const scrolling: number[] = [];
  for (let i = 0; i <= LOADS; i++) {
    const s = await usableMs(h, shortPath, shortText);
    const l = await usableMs(h, longPath, longText);
    // One page, so both see the same DOM and the same machine: scrolling as soon as the log is usable,
    // as a reader would; then as many frames standing still, once the page has settled.
    const jumping = await longestFrame(l.page, true);
    const still = await longestFrame(l.page, false);
    await h.endTest();
    if (i === 0) continue;
    usableShort.push(s.ms);
    usableLong.push(l.ms);
    idle.push(still);
    scrolling.push(jumping);
  }

  printTable(
    `Log viewer: navigation start to the #L line highlighted (${LOADS} page loads each)`,
    [
      { name: `${SHORT_LINES}-line log`, samples: usableShort },
      { name: `${LONG_LOG_LINES.toLocaleString('en')}-line log`, samples: usableLong },
    ],
    `${SHORT_LINES}-line log`,
  );
  printTable(
    `Log viewer: longest frame on the ${LONG_LOG_LINES.toLocaleString('en')}-line log, top to bottom (the longest of one page load; ${LOADS} page loads)`,
    [
      { name: 'not scrolling', samples: idle },
      { name: 'jumping 4000 px a frame', samples: scrolling },
    ],
    'not scrolling',
  );
} finally {
  // Sessions closed and the short log's build, were it still running, cancelled.
  await h.endTest().catch(() => undefined);
  await h.close();
}
process.exit(0);
