// Chrome's WASM engine in the offscreen document (src/offscreen: engine-worker.ts serves in a Worker of main.ts's document; client.ts + document.ts in the service worker),
// with the fixture model bundled in dist-test/chrome:
// - WASM answers from a cross-origin-isolated offscreen document with a thread per core (up to 4),
//   and the popup's thumbnails of cross-origin images still load under the manifest's COEP;
// - an idle document stays while a popup is open, a closed one is created again on the next
//   request, and a restarted service worker finds the model still open in the document it left behind;
// - the engine worker announces the vision session's opening, and the decode worker starts no
//   picture until it has opened.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { launchChromium, popupPath, type ChromiumHarness, type HPage } from './browsers';
import { startServer } from './server';
import type { ModelStatus, TabView } from '../src/messages';
import { IDLE, OFFSCREEN_PATH, VISION_OPENING_CHANNEL } from '../src/offscreen/protocol';
import { CHROME_DIR, POPUP, waitUntil } from './test-build';

type Server = Awaited<ReturnType<typeof startServer>>;

function colourOf(src: string): string {
  return /\/img\/solid\/(\w+)\.png/.exec(src)?.[1] ?? src;
}

/** The ranking the popup shows for `query`, once it lists all six images. */
async function searchRanking(popup: HPage, query: string): Promise<string[]> {
  await popup.fill('[data-testid=search-input]', query);
  const srcs = () => popup.evaluate(() => [...document.querySelectorAll<HTMLElement>('[data-testid=result]')].map((el) => el.dataset.src ?? ''));
  // The list may still hold the previous query's results for a moment.
  return waitUntil(`"${query}" ranked first`, srcs, (r) => r.length === 6 && colourOf(r[0]) === query, 60_000);
}

/** The model status the background sends popups, read over the popup's own port. */
function modelStatus(popup: HPage, tabId: number): Promise<ModelStatus> {
  return popup.evaluate(
    (tab) =>
      new Promise<ModelStatus>((done) => {
        const api = (globalThis as unknown as { chrome: { runtime: { connect(o: { name: string }): ChromePort } } }).chrome;
        const port = api.runtime.connect({ name: 'popup' });
        port.onMessage.addListener((m: { type: string; view: TabView }) => {
          if (m.type !== 'view') return;
          port.disconnect();
          done(m.view.model);
        });
        port.postMessage({ type: 'subscribe', tabId: tab });
      }),
    tabId,
  );
}
interface ChromePort {
  onMessage: { addListener(fn: (m: { type: string; view: TabView }) => void): void };
  postMessage(m: unknown): void;
  disconnect(): void;
}

/** Ids of the extension's offscreen documents (there is at most one). */
function offscreenDocuments(harness: ChromiumHarness): Promise<string[]> {
  return harness.evalInExtension(async () => {
    const api = (globalThis as unknown as { chrome: { runtime: { getContexts(f: object): Promise<{ documentId: string }[]> } } }).chrome;
    return (await api.runtime.getContexts({ contextTypes: ['OFFSCREEN_DOCUMENT'] })).map((c) => c.documentId);
  });
}

/**
 * Runs `expression` in the offscreen document, which playwright does not list as a page: through
 * the DevTools protocol, attached from one of our pages. Fire and forget.
 */
async function inOffscreenDocument(harness: ChromiumHarness, from: HPage, expression: string): Promise<void> {
  const cdp = await harness.context.newCDPSession(harness.raw(from));
  try {
    const { targetInfos } = await cdp.send('Target.getTargets');
    const target = targetInfos.find((t) => t.url === `${harness.extensionBaseUrl}${OFFSCREEN_PATH}`);
    if (!target) throw new Error(`no offscreen document among ${targetInfos.map((t) => t.url).join(', ')}`);
    const { sessionId } = await cdp.send('Target.attachToTarget', { targetId: target.targetId, flatten: false });
    await cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression } }) });
  } finally {
    await cdp.detach();
  }
}

if (!existsSync(resolve(CHROME_DIR, 'manifest.json'))) throw new Error(`${CHROME_DIR} is missing: run \`npm run build:test\` first (npm test does).`);

describe('Chromium: WASM engine in the offscreen document', () => {
  let harness: ChromiumHarness;
  let server: Server;
  let page: HPage;
  let popup: HPage;
  let tabId: number;

  beforeAll(async () => {
    server = await startServer();
    harness = await launchChromium(CHROME_DIR);
    // Every note on the channel from now on, in this worker (a listener of the same origin, as the decoder is).
    await harness.evalInExtension((channel) => {
      const notes: unknown[] = ((globalThis as Record<string, unknown>).visionNotes = []);
      new BroadcastChannel(channel).onmessage = (event) => notes.push(event.data);
    }, VISION_OPENING_CHANNEL);
    page = await harness.openPage(`${server.origin}/colors.html`);
    tabId = await harness.tabIdOf(page);
    popup = await harness.openPage(popupPath(tabId, POPUP));
    await waitUntil(
      'all six images indexed',
      () => popup.evaluate(() => (document.querySelector('[data-testid=progress]') as HTMLElement | null)?.dataset.done ?? ''),
      (done) => done === '6',
    );
  });
  afterAll(async () => {
    await harness?.close();
    await server?.close();
  });

  it('runs WASM with a thread per core in a cross-origin-isolated offscreen document', async () => {
    const cores = await popup.evaluate(() => navigator.hardwareConcurrency);
    const status = await modelStatus(popup, tabId);
    expect(status.backend).toBe('wasm');
    expect(status.threads).toBe(Math.min(4, cores));
    expect(await offscreenDocuments(harness)).toHaveLength(1);
    // The document is isolated (that is what allows the threads); so is every extension page.
    expect(await popup.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(await searchRanking(popup, 'red')).toHaveLength(6);
  });

  it('the vision session opening is announced, and the decoder starts no picture until it has opened', async () => {
    // The page's first images opened the vision session: once, begun and ended.
    expect(await harness.evalInExtension(() => (globalThis as Record<string, unknown>).visionNotes)).toEqual([{ opening: true }, { opening: false }]);

    const outcome = await harness.evalInExtension(async (channel) => {
      type Prepare = (blob: Blob, spec: { imageSize: number }) => Promise<{ pixels: Float32Array }>;
      const prepare = (globalThis as unknown as { __lensTest: { prepareAsIndexing: Prepare } }).__lensTest.prepareAsIndexing;
      const canvas = new OffscreenCanvas(64, 48);
      const context = canvas.getContext('2d')!;
      context.fillStyle = '#c33';
      context.fillRect(0, 0, 64, 48);
      const picture = await canvas.convertToBlob({ type: 'image/png' });
      const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
      const announce = new BroadcastChannel(channel);
      // Prepared at once while nothing opens (this also connects to the decode worker).
      const before = (await prepare(picture, { imageSize: 256 })).pixels.length;
      // A note of another shape holds nothing.
      announce.postMessage({ opening: 'yes' });
      const strayHeld = await Promise.race([prepare(picture, { imageSize: 256 }).then(() => false), pause(5_000).then(() => true)]);
      announce.postMessage({ opening: true });
      // The note and the request below travel on different channels, in no set order: the
      // request goes once the note has had time to arrive (one of five runs failed without the wait).
      await pause(200);
      let prepared = false;
      const held = prepare(picture, { imageSize: 256 }).then((r) => ((prepared = true), r.pixels.length));
      await pause(1_500);
      const preparedWhileOpening = prepared;
      announce.postMessage({ opening: false });
      const after = await held;
      announce.close();
      return { before, strayHeld, preparedWhileOpening, after };
    }, VISION_OPENING_CHANNEL);
    expect(outcome).toEqual({ before: 3 * 256 * 256, strayHeld: false, preparedWhileOpening: false, after: 3 * 256 * 256 });
  });

  it("shows the previews of pictures decoded for the model, and loads cross-origin pictures answered from the cache (COEP credentialless)", async () => {
    const thumbs = (on: HPage) =>
      on.evaluate(() =>
        [...document.querySelectorAll<HTMLImageElement>('[data-testid=result] img')].map((img) => ({
          scheme: new URL(img.src).protocol,
          origin: new URL(img.src).origin,
          loaded: img.complete && img.naturalWidth > 0,
        })),
      );
    const allShown = async (on: HPage, colour: string) => {
      await searchRanking(on, colour);
      // Results that are no match wait behind "Show all N"; their thumbnails load once shown.
      await on.click('[data-testid=show-all]');
      return waitUntil('six loaded thumbnails', () => thumbs(on), (t) => t.length === 6 && t.every((x) => x.loaded), 20_000);
    };
    // Decoded for the model: the preview made then, no request from the popup.
    expect((await allShown(popup, 'blue')).map((t) => t.scheme)).toEqual(Array(6).fill('data:'));

    // In another tab, the page's pictures are answered from the cache: never decoded there, they
    // have no preview, and the popup loads them from the test server, another origin than its
    // own, which sends no CORP header.
    const again = await harness.openPage(`${server.origin}/colors.html`);
    const againPopup = await harness.openPage(popupPath(await harness.tabIdOf(again), POPUP));
    try {
      const shown = await allShown(againPopup, 'blue');
      expect(shown.every((t) => t.origin === server.origin), JSON.stringify(shown)).toBe(true);
    } finally {
      await againPopup.close();
      await again.close();
    }
  });

  it('creates the offscreen document again after it was closed', async () => {
    const [before] = await offscreenDocuments(harness);
    await harness.evalInExtension(() => (globalThis as unknown as { chrome: { offscreen: { closeDocument(): Promise<void> } } }).chrome.offscreen.closeDocument());
    expect(await offscreenDocuments(harness)).toEqual([]);
    // A query not asked before needs the text tower: the engine opens a new document for it.
    expect(colourOf((await searchRanking(popup, 'green'))[0])).toBe('green');
    const after = await offscreenDocuments(harness);
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(before);
    expect((await modelStatus(popup, tabId)).threads).toBe(Math.min(4, await popup.evaluate(() => navigator.hardwareConcurrency)));
  });

  it('keeps an idle document while a popup is open, closes it once none is, and opens a new one when needed', async () => {
    // What the document sends after IDLE_CLOSE_MS without requests (minutes: not waited for here).
    const reportIdle = () => inOffscreenDocument(harness, page, `chrome.runtime.sendMessage({ type: ${JSON.stringify(IDLE)} })`);
    const [before] = await offscreenDocuments(harness);
    await reportIdle();
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await offscreenDocuments(harness)).toEqual([before]);

    await popup.close();
    await reportIdle();
    await waitUntil('the idle document closed', () => offscreenDocuments(harness), (d) => d.length === 0, 20_000);
    popup = await harness.openPage(popupPath(tabId, POPUP));
    expect(colourOf((await searchRanking(popup, 'white'))[0])).toBe('white');
    expect(await offscreenDocuments(harness)).toHaveLength(1);
  });

  it('a restarted service worker reconnects to the document it left behind', async () => {
    const [before] = await offscreenDocuments(harness);
    const cdp = await harness.context.newCDPSession(harness.raw(popup));
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.stopAllWorkers');
    await cdp.detach();
    // The new worker starts with no index: the reloaded page reports its images again, and
    // indexing them and the query not asked before reach the document the old worker left.
    await page.goto(await page.url());
    await waitUntil(
      'all six images indexed again',
      () => popup.evaluate(() => (document.querySelector('[data-testid=progress]') as HTMLElement | null)?.dataset.done ?? ''),
      (done) => done === '6',
    );
    expect(colourOf((await searchRanking(popup, 'yellow'))[0])).toBe('yellow');
    expect(await offscreenDocuments(harness)).toEqual([before]);
  });
});

describe('Chromium: WASM in the service worker when the offscreen document cannot be had', () => {
  let harness: ChromiumHarness;
  let server: Server;

  beforeAll(async () => {
    server = await startServer();
    harness = await launchChromium(CHROME_DIR);
  });
  afterAll(async () => {
    await harness?.close();
    await server?.close();
  });

  it('falls back to one thread in the worker and still searches', async () => {
    // An extension has one offscreen document at most: with another page in that place
    // before the model loads, the engine cannot create its own.
    await harness.evalInExtension((url) => {
      const api = (globalThis as unknown as { chrome: { offscreen: { createDocument(p: object): Promise<void> } } }).chrome;
      return api.offscreen.createDocument({ url, reasons: ['DOM_PARSER'], justification: 'e2e: occupy the offscreen slot' });
    }, 'src/options/options.html');
    const page = await harness.openPage(`${server.origin}/colors.html`);
    const tabId = await harness.tabIdOf(page);
    const popup = await harness.openPage(popupPath(tabId, POPUP));
    await waitUntil(
      'all six images indexed',
      () => popup.evaluate(() => (document.querySelector('[data-testid=progress]') as HTMLElement | null)?.dataset.done ?? ''),
      (done) => done === '6',
    );
    expect(colourOf((await searchRanking(popup, 'red'))[0])).toBe('red');
    const status = await modelStatus(popup, tabId);
    expect(status.backend).toBe('wasm');
    expect(status.threads).toBe(1);
    // Still only the page that held the slot.
    const urls = await harness.evalInExtension(async () => {
      const api = (globalThis as unknown as { chrome: { runtime: { getContexts(f: object): Promise<{ documentUrl: string }[]> } } }).chrome;
      return (await api.runtime.getContexts({ contextTypes: ['OFFSCREEN_DOCUMENT'] })).map((c) => new URL(c.documentUrl).pathname);
    });
    expect(urls).toEqual(['/src/options/options.html']);
  });
});
