// What the extension shows on the page, in real browsers with the fixture model (it knows
// colours): the right-click menu on every kind of image (find similar, classify), resolved in the
// content script; the navigation bar over the highlights ("i of n", next, Esc, pin and the popup
// closing); the classification card (pending first, top 5, copy, Esc). Headless browsers cannot
// open native menus: a real right-click on the element records the target, then the tests call
// the very function `contextMenus.onClicked` calls (test builds expose it as __lensTest.onMenuClicked).
import { mkdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { launchChromium, launchFirefox, popupPath, type ChromiumHarness, type FirefoxHarness, type Harness, type HPage } from './browsers';
import type { TestServer } from './server';
import { clickInOverlay, menuClick, raw, rightClick, rightClickText } from './overlay-actions';
import { CHROME_DIR, FIREFOX_DIR, FIREFOX_ID, POPUP, requireTestBuild, useServerAndBrowser, waitUntil } from './test-build';

const FIREFOX_UUID = '6b0f3e2a-1c4d-4e5f-9a7b-8c9d0e1f2a3b';
const SHOTS = process.env.E2E_SHOTS; // a directory: screenshots of the bar and the card (light and dark)

/** Things of our overlay's shadow root, read in the page. */
interface OverlayState {
  highlights: { rank: number; source: boolean; colour: string | null }[];
  nav: string | null;
  pinned: string | null;
  card: { state: string; top: string; rows: number; copied: string; coversImage: boolean } | null;
  notice: string | null;
}

const overlayState = (): OverlayState => {
  const root = document.querySelector('mobileclip-lens-overlay')?.shadowRoot;
  const colourAt = (box: Element): string | null => {
    const b = box.getBoundingClientRect();
    const hit = [...document.querySelectorAll<HTMLElement>('[data-colour]')].find((el) => {
      const r = el.getBoundingClientRect();
      return Math.abs(r.left - (b.left + 3)) < 3 && Math.abs(r.top - (b.top + 3)) < 3;
    });
    return hit?.dataset.colour ?? null;
  };
  const card = root?.querySelector<HTMLElement>('[data-testid=classify-card]');
  let coversImage = false;
  if (card) {
    const c = card.getBoundingClientRect();
    coversImage = [...document.querySelectorAll('[data-colour]')].some((el) => {
      const r = el.getBoundingClientRect();
      return c.left < r.right && c.right > r.left && c.top < r.bottom && c.bottom > r.top && el.getAttribute('data-card-target') === '1';
    });
  }
  return {
    highlights: [...(root?.querySelectorAll<HTMLElement>('[data-testid=highlight]') ?? [])].map((b) => ({
      rank: Number(b.dataset.rank),
      source: b.dataset.source === 'true',
      colour: colourAt(b),
    })),
    nav: root?.querySelector('[data-testid=page-nav]')?.textContent ?? null,
    pinned: root?.querySelector('[data-testid=page-nav-pin]')?.getAttribute('aria-pressed') ?? null,
    card: card
      ? {
          state: card.dataset.state ?? '',
          top: card.querySelector('[data-testid=classify-top-label]')?.textContent ?? '',
          rows: card.querySelectorAll('[data-testid=classify-label-row]').length,
          copied: card.querySelector('[data-testid=classify-copy-status]')?.textContent ?? '',
          coversImage,
        }
      : null,
    notice: root?.querySelector('[data-testid=page-notice]')?.textContent ?? null,
  };
};

/** Records every state the card passes through (the pending state may last only a moment). */
const watchCardStates = () => {
  const seen: string[] = [];
  (window as unknown as { __cardStates: string[] }).__cardStates = seen;
  const watchRoot = (root: ShadowRoot) => {
    const record = () => {
      const state = root.querySelector<HTMLElement>('[data-testid=classify-card]')?.dataset.state;
      if (state && seen[seen.length - 1] !== state) seen.push(state);
    };
    // The host and the card can arrive in one task: what is there when we start counts too.
    record();
    new MutationObserver(record).observe(root, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] });
  };
  const host = document.querySelector('mobileclip-lens-overlay');
  if (host?.shadowRoot) watchRoot(host.shadowRoot);
  new MutationObserver((records) => {
    for (const r of records) for (const n of r.addedNodes) if (n instanceof Element && n.shadowRoot && n.tagName === 'MOBILECLIP-LENS-OVERLAY') watchRoot(n.shadowRoot);
  }).observe(document.documentElement, { childList: true });
};

async function openPage(harness: Harness, server: TestServer, query = ''): Promise<{ page: HPage; tabId: number }> {
  const page = await harness.openPage(`${server.origin}/page-nav.html${query}`);
  const tabId = await harness.tabIdOf(page);
  return { page, tabId };
}

async function openPopup(harness: Harness, tabId: number): Promise<HPage> {
  const popup = await harness.openPage(popupPath(tabId, POPUP));
  await waitUntil('9 images indexed', () => popup.evaluate(() => (document.querySelector('[data-testid=progress]') as HTMLElement).dataset.done ?? ''), (d) => d === '9');
  return popup;
}

function bringToFront(harness: Harness, page: HPage): Promise<void> {
  return raw(harness, page).bringToFront();
}

function pageTests(name: string, launch: () => Promise<Harness>) {
  describe(name, () => {
    const { server, harness } = useServerAndBrowser(launch);

    it('find similar from the menu on an <img> and on a CSS background: the page lights up, the source marked', async () => {
      const { page, tabId } = await openPage(harness(), server());
      const popup = await openPopup(harness(), tabId);
      await popup.close(); // indexed; the menu works without a popup
      await bringToFront(harness(), page);
      for (const [colour, family] of [
        ['red', ['red', 'dark-red', 'light-red', 'far-red']],
        ['blue', ['blue', 'pseudo-blue', 'linked-blue']],
      ] as const) {
        await rightClick(harness(), page, colour);
        await menuClick(harness(), tabId, 'find-similar');
        const state = await waitUntil(`similar to ${colour} lit up`, () => page.evaluate(overlayState), (s) => s.highlights.some((h) => h.source));
        const source = state.highlights.find((h) => h.source)!;
        expect(source.colour).toBe(colour);
        console.log(`[${name}] similar to ${colour}: ${JSON.stringify(state.highlights)} bar ${state.nav}`);
        // Only images of the same family stand out, and the bar counts them.
        for (const h of state.highlights) if (h.colour) expect(family as readonly string[]).toContain(h.colour);
        expect(state.nav).toBe(`1 of ${new Set(state.highlights.map((h) => h.rank)).size}`);
      }
      // Text is no image: the page says so instead of doing nothing.
      await rightClickText(harness(), page);
      await menuClick(harness(), tabId, 'classify-image');
      const notice = await waitUntil('the no-image notice', () => page.evaluate(overlayState), (s) => s.notice !== null);
      expect(notice.notice).toMatch(/^No image under the pointer/);
      expect(notice.card).toBeNull();
      await page.close();
    });

    it('classify from the menu on a CSS background and an <img>: pending at once, then the top 5; copy; Esc closes', async () => {
      const { page, tabId } = await openPage(harness(), server());
      const popup = await openPopup(harness(), tabId);
      await popup.close();
      await bringToFront(harness(), page);
      for (const [colour, label] of [
        ['linked-blue', 'blue'],
        ['red', 'red'],
      ] as const) {
        await page.evaluate(watchCardStates);
        await rightClick(harness(), page, colour);
        await menuClick(harness(), tabId, 'classify-image');
        const state = await waitUntil(`the card for ${colour}`, () => page.evaluate(overlayState), (s) => s.card?.state === 'labels');
        expect(await page.evaluate(() => (window as unknown as { __cardStates: string[] }).__cardStates)).toEqual(['pending', 'labels']);
        expect(state.card).toMatchObject({ top: label, rows: 5, coversImage: false });
        await clickInOverlay(harness(), page, 'classify-copy');
        await waitUntil('copied', () => page.evaluate(overlayState), (s) => s.card?.copied === 'Copied');
        if (harness().name === 'chromium') {
          const text = await page.evaluate(() => navigator.clipboard.readText());
          expect(text.split('\n')).toHaveLength(5);
          expect(text.split('\n')[0]).toMatch(new RegExp(`^${label} \\(\\d+\\.\\d%\\)$`));
        }
        if (SHOTS && colour === 'linked-blue') await page.screenshot(`${SHOTS}/page-card-${harness().name}-light.png`);
        await raw(harness(), page).keyboard.press('Escape');
        await waitUntil('the card closed by Esc', () => page.evaluate(overlayState), (s) => s.card === null);
      }
      // A click elsewhere closes it too.
      await rightClick(harness(), page, 'green');
      await menuClick(harness(), tabId, 'classify-image');
      await waitUntil('the card for the canvas', () => page.evaluate(overlayState), (s) => s.card?.state === 'labels');
      await raw(harness(), page).mouse.click(5, 5);
      await waitUntil('the card closed by a click elsewhere', () => page.evaluate(overlayState), (s) => s.card === null);
      await page.close();
    });

    it('the bar: "1 of N", next → "2 of N", Esc clears; the popup closing clears the highlights unless pinned', async () => {
      const { page, tabId } = await openPage(harness(), server());
      let popup = await openPopup(harness(), tabId);
      await popup.fill('[data-testid=search-input]', 'red');
      const lit = await waitUntil('reds lit up with the bar', () => page.evaluate(overlayState), (s) => s.nav !== null && s.highlights.length > 0);
      const n = new Set(lit.highlights.map((h) => h.rank)).size;
      console.log(`[${name}] "red": ${JSON.stringify(lit.highlights)} bar ${lit.nav}`);
      expect(n).toBeGreaterThanOrEqual(2);
      expect(lit.nav).toBe(`1 of ${n}`);
      await bringToFront(harness(), page);
      await clickInOverlay(harness(), page, 'page-nav-next');
      expect((await page.evaluate(overlayState)).nav).toBe(`2 of ${n}`);
      // A badge click goes on from that match, like "next": the bar moves to the match after it.
      // (next scrolled to match 2, smoothly: wait until a badge is in view)
      const badgeInView = () =>
        page.evaluate(() => {
          const root = document.querySelector('mobileclip-lens-overlay')!.shadowRoot!;
          const shown = [...root.querySelectorAll<HTMLElement>('[data-testid=highlight-badge]')].find((b) => {
            const r = b.getBoundingClientRect();
            return r.top > 0 && r.bottom < innerHeight;
          });
          const r = shown?.getBoundingClientRect();
          return shown && r ? { x: r.left + r.width / 2, y: r.top + r.height / 2, rank: Number(shown.closest<HTMLElement>('[data-testid=highlight]')!.dataset.rank) } : null;
        });
      await new Promise((r) => setTimeout(r, 800));
      const badge = (await waitUntil('a badge in view', badgeInView, (b) => b !== null, 10_000))!;
      const ranks = [...new Set(lit.highlights.map((h) => h.rank))].sort((a, b) => a - b);
      const after = ranks.find((r) => r > badge.rank) ?? ranks[0];
      await raw(harness(), page).mouse.click(badge.x, badge.y);
      await waitUntil('the badge moved the bar on', () => page.evaluate(overlayState), (s) => s.nav === `${ranks.indexOf(after) + 1} of ${n}`);
      if (SHOTS) await page.screenshot(`${SHOTS}/page-bar-${harness().name}-light.png`);
      await raw(harness(), page).keyboard.press('Escape');
      const cleared = await waitUntil('Esc cleared the highlights', () => page.evaluate(overlayState), (s) => s.highlights.length === 0 && s.nav === null);
      expect(cleared.highlights).toEqual([]);
      // They stay cleared while the results refresh.
      await new Promise((r) => setTimeout(r, 1_000));
      expect((await page.evaluate(overlayState)).highlights).toEqual([]);

      // A new search lights them up again; closing the popup clears them.
      await popup.fill('[data-testid=search-input]', 'blue');
      await waitUntil('blues lit up', () => page.evaluate(overlayState), (s) => s.highlights.length > 0 && s.nav !== null);
      await popup.close();
      await waitUntil('the popup closed: highlights gone', () => page.evaluate(overlayState), (s) => s.highlights.length === 0 && s.nav === null);

      // Reopened, the popup shows its results and the page its highlights; pinned, they outlive the popup.
      popup = await openPopup(harness(), tabId);
      await popup.fill('[data-testid=search-input]', 'red');
      // Reopened, the popup first shows (and the page lights up) the last results, the blues: wait for the reds.
      const reds = new Set(lit.highlights.map((h) => h.colour));
      await waitUntil('reds lit up again', () => page.evaluate(overlayState), (s) => s.nav === `1 of ${n}` && s.highlights.length > 0 && s.highlights.every((h) => reds.has(h.colour)));
      await clickInOverlay(harness(), page, 'page-nav-pin');
      await waitUntil('pinned', () => page.evaluate(overlayState), (s) => s.pinned === 'true');
      await popup.close();
      await new Promise((r) => setTimeout(r, 1_000));
      const pinned = await page.evaluate(overlayState);
      expect(pinned.highlights.length).toBeGreaterThan(0);
      expect(pinned.nav).toBe(`1 of ${n}`);
      // The bar's close clears them.
      await clickInOverlay(harness(), page, 'page-nav-close');
      await waitUntil('closed from the bar', () => page.evaluate(overlayState), (s) => s.highlights.length === 0 && s.nav === null);
      await page.close();
    });

    if (SHOTS && name.startsWith('Chromium')) {
      it('screenshots on a dark page', async () => {
        const { page, tabId } = await openPage(harness(), server(), '?dark=1');
        await (harness() as ChromiumHarness).raw(page).emulateMedia({ colorScheme: 'dark' });
        const popup = await openPopup(harness(), tabId);
        await popup.fill('[data-testid=search-input]', 'red');
        await waitUntil('reds lit up', () => page.evaluate(overlayState), (s) => s.nav !== null);
        await bringToFront(harness(), page);
        await clickInOverlay(harness(), page, 'page-nav-pin');
        await popup.close();
        await rightClick(harness(), page, 'blue');
        await menuClick(harness(), tabId, 'classify-image');
        await waitUntil('the card', () => page.evaluate(overlayState), (s) => s.card?.state === 'labels');
        await page.screenshot(`${SHOTS}/page-bar-card-${harness().name}-dark.png`);
        await page.close();
      });
    }
  });
}

requireTestBuild();
if (SHOTS) mkdirSync(SHOTS, { recursive: true });

pageTests('Chromium', async () => {
  const harness = await launchChromium(CHROME_DIR);
  await harness.context.grantPermissions(['clipboard-read', 'clipboard-write']);
  return harness;
});
pageTests('Firefox ESR', () =>
  launchFirefox(FIREFOX_DIR, { addonId: FIREFOX_ID, uuid: FIREFOX_UUID, controlPath: 'src/options/options.html' }),
);
