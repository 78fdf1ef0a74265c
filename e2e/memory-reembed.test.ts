// The visual memory after a model change, and the background-indexing offer, in Chromium:
//   - turning history on (options page, or the popup's first use of "Everything seen") offers
//     background indexing; accepting sets the option; background indexing leaves a tab opened in the
//     background alone until it is shown, and pauses a page while another tab is in front;
//   - pages remembered with one model are counted in "Everything seen" under another, and the
//     re-embed job fetches their pictures again, embeds them with the current model, reports the
//     picture whose address is gone, and the pages are then found.
// Two models: the bundled 'fixture' and 'fixture-download' (the same files under another id,
// served by e2e/hf-server.ts): embeddings are stored per model id, so nothing of the first is
// searchable under the second until re-embedded.
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, popupPath, type Harness, type HPage } from './browsers';
import { startHfServer, type HfServer } from './hf-server';
import { requireModel } from '../src/engine/registry';
import { openIndexed, setScope, setSettings, shownResults, waitRecorded } from './memory-helpers';
import { startServer } from './server';
import { CHROME_DIR, POPUP, requireTestBuild, waitUntil } from './test-build';

const OPTIONS = 'src/options/options.html';

async function storedSettings(harness: Harness): Promise<Record<string, unknown>> {
  return harness.evalInExtension(async () => {
    const api = ((globalThis as any).browser ?? (globalThis as any).chrome) as any;
    return ((await api.storage.local.get('settings')).settings ?? {}) as Record<string, unknown>;
  });
}

interface ReembedShown {
  state: string;
  done: string;
  total: string;
  unreachable: string;
  otherPages: string;
  text: string;
}

function reembedShown(popup: HPage): Promise<ReembedShown | null> {
  return popup.evaluate(() => {
    const box = document.querySelector<HTMLElement>('[data-testid=reembed]');
    if (!box) return null;
    const count = box.querySelector<HTMLElement>('[data-testid=other-model-pages]');
    return { state: box.dataset.state ?? '', done: box.dataset.done ?? '', total: box.dataset.total ?? '', unreachable: box.dataset.unreachable ?? '', otherPages: count?.dataset.count ?? '0', text: box.textContent ?? '' };
  });
}

async function search(popup: HPage, query: string): Promise<void> {
  await popup.fill('[data-testid=search-input]', '');
  await popup.fill('[data-testid=search-input]', query);
}

requireTestBuild();

describe('visual memory: model change and background-indexing offer (Chromium)', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let hf: HfServer;
  beforeAll(async () => {
    server = await startServer();
    // The registry pins the fixture's files to a commit: the only revision the local hub serves.
    hf = await startHfServer(resolve('models/fixture'), 'local/fixture', requireModel('fixture-download').source!.revision);
  });
  afterAll(async () => {
    await hf?.close();
    await server?.close();
  });

  it('turning history on offers background indexing; accepting sets the option (options page and popup)', async () => {
    const harness = await launchChromium(CHROME_DIR, { indexInBackground: false });
    try {
      const options = await harness.openPage(OPTIONS);
      await options.waitFor('[data-testid=history-enabled]');
      expect(await options.evaluate(() => document.querySelectorAll('[data-testid=background-indexing-offer]').length)).toBe(0);
      await options.click('[data-testid=history-enabled]');
      await options.waitFor('[data-testid=background-indexing-offer]');
      expect(await options.text('[data-testid=background-indexing-offer]')).toContain('tabs opened in the background only once you look at them');
      await options.click('[data-testid=accept-background-indexing]');
      expect(await waitUntil('the option saved', () => storedSettings(harness), (s) => s.indexInBackground === true, 10_000)).toMatchObject({ historyEnabled: true });
      expect(await options.evaluate(() => document.querySelector<HTMLInputElement>('#index-in-background')!.checked)).toBe(true);

      // The popup's first use of "Everything seen", from both settings off.
      await setSettings(harness, { historyEnabled: false, indexInBackground: false });
      const page = await harness.openPage(`${server.origin}/memory-other.html`);
      const popup = await harness.openPage(popupPath(await harness.tabIdOf(page), POPUP));
      await setScope(popup, 'all');
      await popup.waitFor('[data-testid=enable-history]');
      await popup.click('[data-testid=enable-history]');
      await popup.waitFor('[data-testid=background-indexing-offer]');
      await popup.click('[data-testid=accept-background-indexing]');
      expect(await waitUntil('the option saved from the popup', () => storedSettings(harness), (s) => s.indexInBackground === true, 10_000)).toMatchObject({ historyEnabled: true });
    } finally {
      await harness.close();
    }
  });

  it('background indexing leaves a tab opened in the background alone until it is shown', async () => {
    const harness = await launchChromium(CHROME_DIR); // background indexing on
    try {
      const embeddings = () =>
        harness.evalInExtension(
          () =>
            new Promise<number>((done, fail) => {
              const open = indexedDB.open('mobileclip-lens');
              open.onsuccess = () => {
                const count = open.result.transaction('embeddings').objectStore('embeddings').count();
                count.onsuccess = () => done(count.result);
                count.onerror = () => fail(count.error);
              };
              open.onerror = () => fail(open.error);
            }),
        );
      await harness.openPage(`${server.origin}/colors.html`); // shown: indexed unasked
      await waitUntil('the shown tab indexed', embeddings, (n) => n === 6, 60_000);
      const hiddenUrl = `${server.origin}/memory-other.html`;
      const tabId = await harness.evalInExtension(async (url) => ((await (globalThis as any).chrome.tabs.create({ url, active: false })) as { id: number }).id, hiddenUrl);
      await waitUntil(
        'the hidden tab loaded',
        () => harness.evalInExtension(async (id) => ((await (globalThis as any).chrome.tabs.get(id)) as { status: string }).status, tabId),
        (status) => status === 'complete',
        20_000,
      );
      // Its content script reports its images at load; give the indexer ample time to (wrongly) start.
      await new Promise((r) => setTimeout(r, 3_000));
      expect(await embeddings()).toBe(6);
      await harness.evalInExtension(async (id) => void (await (globalThis as any).chrome.tabs.update(id, { active: true })), tabId);
      await waitUntil('the tab indexed once shown', embeddings, (n) => n === 9, 60_000);
    } finally {
      await harness.close();
    }
  });

  it('background indexing pauses a page while another tab is in front, and resumes it when shown again', async () => {
    const harness = await launchChromium(CHROME_DIR); // background indexing on
    try {
      // A slow image host: the page's pictures are still being fetched when the tab is hidden.
      const count = 32; // distinct six-digit colours
      const images = Array.from({ length: count }, (_, i) => `${server.origin}/img/solid/${(0x203040 + i * 0x050607).toString(16)}.png?delay=1500&paused=${i}`);
      const params = new URLSearchParams();
      // Added after the load event: opening the page does not wait for the slow pictures, so the
      // tab is hidden while most of them are still to be fetched.
      for (const image of images) params.append('late', image);
      const fetched = () => server.log.filter((r) => r.dest === 'empty' && r.url.includes('&paused=')).length;
      const page = await harness.openPage(`${server.origin}/generated/page.html?${params}`); // shown: indexed unasked
      const tabId = await harness.tabIdOf(page);
      await waitUntil('the shown tab being indexed', async () => fetched(), (n) => n > 0, 60_000);
      // Another tab to the front of the same window (playwright's new pages need not share it).
      await harness.evalInExtension(async (args) => {
        const api = (globalThis as any).chrome;
        const { windowId } = (await api.tabs.get(args.tabId)) as { windowId: number };
        await api.tabs.create({ windowId, url: args.url, active: true });
      }, { tabId, url: `${server.origin}/healthz` });
      // Images in flight finish (each answers after its delay, a few hosts' connections at a time:
      // up to two batches per tab, see indexer.ts); no new one starts after them.
      let whenHidden = fetched();
      for (let quiet = 0; quiet < 3; ) {
        await new Promise((r) => setTimeout(r, 1_000));
        const now = fetched();
        quiet = now === whenHidden ? quiet + 1 : 0;
        whenHidden = now;
      }
      expect(whenHidden).toBeLessThan(count);
      await new Promise((r) => setTimeout(r, 5_000));
      expect(fetched()).toBe(whenHidden);
      await harness.evalInExtension(async (id) => void (await (globalThis as any).chrome.tabs.update(id, { active: true })), tabId);
      await waitUntil('the page indexed on once shown again', async () => fetched(), (n) => n >= count, 90_000);
    } finally {
      await harness.close();
    }
  });

  it('pages of another model are counted, re-embedded from their addresses on request, and found after', async () => {
    const harness = await launchChromium(CHROME_DIR);
    try {
      const colours = `${server.origin}/colors.html`;
      await setSettings(harness, { historyEnabled: true });
      const seen = await openIndexed(harness, colours, 6);
      await waitRecorded(harness, colours);
      await seen.popup.close();
      await seen.page.close();
      // One more picture on that page whose address has gone since (the server answers 404).
      await harness.evalInExtension(
        (args) =>
          new Promise<void>((done, fail) => {
            const open = indexedDB.open('mobileclip-lens');
            open.onsuccess = () => {
              const tx = open.result.transaction('pages', 'readwrite');
              const pages = tx.objectStore('pages');
              const get = pages.get(args.url);
              get.onsuccess = () => {
                const page = get.result;
                const sha256 = 'ab'.repeat(32);
                page.images.push({ sha256, src: args.gone, alt: 'removed', width: 100, height: 100 });
                page.hashes.push(sha256);
                pages.put(page);
              };
              tx.oncomplete = () => done();
              tx.onerror = () => fail(tx.error);
            };
          }),
        { url: colours, gone: `${server.origin}/img/removed-since.png` },
      );

      // Another model: the same files under another id, downloaded from the local HF server, as
      // the Models section's "Use" with the download agreed to asks for it.
      await setSettings(harness, { modelBaseUrl: hf.origin });
      const control = await harness.openPage('src/options/options.html');
      const answer = await control.evaluate(() => ((globalThis as any).browser ?? (globalThis as any).chrome).runtime.sendMessage({ type: 'model-use', id: 'fixture-download', download: true }));
      expect(answer).toMatchObject({ ok: true });
      await waitUntil('the switch to the other model', () => control.evaluate(async () => (await ((globalThis as any).browser ?? (globalThis as any).chrome).storage.local.get('settings')).settings?.modelId), (id) => id === 'fixture-download', 60_000);
      await control.close();
      const { popup } = await openIndexed(harness, `${server.origin}/memory-other.html`, 3);
      await setScope(popup, 'all');
      await search(popup, 'red');
      const before = await waitUntil('the other-model count', () => reembedShown(popup), (r) => Number(r?.otherPages ?? 0) >= 1, 60_000);
      expect(before!.state).toBe('none');
      expect(before!.text).toMatch(/not yet embedded with the current model/);
      expect((await shownResults(popup)).some((r) => r.pageUrl === colours)).toBe(false);

      await popup.click('[data-testid=reembed-start]');
      const after = await waitUntil('the re-embedding finished', () => reembedShown(popup), (r) => r?.state === 'done', 60_000);
      expect(after).toMatchObject({ done: after!.total, unreachable: '1' });
      expect(Number(after!.total)).toBeGreaterThanOrEqual(1);
      expect(after!.text).toContain('1 image could not be fetched again.');
      expect(after!.text).toMatch(/Re-embedded \d+ pages?\./);

      await search(popup, 'red');
      const found = await waitUntil('the re-embedded page found', () => shownResults(popup), (r) => r.some((x) => x.pageUrl === colours), 30_000);
      expect(found.find((x) => x.pageUrl === colours)!.src).toBe(`${server.origin}/img/solid/red.png?w=160&h=120`);
    } finally {
      await harness.close();
    }
  });
});
