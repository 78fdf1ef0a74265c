// The visual memory in real browsers: revisits that do no work (no inference, and with HTTP
// validators no image download), "Everything seen" across tabs and browser restarts, the size
// budget, private windows that write nothing, and export → import into a fresh profile.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, launchFirefox, popupPath, type ChromiumHarness, type Harness } from './browsers';
import { idbDump, indexStats, openIndexed, request, searchOtherPages, setScope, setSettings, shownResults, waitRecorded, type Shown } from './memory-helpers';
import { startServer, validatorLog } from './server';
import { CHROME_DIR, FIREFOX_DIR, FIREFOX_ID, POPUP, requireTestBuild, waitUntil } from './test-build';

const FIREFOX_UUID = '0d6c1a52-7c0e-4c1e-9f0a-6a3e5b2c4d71';
type Server = Awaited<ReturnType<typeof startServer>>;

requireTestBuild();

describe('visual memory (Chromium)', () => {
  let server: Server;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => server?.close());

  it('a revisit embeds nothing, and with validators downloads no image (304)', async () => {
    const harness = await launchChromium(CHROME_DIR);
    try {
      const url = `${server.origin}/memory-etag.html`;
      const first = await openIndexed(harness, url, 4);
      expect((await indexStats(first.popup)).embedded).toBe(4);
      await first.popup.close();
      await first.page.close();

      // Within the freshness window: no request at all, everything from the cache.
      validatorLog.length = 0;
      const second = await openIndexed(harness, url, 4);
      expect(await waitUntil('stats', () => indexStats(second.popup), (s) => s.fromCache === 4)).toEqual({ embedded: 0, fromCache: 4 });
      expect(validatorLog.filter((e) => e.dest !== 'image')).toEqual([]);
      await second.popup.close();
      await second.page.close();

      // Past it (records aged in IndexedDB, and a restarted worker with no memory): a conditional request each, answered 304.
      await harness.evalInExtension(
        () =>
          new Promise<void>((resolve, reject) => {
            const open = indexedDB.open('mobileclip-lens');
            open.onsuccess = () => {
              const tx = open.result.transaction('urls', 'readwrite');
              const cursor = tx.objectStore('urls').openCursor();
              cursor.onsuccess = () => {
                const c = cursor.result;
                if (!c) return;
                c.update({ ...c.value, fetchedAt: c.value.fetchedAt - 3 * 24 * 3600 * 1000 });
                c.continue();
              };
              tx.oncomplete = () => resolve();
              tx.onerror = () => reject(tx.error);
            };
          }),
      );
      validatorLog.length = 0;
      const third = await openIndexed(harness, url, 4);
      expect(await waitUntil('stats', () => indexStats(third.popup), (s) => s.fromCache === 4)).toEqual({ embedded: 0, fromCache: 4 });
      const fromExtension = validatorLog.filter((e) => e.dest !== 'image');
      expect(fromExtension.map((e) => e.status)).toEqual([304, 304, 304, 304]);
      expect(fromExtension.every((e) => e.conditional && e.bytes === 0)).toBe(true);
    } finally {
      await harness.close();
    }
  });

  it('"Everything seen" finds a picture of a page seen earlier in another tab, also after a restart', async () => {
    const profile = await mkdtemp(join(tmpdir(), 'e2e-memory-profile-'));
    try {
      const colours = `${server.origin}/colors.html`;
      const other = `${server.origin}/memory-other.html`;
      let harness = await launchChromium(CHROME_DIR, { userDataDir: profile });
      try {
        await setSettings(harness, { historyEnabled: true });
        const seen = await openIndexed(harness, colours, 6);
        await waitRecorded(harness, colours);
        await seen.popup.close();
        await seen.page.close();
        const { popup } = await openIndexed(harness, other, 3);
        const results = await searchOtherPages(popup, 'red', 'all');
        expect(results[0]).toMatchObject({ src: `${server.origin}/img/solid/red.png?w=160&h=120`, pageUrl: colours });
        expect(await popup.text('[data-testid=result][data-page-url] [data-testid=result-page]')).toContain('Colour swatches');
      } finally {
        await harness.close();
      }
      harness = await launchChromium(CHROME_DIR, { userDataDir: profile });
      try {
        const { popup } = await openIndexed(harness, other, 3);
        const results = await searchOtherPages(popup, 'red', 'all');
        expect(results[0]).toMatchObject({ src: `${server.origin}/img/solid/red.png?w=160&h=120`, pageUrl: colours });
        // A click opens that page.
        await popup.click('[data-testid=result][data-page-url]');
        await waitUntil('the page opened', () => harness.evalInExtension(async (u) => ((await (globalThis as any).chrome.tabs.query({})) as { url?: string }[]).some((t) => t.url === u), colours), (ok) => ok, 20_000);
      } finally {
        await harness.close();
      }
    } finally {
      await rm(profile, { recursive: true, force: true });
    }
  });

  it('"Open tabs" ranks another open tab\'s pictures', async () => {
    const harness = await launchChromium(CHROME_DIR);
    try {
      await openIndexed(harness, `${server.origin}/colors.html`, 6);
      const { popup } = await openIndexed(harness, `${server.origin}/memory-other.html`, 3);
      const results = await searchOtherPages(popup, 'red', 'tabs');
      expect(results[0]).toMatchObject({ pageUrl: `${server.origin}/colors.html` });
    } finally {
      await harness.close();
    }
  });

  it('evicts the least recently used under a small budget, and the current page stays searchable', async () => {
    const harness = await launchChromium(CHROME_DIR);
    try {
      await setSettings(harness, { historyEnabled: true });
      await openIndexed(harness, `${server.origin}/colors.html`, 6);
      const second = await openIndexed(harness, `${server.origin}/memory-other.html`, 3);
      await waitRecorded(harness, `${server.origin}/memory-other.html`);
      type Usage = { persistent: { totalBytes: number; budgetBytes: number; stores: Record<string, { count: number; bytes: number }> } };
      const before = (await request<Usage>(second.popup, { type: 'memory-usage' })).persistent;
      expect(before.stores.embeddings.count).toBe(9);
      // A budget of what is stored now: the next page's writes must evict older records.
      const budget = before.totalBytes;
      await setSettings(harness, { memoryBudgetMB: budget / (1024 * 1024) });
      await waitUntil('the budget applied', async () => (await request<Usage>(second.popup, { type: 'memory-usage' })).persistent.budgetBytes, (b) => b === budget, 10_000);
      const { popup } = await openIndexed(harness, `${server.origin}/memory-etag.html`, 4);
      const after = (await request<Usage>(popup, { type: 'memory-usage' })).persistent;
      expect(after.totalBytes).toBeLessThanOrEqual(budget);
      expect(after.stores.embeddings.count).toBeLessThan(13);
      // The newest page's embeddings were used last: they stay.
      expect(after.stores.embeddings.count).toBeGreaterThanOrEqual(4);
      await popup.fill('[data-testid=search-input]', 'green');
      const ranked = await waitUntil('4 results', () => shownResults(popup), (r) => r.length === 4);
      expect(ranked[0].src).toContain('green');
    } finally {
      await harness.close();
    }
  });

  it('a private window writes nothing to IndexedDB', async () => {
    const { harness, profile } = await launchAllowedInIncognito();
    try {
      await setSettings(harness, { historyEnabled: true });
      // Something stored first, so "nothing changed" compares real contents.
      const normal = await openIndexed(harness, `${server.origin}/colors.html`, 6);
      await waitRecorded(harness, `${server.origin}/colors.html`);
      await normal.popup.close();
      const before = await idbDump(harness);
      const url = `${server.origin}/memory-etag.html`;
      const tabId = await harness.evalInExtension(async (u) => ((await (globalThis as any).chrome.windows.create({ incognito: true, url: u })) as { tabs: { id: number }[] }).tabs[0].id, url);
      const popup = await harness.openPage(popupPath(tabId, POPUP));
      await waitUntil('4 private images indexed', () => popup.evaluate(() => (document.querySelector('[data-testid=progress]') as HTMLElement).dataset.done ?? ''), (d) => d === '4');
      await popup.fill('[data-testid=search-input]', 'green');
      await waitUntil('results', () => shownResults(popup), (r) => r.length === 4);
      await new Promise((r) => setTimeout(r, 3000)); // past the page recorder's delay
      expect(await idbDump(harness)).toEqual(before);
    } finally {
      await harness.close();
      await rm(profile, { recursive: true, force: true });
    }
  });

  it('export, then import into a fresh profile, reproduces the same "Everything seen" results', async () => {
    const colours = `${server.origin}/colors.html`;
    const other = `${server.origin}/memory-other.html`;
    const rankedIn = async (harness: Harness) => {
      const { popup } = await openIndexed(harness, other, 3);
      await searchOtherPages(popup, 'red', 'all');
      return waitUntil('history results', () => shownResults(popup), (r) => r.filter((x) => x.pageUrl === colours).length === 6);
    };
    let text: string;
    let expected: Shown[];
    let harness: ChromiumHarness = await launchChromium(CHROME_DIR);
    try {
      await setSettings(harness, { historyEnabled: true });
      const seen = await openIndexed(harness, colours, 6);
      await waitRecorded(harness, colours);
      await seen.page.close();
      expected = await rankedIn(harness);
      text = (await request<{ text: string }>(seen.popup, { type: 'memory-export' })).text;
    } finally {
      await harness.close();
    }
    harness = await launchChromium(CHROME_DIR);
    try {
      await setSettings(harness, { historyEnabled: true });
      const options = await harness.openPage('src/options/options.html');
      const counts = await request<{ added: number; skipped: number }>(options, { type: 'memory-import', text });
      expect(counts.added).toBeGreaterThan(0);
      expect((await request<{ added: number; skipped: number }>(options, { type: 'memory-import', text })).added).toBe(0);
      const again = await rankedIn(harness);
      const fromHistory = (r: Shown[]) => r.filter((x) => x.pageUrl === colours).map((x) => [x.src, x.score]);
      expect(fromHistory(again)).toEqual(fromHistory(expected));
    } finally {
      await harness.close();
    }
  });
});

/**
 * Chromium with the extension allowed in incognito, as a person allows it in chrome://extensions.
 * The switch there reloads the extension, which Chromium then disables for having come from the
 * command line; so the profile is prepared instead: first run, the setting, second run.
 */
async function launchAllowedInIncognito(): Promise<{ harness: ChromiumHarness; profile: string }> {
  const profile = await mkdtemp(join(tmpdir(), 'e2e-memory-incognito-'));
  const first = await launchChromium(CHROME_DIR, { userDataDir: profile });
  const id = first.extensionId;
  await first.close();
  const preferences = join(profile, 'Default', 'Preferences');
  const prefs = JSON.parse(await readFile(preferences, 'utf8'));
  prefs.extensions.settings[id].incognito = true;
  await writeFile(preferences, JSON.stringify(prefs));
  return { harness: await launchChromium(CHROME_DIR, { userDataDir: profile }), profile };
}

describe('visual memory (Firefox)', () => {
  let server: Server;
  let harness: Harness;
  beforeAll(async () => {
    server = await startServer();
    harness = await launchFirefox(FIREFOX_DIR, { addonId: FIREFOX_ID, uuid: FIREFOX_UUID, controlPath: 'src/options/options.html' });
  });
  afterAll(async () => {
    await harness?.close();
    await server?.close();
  });

  it('a revisit embeds nothing; "Everything seen" finds a page seen earlier', async () => {
    await setSettings(harness, { historyEnabled: true });
    const colours = `${server.origin}/colors.html`;
    const first = await openIndexed(harness, colours, 6);
    await waitRecorded(harness, colours);
    await first.popup.close();
    await first.page.close();
    const again = await openIndexed(harness, colours, 6);
    expect(await waitUntil('stats', () => indexStats(again.popup), (s) => s.fromCache === 6)).toEqual({ embedded: 0, fromCache: 6 });
    await again.popup.close();
    await again.page.close();
    const { popup } = await openIndexed(harness, `${server.origin}/memory-other.html`, 3);
    const results = await searchOtherPages(popup, 'red', 'all');
    expect(results[0]).toMatchObject({ src: `${server.origin}/img/solid/red.png?w=160&h=120`, pageUrl: colours });
  });
});
