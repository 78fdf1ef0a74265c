// The popup as people use it, in Chromium and Firefox with the fixture model: confident results
// (no-match for nonsense, Show all), find similar from a result, keyboard, exports, restored query
// on reopening, results that hold still under focus while late images arrive, and (Chromium)
// downloading the selected matches.
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { launchChromium, launchFirefox, popupPath, type ChromiumHarness, type FirefoxHarness, type HPage } from './browsers';
import type { TestServer } from './server';
import { CHROME_DIR, FIREFOX_DIR, FIREFOX_ID, POPUP, requireTestBuild, useServerAndBrowser, waitUntil } from './test-build';

const FIREFOX_UUID = '9d3c2b1a-4e5f-4a6b-8c7d-0e1f2a3b4c5d';

interface Tile {
  src: string;
  score: number;
  match: string;
  relevance: string;
  source: string | null;
  hidden: boolean;
}

const colourOf = (src: string) => /\/img\/solid\/(\w+)\.png/.exec(src)?.[1] ?? src;

function tiles(popup: HPage): Promise<Tile[]> {
  return popup.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('[data-testid=result]')].map((el) => ({
      src: el.dataset.src ?? '',
      score: Number(el.dataset.score),
      match: el.dataset.match ?? '',
      relevance: el.querySelector('[data-testid=relevance]')?.textContent ?? '',
      source: el.dataset.source ?? null,
      hidden: el.hidden,
    })),
  );
}

const shown = (popup: HPage, id: string) => popup.evaluate((t) => !!document.querySelector<HTMLElement>(`[data-testid=${t}]`) && !document.querySelector<HTMLElement>(`[data-testid=${t}]`)!.hidden, id);
const active = (popup: HPage) => popup.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.src ?? document.activeElement?.id ?? '');

type AnyHarness = ChromiumHarness | FirefoxHarness;

async function press(harness: AnyHarness, page: HPage, key: string): Promise<void> {
  if (harness.name === 'chromium') await harness.raw(page).keyboard.press(key);
  else await harness.raw(page).keyboard.press(key as never);
}

async function openPopupFor(harness: AnyHarness, server: TestServer, path: string, images: number) {
  const page = await harness.openPage(`${server.origin}/${path}`);
  const tabId = await harness.tabIdOf(page);
  const popup = await harness.openPage(popupPath(tabId, POPUP));
  await waitUntil(
    `${images} images indexed`,
    () => popup.evaluate(() => (document.querySelector('[data-testid=progress]') as HTMLElement).dataset.done ?? ''),
    (done) => done === String(images),
  );
  return { page, popup, tabId };
}

async function query(popup: HPage, text: string, ok: (t: Tile[]) => boolean): Promise<Tile[]> {
  await popup.fill('[data-testid=search-input]', text);
  return waitUntil(`results for "${text}"`, () => tiles(popup), ok, 30_000);
}

/** Captures what the popup hands to URL.createObjectURL (the export files) and returns their text. */
async function captureExport(popup: HPage, testid: string): Promise<string> {
  await popup.evaluate(() => {
    const w = window as unknown as { __blobs: Blob[] };
    if (w.__blobs) return;
    w.__blobs = [];
    const create = URL.createObjectURL.bind(URL);
    URL.createObjectURL = (blob: Blob | MediaSource) => {
      w.__blobs.push(blob as Blob);
      return create(blob);
    };
  });
  const before = await popup.evaluate(() => (window as unknown as { __blobs: Blob[] }).__blobs.length);
  await popup.click(`[data-testid=${testid}]`);
  await waitUntil('an export', () => popup.evaluate(() => (window as unknown as { __blobs: Blob[] }).__blobs.length), (n) => n > before, 10_000);
  return popup.evaluate((i) => (window as unknown as { __blobs: Blob[] }).__blobs[i].text(), before);
}

function popupTests(name: string, launch: () => Promise<AnyHarness>) {
  describe(name, () => {
    let harness: AnyHarness;
    let server: TestServer;
    const running = useServerAndBrowser(launch);
    beforeEach(() => {
      harness = running.harness();
      server = running.server();
    });

    it('says there is no good match for nonsense, shows the one match for "red", Show all reveals the rest', async () => {
      const { page, popup } = await openPopupFor(harness, server, 'colors.html', 6);
      const nonsense = await query(popup, 'xyzzy', (t) => t.length === 6);
      expect(nonsense.every((t) => t.match === 'false' && t.hidden)).toBe(true);
      await waitUntil('no-match state', () => shown(popup, 'no-match'), (s) => s);
      expect(await popup.text('[data-testid=show-all]')).toBe('Show all 6');
      await popup.click('[data-testid=show-all]');
      expect((await tiles(popup)).every((t) => !t.hidden)).toBe(true);

      const red = await query(popup, 'red', (t) => t.length === 6 && t[0].match === 'true');
      expect(colourOf(red[0].src)).toBe('red');
      expect(red[0].score).toBeCloseTo(0.308, 2);
      expect(red[0].relevance).toBe('100%');
      expect(red.filter((t) => t.match === 'true')).toHaveLength(1);
      expect(red.filter((t) => !t.hidden)).toHaveLength(1); // a new query shows matches only again
      expect(await shown(popup, 'no-match')).toBe(false);
      // Equal scores (all other colours score 0 for "red") keep the page's order.
      expect(red.slice(1).map((t) => colourOf(t.src))).toEqual(['green', 'blue', 'yellow', 'black', 'white']);
      await popup.close();
      await page.close();
    });

    it('finds similar images from a result, marks the source, and goes back to the text query', async () => {
      const { page, popup } = await openPopupFor(harness, server, 'colors.html', 6);
      await query(popup, 'blue', (t) => t.length === 6 && colourOf(t[0].src) === 'blue');
      await popup.click('[data-testid=result]:first-child [data-testid=similar]');
      const similar = await waitUntil('similar view', () => tiles(popup), (t) => t.some((x) => x.source === 'true'));
      expect(colourOf(similar[0].src)).toBe('blue');
      expect(similar[0].source).toBe('true');
      expect(similar[0].score).toBeCloseTo(1, 3);
      expect(similar.filter((t) => t.source)).toHaveLength(1);
      expect(await shown(popup, 'similar-bar')).toBe(true);
      expect(await popup.text('[data-testid=similar-back]')).toBe('Back to “blue”');
      await popup.click('[data-testid=similar-back]');
      const back = await waitUntil('text results again', () => tiles(popup), (t) => t.length === 6 && t.every((x) => x.source === null));
      expect(colourOf(back[0].src)).toBe('blue');
      expect(await popup.evaluate(() => (document.querySelector('[data-testid=search-input]') as HTMLInputElement).value)).toBe('blue');
      await popup.close();
      await page.close();
    });

    it('moves through the grid with the arrows, reveals with Enter, clears with Esc', async () => {
      const { page, popup } = await openPopupFor(harness, server, 'colors.html', 6);
      await query(popup, 'xyzzy', (t) => t.length === 6);
      await popup.click('[data-testid=show-all]');
      const order = (await tiles(popup)).map((t) => t.src);
      const columns = await popup.evaluate(() => getComputedStyle(document.querySelector('[data-testid=results]')!).gridTemplateColumns.split(' ').length);
      expect(columns).toBeGreaterThanOrEqual(2);
      expect(columns).toBeLessThanOrEqual(5);
      await popup.evaluate(() => (document.querySelector('[data-testid=search-input]') as HTMLElement).focus());
      await press(harness, popup, 'ArrowDown');
      expect(await active(popup)).toBe(order[0]);
      await press(harness, popup, 'ArrowRight');
      expect(await active(popup)).toBe(order[1]);
      await press(harness, popup, 'ArrowDown');
      expect(await active(popup)).toBe(order[Math.min(1 + columns, 5)]);
      await press(harness, popup, 'ArrowLeft');
      const focused = await active(popup);
      await press(harness, popup, 'Enter');
      const revealed = await waitUntil(
        'the image revealed on the page',
        () => page.evaluate(() => document.querySelector('mobileclip-lens-overlay')?.shadowRoot?.querySelectorAll('[data-testid=reveal]').length ?? 0),
        (n) => n > 0,
        10_000,
      );
      expect(revealed).toBe(1);
      expect(focused).not.toBe('');
      await press(harness, popup, 'Escape');
      await waitUntil('query cleared', () => tiles(popup), (t) => t.length === 0, 10_000);
      expect(await popup.evaluate(() => (document.querySelector('[data-testid=search-input]') as HTMLInputElement).value)).toBe('');
      expect(await active(popup)).toBe('search');
      await popup.close();
      await page.close();
    });

    it('exports the ranked results as CSV and JSON, and a reopened popup shows the query with its results', async () => {
      const { page, popup, tabId } = await openPopupFor(harness, server, 'colors.html', 6);
      await query(popup, 'green', (t) => t.length === 6 && colourOf(t[0].src) === 'green');
      const csv = (await captureExport(popup, 'export-csv')).trim().split('\r\n');
      expect(csv[0]).toBe('rank,url,score,relevance,match,alt,width,height,page_url');
      expect(csv).toHaveLength(7);
      const first = csv[1].split(',');
      expect(first[0]).toBe('1');
      expect(colourOf(first[1])).toBe('green');
      expect(Number(first[2])).toBeCloseTo(0.308, 2);
      // Size is the rendered box (colors.html draws a 1 px border around each 160×120 image).
      expect(first.slice(4)).toEqual(['true', 'A green square', '162', '122', `${server.origin}/colors.html`]);
      const json = JSON.parse(await captureExport(popup, 'export-json'));
      expect(json).toMatchObject({ pageUrl: `${server.origin}/colors.html`, query: 'green', similarTo: null });
      expect(json.results).toHaveLength(6);
      expect(json.results[0]).toMatchObject({ rank: 1, match: true, alt: 'A green square', width: 162, height: 122 });
      expect(json.results.map((r: { rank: number }) => r.rank)).toEqual([1, 2, 3, 4, 5, 6]);

      await popup.close();
      const again = await harness.openPage(popupPath(tabId, POPUP));
      await waitUntil('the query restored', () => again.evaluate(() => (document.querySelector('[data-testid=search-input]') as HTMLInputElement).value), (v) => v === 'green');
      const restored = await waitUntil('its results', () => tiles(again), (t) => t.length === 6);
      expect(colourOf(restored[0].src)).toBe('green');
      await again.close();
      await page.close();
    });

    // Settling needs the focusout a popup sends when focus leaves the grid. Firefox sends no focus
    // events to a window without the system focus, and headless Firefox often leaves the popup
    // tab's window without it (bringing the tab forward and clicking into it do not help): the
    // holding is checked in Firefox by the next test, in that very state.
    it.skipIf(name.startsWith('Firefox'))('keeps a focused result in place while late images arrive, then settles to the ranking', async () => {
      const { page, popup } = await openPopupFor(harness, server, 'slow.html', 3);
      const red = await firstRed(popup);
      await lateRedsWhileFocused(harness, page, popup, red);
      // Focus leaves the grid: the order settles to the ranking (page order for equal scores).
      await press(harness, popup, 'ArrowUp');
      expect(await active(popup)).toBe('search');
      const settled = await waitUntil('order settled', () => tiles(popup), (t) => t[0].src !== red, 10_000);
      expect(settled.slice(0, 4).map((t) => t.src)).not.toContain(undefined);
      expect(settled[3].src).toBe(red);
      await popup.close();
      await page.close();
    });

    // Firefox moves the focus in a window without the system focus but fires no focusin there:
    // the grid reads where the focus is instead (counting focusin re-sorted the focused tile).
    it.runIf(name.startsWith('Firefox'))('keeps a focused result in place when its window is not the focused one', async () => {
      const { page, popup } = await openPopupFor(harness, server, 'slow.html', 3);
      const red = await firstRed(popup);
      const front = await (harness as FirefoxHarness).browser.newPage({ type: 'window' });
      await front.bringToFront();
      await waitUntil('another window in front', () => popup.evaluate(() => document.hasFocus()), (f) => !f, 10_000);
      await lateRedsWhileFocused(harness, page, popup, red);
      await front.close();
      await popup.close();
      await page.close();
    });
  });
}

async function firstRed(popup: HPage): Promise<string> {
  return (await query(popup, 'red', (t) => t.length === 3 && t[0].match === 'true'))[0].src;
}

/**
 * Focuses the first tile (the red one) from the search box, then has three late reds arrive.
 * They score like it and stand above it on the page: the ranking puts them first, but the
 * focused tile does not move while it has focus.
 */
async function lateRedsWhileFocused(harness: AnyHarness, page: HPage, popup: HPage, red: string): Promise<void> {
  await popup.evaluate(() => (document.querySelector('[data-testid=search-input]') as HTMLElement).focus());
  await press(harness, popup, 'ArrowDown');
  expect(await active(popup)).toBe(red);
  await page.evaluate(() => (window as unknown as { lensAddLate(n: number): void }).lensAddLate(3));
  const during = await waitUntil('late reds ranked', () => tiles(popup), (t) => t.filter((x) => x.match === 'true').length === 4, 60_000);
  expect(during[0].src, `the focused tile moved (the popup has the system focus: ${await popup.evaluate(() => document.hasFocus())})`).toBe(red);
  expect(await active(popup)).toBe(red);
  expect(await shown(popup, 'order-held')).toBe(true);
}

requireTestBuild();

popupTests('Chromium popup', () => launchChromium(CHROME_DIR));
popupTests('Firefox popup', () => launchFirefox(FIREFOX_DIR, { addonId: FIREFOX_ID, uuid: FIREFOX_UUID, controlPath: 'src/options/options.html' }));

describe('Chromium downloads', () => {
  const running = useServerAndBrowser(() => launchChromium(CHROME_DIR));
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'e2e-downloads-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('downloads the selected matches into the downloads folder', async () => {
    const harness = running.harness();
    const server = running.server();
    const { popup } = await openPopupFor(harness, server, 'colors.html', 6);
    const cdp = await harness.context.newCDPSession(harness.raw(popup));
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: dir, eventsEnabled: true });
    await query(popup, 'red + blue', (t) => t.length === 6 && t.filter((x) => x.match === 'true').length === 2);
    await popup.click('[data-testid=select-matches]');
    expect(await popup.text('[data-testid=download-selected]')).toBe('Download 2');
    await popup.click('[data-testid=download-selected]');
    await waitUntil('action message', () => popup.text('[data-testid=action-message]'), (t) => t.startsWith('Downloading 2 images'), 10_000);
    const files = await waitUntil(
      'two downloaded files',
      async () => (await readdir(dir)).filter((f) => !f.endsWith('.crdownload')),
      (f) => f.length === 2,
      20_000,
    );
    expect(files.sort()).toEqual(['blue.png', 'red.png']);
    for (const f of files) expect((await stat(join(dir, f))).size).toBeGreaterThan(50);
  });
});
