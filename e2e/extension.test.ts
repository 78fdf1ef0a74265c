// The vertical slice in real browsers, with the fixture model bundled in dist-test/:
// content script finds the images → background fetches, preprocesses, embeds, caches →
// popup ranks them for a query; "Classify image" answers with the right colour.
import { describe, expect, it } from 'vitest';
import { launchChromium, launchFirefox, popupPath, type Harness, type HPage } from './browsers';
import type { TestServer } from './server';
import { CHROME_DIR, FIREFOX_DIR, FIREFOX_ID, POPUP, requireTestBuild, resultsAnswer, useServer, useServerAndBrowser, waitUntil } from './test-build';

const FIREFOX_UUID = '6b0f3e2a-1c4d-4e5f-9a7b-8c9d0e1f2a3b';

interface Ranked {
  src: string;
  score: number;
}

async function results(popup: HPage): Promise<Ranked[]> {
  return popup.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('[data-testid=result]')].map((el) => ({ src: el.dataset.src ?? '', score: Number(el.dataset.score) })),
  );
}

/** Opens the colours page and its popup; waits until all six images are indexed. */
async function openColoursWithPopup(harness: Harness, server: TestServer): Promise<{ page: HPage; popup: HPage; tabId: number }> {
  const page = await harness.openPage(`${server.origin}/colors.html`);
  const tabId = await harness.tabIdOf(page);
  const popup = await harness.openPage(popupPath(tabId, POPUP));
  await waitUntil('6 images found', () => popup.text('[data-testid=image-count]'), (t) => t === '6');
  await waitUntil(
    'all images indexed',
    () => popup.evaluate(() => (document.querySelector('[data-testid=progress]') as HTMLElement).dataset.done ?? ''),
    (done) => done === '6',
  );
  return { page, popup, tabId };
}

async function searchRanking(popup: HPage, query: string): Promise<Ranked[]> {
  await popup.fill('[data-testid=search-input]', query);
  await resultsAnswer(popup, query);
  return waitUntil(`6 ranked results for "${query}"`, () => results(popup), (r) => r.length === 6);
}

/** The popup's count of images the model embedded for this page, and of answers from the cache. */
async function indexStats(popup: HPage): Promise<{ embedded: number; fromCache: number }> {
  return popup.evaluate(() => {
    const stats = document.querySelector<HTMLElement>('[data-testid=index-stats]');
    return { embedded: Number(stats?.getAttribute('data-embedded') ?? NaN), fromCache: Number(stats?.getAttribute('data-from-cache') ?? NaN) };
  });
}

/** The classification card the content script draws in its (open) shadow root. */
async function cardLabel(page: HPage): Promise<string> {
  return page.evaluate(() => {
    const host = document.querySelector('mobileclip-lens-overlay');
    return host?.shadowRoot?.querySelector('[data-testid=classify-top-label]')?.textContent ?? '';
  });
}

function colourOf(src: string): string {
  return /\/img\/solid\/(\w+)\.png/.exec(src)?.[1] ?? src;
}

function sliceTests(name: string, launch: () => Promise<Harness>, expectBackend: string[]) {
  describe(name, () => {
    const { server, harness } = useServerAndBrowser(launch);

    it('counts the images, ranks red first for "red", names the backend', async () => {
      const { popup, page } = await openColoursWithPopup(harness(), server());
      const ranking = await searchRanking(popup, 'red');
      expect(colourOf(ranking[0].src)).toBe('red');
      expect(ranking[0].score).toBeGreaterThan(ranking[1].score + 0.1);
      expect(expectBackend).toContain(await popup.text('[data-testid=backend]'));
      // The page shows the match, numbered, in the overlay.
      const highlighted = await waitUntil(
        'a highlight on the page',
        () => page.evaluate(() => document.querySelector('mobileclip-lens-overlay')?.shadowRoot?.querySelectorAll('[data-testid=highlight]').length ?? 0),
        (n) => n > 0,
      );
      expect(highlighted).toBe(1);
      // Other queries rank other colours first: the ranking follows the text, not the page order.
      for (const colour of ['blue', 'yellow', 'white']) {
        const r = await waitUntil(`${colour} first`, async () => (await searchRanking(popup, colour))[0], (top) => colourOf(top.src) === colour, 20_000);
        expect(colourOf(r.src)).toBe(colour);
      }
      await popup.close();
      await page.close();
    });

    it('classifies the blue image as "blue" (popup button, same handler as the context menu) without embedding it again', async () => {
      const { popup, page } = await openColoursWithPopup(harness(), server());
      const before = await indexStats(popup);
      expect(before.embedded + before.fromCache).toBe(6);
      await searchRanking(popup, 'blue');
      await popup.click('[data-testid=result]:first-child [data-testid=classify-button]');
      const label = await waitUntil('classification label', () => popup.evaluate(() => document.querySelector('[data-testid=classify-label]')?.textContent ?? ''), (t) => t !== '');
      expect(label).toMatch(/^blue \(\d+%\)$/);
      // The indexed image's embedding answered: counted as from the cache, and the model ran on nothing.
      const after = await waitUntil('classify counted', () => indexStats(popup), (s) => s.fromCache === before.fromCache + 1);
      expect(after.embedded).toBe(before.embedded);
      // The answer is also shown on the page next to the image.
      expect(await waitUntil('card on the page', () => cardLabel(page), (t) => t !== '')).toBe('blue');
      await popup.close();
      await page.close();
    });
  });
}

requireTestBuild();

sliceTests('Chromium (WASM)', () => launchChromium(CHROME_DIR), ['wasm']);
sliceTests('Firefox ESR (WASM)', () => launchFirefox(FIREFOX_DIR, { addonId: FIREFOX_ID, uuid: FIREFOX_UUID, controlPath: 'src/options/options.html' }), ['wasm']);

describe('Chromium context menu and WebGPU', () => {
  const server = useServer();

  it('the context-menu handler classifies the blue image as "blue"', async () => {
    const harness = await launchChromium(CHROME_DIR);
    try {
      const page = await harness.openPage(`${server().origin}/colors.html`);
      const tabId = await harness.tabIdOf(page);
      const blue = `${server().origin}/img/solid/blue.png?w=160&h=120`;
      // Headless browsers cannot open native menus; test builds expose the menu's click handler.
      const labels = await harness.evalInExtension(
        ([tab, url]) => (globalThis as any).__lensTest.classifyImage(tab, url) as Promise<{ label: string; probability: number }[]>,
        [tabId, blue] as const,
      );
      expect(labels[0].label).toBe('blue');
      expect(labels[0].probability).toBeGreaterThan(0.5);
      expect(await waitUntil('card on the page', () => cardLabel(page), (t) => t !== '')).toBe('blue');
    } finally {
      await harness.close();
    }
  });

  it('WebGPU (SwiftShader) gives the same ranking as WASM', async () => {
    const rankings: Record<string, Ranked[]> = {};
    for (const webgpu of [false, true]) {
      const harness = await launchChromium(CHROME_DIR, { webgpu });
      try {
        const { popup } = await openColoursWithPopup(harness, server());
        const backend = webgpu ? 'webgpu' : 'wasm';
        // With WebGPU the engine answers from WASM until the GPU session is warm, then switches.
        await waitUntil(`backend ${backend}`, () => popup.text('[data-testid=backend]'), (b) => b === backend);
        rankings[backend] = await searchRanking(popup, 'green');
      } finally {
        await harness.close();
      }
    }
    const byUrl = (r: Ranked[]) => new Map(r.map((x) => [colourOf(x.src), x.score]));
    const wasm = byUrl(rankings.wasm), gpu = byUrl(rankings.webgpu);
    expect(colourOf(rankings.webgpu[0].src)).toBe(colourOf(rankings.wasm[0].src));
    for (const [colour, score] of wasm) expect(Math.abs(score - gpu.get(colour)!)).toBeLessThan(1e-3);
  });
});
