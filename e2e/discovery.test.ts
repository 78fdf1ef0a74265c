// Image discovery, byte sources and on-page results in real browsers, with the fixture model
// (it understands colours: a colour query finds the image of that colour). Each coverage page
// documents how many images a person sees (body data-expected-images / data-expected-hidden) and
// gives every kind of image its own colour, so a colour query identifies the kind:
//   coverage-elements.html  every element kind (img, srcset, picture, lazy, data-src, CSS
//                           backgrounds with layers and image-set(), ::before, inline SVG, SVG
//                           <image>, canvas, video poster), hidden ones, filtered ones
//   coverage-sources.html   every way to the bytes: cross-origin without CORS, hotlink
//                           protection (Referer), blob: (kept and revoked), data: (short and
//                           long), SVG document, shadow roots (open, closed), <input type=image>,
//                           same- and cross-origin iframes
//   coverage-dynamic.html   infinite scroll: the count follows the page
//   coverage-big.html       2,000 elements: how long discovery takes
import { describe, expect, it } from 'vitest';
import { launchChromium, launchFirefox, popupPath, type Harness, type HPage } from './browsers';
import { CHROME_DIR, FIREFOX_DIR, FIREFOX_ID, POPUP, requireTestBuild, useServerAndBrowser, waitUntil } from './test-build';

const FIREFOX_UUID = '6b0f3e2a-1c4d-4e5f-9a7b-8c9d0e1f2a3b';

interface PopupState {
  count: number;
  hidden: number;
  done: number;
  failed: string[];
}

function popupState(popup: HPage): Promise<PopupState> {
  return popup.evaluate(() => {
    const line = document.getElementById('indexed-line')?.textContent ?? '';
    return {
      count: Number((document.querySelector('[data-testid=image-count]') as HTMLElement | null)?.dataset.count ?? NaN),
      hidden: Number(/(\d+) hidden/.exec(line)?.[1] ?? 0),
      done: Number((document.querySelector('[data-testid=progress]') as HTMLElement | null)?.dataset.done ?? NaN),
      failed: [...document.querySelectorAll('#error-list li')].map((li) => li.textContent ?? ''),
    };
  });
}

/** What the page documents: the number of images a person sees, and of hidden ones. */
function expectedCounts(page: HPage): Promise<{ images: number; hidden: number }> {
  return page.evaluate(() => ({ images: Number(document.body.dataset.expectedImages), hidden: Number(document.body.dataset.expectedHidden ?? 0) }));
}

/** Waits until the popup shows `images` found and every one of them indexed (or failed). */
async function settled(popup: HPage, images: number): Promise<PopupState> {
  return waitUntil(`${images} images found and indexed`, () => popupState(popup), (s) => s.count === images && s.done === images);
}

async function openWithPopup(harness: Harness, url: string): Promise<{ page: HPage; popup: HPage; tabId: number }> {
  const page = await harness.openPage(url);
  const tabId = await harness.tabIdOf(page);
  const popup = await harness.openPage(popupPath(tabId, POPUP));
  return { page, popup, tabId };
}

interface FrameLike {
  url(): string;
  evaluate<R, A>(fn: (arg: A) => R, arg: A): Promise<R>;
}

/** Every frame of the page (top and iframes, cross-origin ones included). */
function framesOf(harness: Harness, page: HPage): FrameLike[] {
  if (harness.name === 'chromium') return (harness as Awaited<ReturnType<typeof launchChromium>>).raw(page).frames() as unknown as FrameLike[];
  return (harness as Awaited<ReturnType<typeof launchFirefox>>).raw(page).frames() as unknown as FrameLike[];
}

function bringToFront(harness: Harness, page: HPage): Promise<void> {
  if (harness.name === 'chromium') return (harness as Awaited<ReturnType<typeof launchChromium>>).raw(page).bringToFront();
  return (harness as Awaited<ReturnType<typeof launchFirefox>>).raw(page).bringToFront();
}

/**
 * In the frame holding `[data-colour=colour]`: whether our overlay outlines that element with a
 * box of the given kind ('highlight' with rank 1, or 'reveal'), and whether it is in view.
 */
const outlineProbe = ([colour, testid]: readonly [string, string]) => {
  let target: Element | null = document.querySelector(`[data-colour="${colour}"]`);
  if (!target) return null;
  if (target.tagName === 'PICTURE') target = target.querySelector('img');
  const r = target!.getBoundingClientRect();
  const boxes = [...(document.querySelector('mobileclip-lens-overlay')?.shadowRoot?.querySelectorAll<HTMLElement>(`[data-testid=${testid}]`) ?? [])];
  const outlined = boxes.some((box) => {
    if (testid === 'highlight' && box.dataset.rank !== '1') return false;
    const b = box.getBoundingClientRect();
    const x = b.left + b.width / 2;
    const y = b.top + b.height / 2;
    return x >= r.left - 6 && x <= r.right + 6 && y >= r.top - 6 && y <= r.bottom + 6;
  });
  const pulsing = boxes.some((box) => box.classList.contains('pulse'));
  return { outlined, pulsing, inView: r.top >= 0 && r.bottom <= innerHeight, top: r.top };
};

async function outline(harness: Harness, page: HPage, colour: string, testid: 'highlight' | 'reveal' = 'highlight') {
  for (const frame of framesOf(harness, page)) {
    const found = await frame.evaluate(outlineProbe, [colour, testid] as const).catch(() => null);
    if (found) return found;
  }
  return null;
}

/** Types a colour and waits until the top result's element is outlined, rank 1, on the page. */
async function findColour(harness: Harness, page: HPage, popup: HPage, colour: string, images: number): Promise<{ src: string; score: number }> {
  await popup.fill('[data-testid=search-input]', colour);
  await waitUntil(`results for "${colour}"`, () => popup.evaluate(() => document.querySelectorAll('[data-testid=result]').length), (n) => n === images);
  await waitUntil(`"${colour}" outlined as #1 on the page`, () => outline(harness, page, colour), (o) => !!o?.outlined, 20_000);
  return popup.evaluate(() => {
    const top = document.querySelector<HTMLElement>('[data-testid=result]')!;
    return { src: top.dataset.src ?? '', score: Number(top.dataset.score) };
  });
}

function discoveryTests(name: string, launch: () => Promise<Harness>) {
  describe(name, () => {
    const { server, harness } = useServerAndBrowser(launch);

    it('every element kind: counts what a person sees, hidden apart, and finds each kind by its colour', async () => {
      const { page, popup } = await openWithPopup(harness(), `${server().origin}/coverage-elements.html`);
      const expected = await expectedCounts(page);
      const state = await settled(popup, expected.images);
      expect(state.failed.join('\n')).toBe('');
      expect(state.hidden).toBe(expected.hidden);
      const kinds = await page.evaluate(() => [...document.querySelectorAll<HTMLElement>('[data-kind]')].map((e) => [e.dataset.kind!, e.dataset.colour!] as const));
      expect(kinds).toHaveLength(expected.images);
      for (const [kind, colour] of kinds) {
        const top = await findColour(harness(), page, popup, colour, expected.images);
        expect(top.score, `${kind} (${colour})`).toBeGreaterThan(0.2);
      }
      // Clicking a result that is no match (not highlighted) still shows where it is: scrolled to, outlined, pulsing.
      await findColour(harness(), page, popup, 'red', expected.images);
      const weakest = await popup.evaluate(() => {
        const items = [...document.querySelectorAll<HTMLElement>('[data-testid=result].weak')];
        const index = items.findLastIndex((li) => /\/img\/solid\/\w+\.png/.test(li.dataset.src ?? ''));
        return index < 0 ? null : { rank: items[index].dataset.rank!, colour: /\/img\/solid\/(\w+)\.png/.exec(items[index].dataset.src!)![1] };
      });
      expect(weakest).not.toBeNull();
      // Results that are no match wait behind "Show all N".
      await popup.click('[data-testid=show-all]');
      await popup.click(`[data-testid=result][data-rank="${weakest!.rank}"]`);
      const revealed = await waitUntil(`the ${weakest!.colour} image outlined`, () => outline(harness(), page, weakest!.colour, 'reveal'), (o) => !!o?.outlined && o.inView, 20_000);
      expect(revealed).toMatchObject({ pulsing: true, inView: true });
      await popup.close();
      await page.close();
    });

    it('every byte source: cross-origin, hotlink-protected, blob:, data:, SVG, shadow roots, iframes', async () => {
      const { page, popup } = await openWithPopup(harness(), `${server().origin}/coverage-sources.html?cross=${encodeURIComponent(server().crossOrigin)}`);
      const expected = await expectedCounts(page);
      const state = await settled(popup, expected.images);
      expect(state.failed.join('\n')).toBe('');
      expect(state.hidden).toBe(expected.hidden);
      // The long data: URL really is longer than what messages carry inline.
      expect(Number(await page.evaluate(() => document.getElementById('data-purple')!.dataset.length))).toBeGreaterThan(16_384);
      const colours = ['red', 'orange', 'yellow', 'green', 'cyan', 'blue', 'purple', 'black', 'white', 'grey', 'pink', 'brown'];
      expect(colours).toHaveLength(expected.images);
      for (const colour of colours) {
        const top = await findColour(harness(), page, popup, colour, expected.images);
        expect(top.score, colour).toBeGreaterThan(0.2);
      }
      // Every result shows a preview, including images the popup cannot load by address
      // (blob:, page-local SVG/canvas, hotlink-protected): those come from the background.
      const unloaded = await waitUntil(
        'every result thumbnail loaded',
        () => popup.evaluate(() => [...document.querySelectorAll<HTMLImageElement>('[data-testid=result] img')].filter((i) => !(i.complete && i.naturalWidth > 0)).map((i) => i.closest('li')!.dataset.src)),
        (missing) => missing.length === 0,
        30_000,
      );
      expect(unloaded).toEqual([]);
      // The red image is on the page twice under two addresses with identical bytes: one result, both outlined.
      await findColour(harness(), page, popup, 'red', expected.images);
      const redOutlines = await page.evaluate(() => {
        const boxes = [...(document.querySelector('mobileclip-lens-overlay')?.shadowRoot?.querySelectorAll<HTMLElement>('[data-testid=highlight][data-rank="1"]') ?? [])];
        return [...document.querySelectorAll('[data-colour=red]')].filter((el) => {
          const r = el.getBoundingClientRect();
          return boxes.some((b) => {
            const c = b.getBoundingClientRect();
            return Math.abs(c.left + 3 - r.left) < 2 && Math.abs(c.top + 3 - r.top) < 2;
          });
        }).length;
      });
      expect(redOutlines).toBe(2);

      // Clicking the result for the image in the cross-origin frame (far below) brings it into view and pulses it.
      const frameInView = () =>
        page.evaluate(() => {
          const r = document.getElementById('frame-cross')!.getBoundingClientRect();
          return r.top >= 0 && r.bottom <= innerHeight;
        });
      await findColour(harness(), page, popup, 'brown', expected.images);
      expect(await frameInView()).toBe(false);
      await popup.click('[data-testid=result]:first-child');
      await waitUntil('the cross-origin frame scrolled into view', frameInView, (v) => v, 20_000);
      const revealed = await waitUntil('the framed image pulsing', () => outline(harness(), page, 'brown'), (o) => !!o?.pulsing, 20_000);
      expect(revealed).toMatchObject({ outlined: true, inView: true });
      await popup.close();
      await page.close();
    });

    it('pixels only the screen has (expired cross-origin URL, tainted canvas): read from a screenshot once the tab is shown', async () => {
      const token = `${name}-${Date.now()}`;
      const { page, popup } = await openWithPopup(harness(), `${server().origin}/coverage-capture.html?cross=${encodeURIComponent(server().crossOrigin)}&token=${encodeURIComponent(token)}`);
      const expected = await expectedCounts(page);
      // The popup opened as a tab hides the page: the images wait for it to be shown again.
      await bringToFront(harness(), page);
      await waitUntil('both images read', () => popupState(popup), (s) => s.count === expected.images && s.done === expected.images && s.failed.length === 0);
      for (const colour of ['pink', 'brown']) {
        const top = await findColour(harness(), page, popup, colour, expected.images);
        expect(top.score, colour).toBeGreaterThan(0.2);
      }
      await popup.close();
      await page.close();
    });

    it('the filters are settings on the options page: minimum size, tracking pixels, identical images', async () => {
      const options = await harness().openPage('src/options/options.html');
      const save = async (minSize: string, toggle: string[]) => {
        await options.fill('[data-testid=min-size]', minSize);
        for (const box of toggle) await options.click(`[data-testid=${box}]`);
        await options.click('button[type=submit]');
        await waitUntil('saved', () => options.text('#saved'), (t) => t === 'Saved.');
      };
      try {
        const elements = await openWithPopup(harness(), `${server().origin}/coverage-elements.html`);
        const sources = await openWithPopup(harness(), `${server().origin}/coverage-sources.html?cross=${encodeURIComponent(server().crossOrigin)}`);
        await settled(elements.popup, 12);
        await settled(sources.popup, 12);
        expect(await options.evaluate(() => [(document.getElementById('skip-tracking') as HTMLInputElement).checked, (document.getElementById('merge-duplicates') as HTMLInputElement).checked])).toEqual([true, true]);
        // No minimum, tracking pixels kept, copies apart: + the 16 px icon and both tracking pixels; + the red copy.
        await save('0', ['skip-tracking', 'merge-duplicates']);
        await waitUntil('15 images with no filters', () => popupState(elements.popup), (s) => s.count === 15);
        await waitUntil('13 images when copies count apart', () => popupState(sources.popup), (s) => s.count === 13);
        await save('48', ['skip-tracking', 'merge-duplicates']);
        await waitUntil('12 images with the default filters', () => popupState(elements.popup), (s) => s.count === 12);
        await waitUntil('12 images when copies merge again', () => popupState(sources.popup), (s) => s.count === 12);
        for (const opened of [elements, sources]) {
          await opened.popup.close();
          await opened.page.close();
        }
      } finally {
        await options.close();
      }
    });

    it('infinite scroll: the count follows images added and removed', async () => {
      const { page, popup } = await openWithPopup(harness(), `${server().origin}/coverage-dynamic.html`);
      const expected = await expectedCounts(page);
      await settled(popup, expected.images);
      const after = await page.evaluate(() => Number(document.body.dataset.expectedAfterScroll));
      await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
      await settled(popup, after);
      await findColour(harness(), page, popup, 'purple', after);
      await page.evaluate(() => (window as unknown as { removeFirst(): void }).removeFirst());
      await waitUntil('one image fewer', () => popupState(popup), (s) => s.count === after - 1);
      await popup.close();
      await page.close();
    });

    it('a page of 2,000 elements: every image counted, scans timed', async () => {
      const page = await harness().openPage(`${server().origin}/coverage-big.html`);
      const tabId = await harness().tabIdOf(page);
      const popup = await harness().openPage(popupPath(tabId, POPUP));
      const elements = await page.evaluate(() => document.getElementsByTagName('*').length);
      const images = await page.evaluate(() => Number(document.body.dataset.expectedImages));
      await waitUntil(`${images} images found`, () => popupState(popup), (s) => s.count === images);
      type Scan = { extracted: number; imageElements: number; extractMs: number; measureMs: number; images: number };
      const scans = () => page.evaluate(() => JSON.parse(document.documentElement.dataset.lensScans ?? '[]') as Scan[]);
      // The first scan reads every element; later ones (images finishing their loads) only what changed.
      const [full] = await scans();
      expect(full.extracted).toBeGreaterThanOrEqual(elements - 10);
      const before = (await scans()).length;
      // 100 more cards (800 elements): only they are re-read.
      await page.evaluate(() => (window as unknown as { addCards(n: number): void }).addCards(100));
      await waitUntil(`${images + 100} images found`, () => popupState(popup), (s) => s.count === images + 100);
      const later = (await scans()).slice(before);
      const incremental = later.find((s) => s.images === images + 100)!;
      expect(Math.max(...later.map((s) => s.extracted))).toBeLessThan(elements / 2);
      console.log(`[${name}] ${elements} elements, ${images} images: first scan ${JSON.stringify(full)}; after adding 100 cards: ${JSON.stringify(later)}`);
      expect(incremental).toBeDefined();
      await popup.close();
      await page.close();
    });
  });
}

requireTestBuild();

discoveryTests('Chromium', () => launchChromium(CHROME_DIR));
discoveryTests('Firefox ESR', () => launchFirefox(FIREFOX_DIR, { addonId: FIREFOX_ID, uuid: FIREFOX_UUID, controlPath: 'src/options/options.html' }));
