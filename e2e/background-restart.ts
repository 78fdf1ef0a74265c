// Restarting the extension's background the way each browser does it on its own, for tests of
// what survives a restart (Cache Storage, storage.local) and what does not (anything in memory).
import { expect } from 'vitest';
import { stopServiceWorkers, type ChromiumHarness, type FirefoxHarness, type Harness } from './browsers';
import { waitUntil } from './test-build';

const OPTIONS = 'src/options/options.html';

/** Stops the MV3 service worker; a marker set in the old worker proves the new one is fresh. */
export async function restartChromiumWorker(harness: Harness): Promise<void> {
  const h = harness as ChromiumHarness;
  await h.evalInExtension(() => {
    (globalThis as Record<string, unknown>).__e2eOldWorker = true;
  });
  await stopServiceWorkers(h);
  expect(await h.evalInExtension(() => (globalThis as Record<string, unknown>).__e2eOldWorker ?? false)).toBe(false);
}

interface FirefoxRuntime {
  runtime: { reload(): void; getBackgroundPage(): Promise<Record<string, unknown> | null> };
}

/**
 * Reloads the add-on: the event page starts over (same moz-extension origin, same Cache Storage).
 * A marker set on the old event page's window proves the new one is fresh.
 */
export async function restartFirefoxBackground(harness: Harness): Promise<void> {
  const h = harness as FirefoxHarness;
  const options = await h.openPage(OPTIONS);
  const marked = await options.evaluate(async () => {
    const bg = await (globalThis as unknown as { browser: FirefoxRuntime }).browser.runtime.getBackgroundPage();
    if (bg) bg.__e2eOldBackground = true;
    return !!bg;
  });
  expect(marked).toBe(true);
  await options
    .evaluate(() => {
      (globalThis as unknown as { browser: FirefoxRuntime }).browser.runtime.reload();
    })
    .catch(() => undefined); // the page goes away with the reload
  // Wait until the extension answers again, from a new page, with a new event page.
  const fresh = await waitUntil(
    'the add-on back after reload',
    async () => {
      const p = await h.openPage(OPTIONS).catch(() => undefined);
      if (!p) return 'no page';
      const state = await p
        .evaluate(async () => {
          const bg = await (globalThis as unknown as { browser: FirefoxRuntime }).browser.runtime.getBackgroundPage();
          return bg ? (bg.__e2eOldBackground === true ? 'old' : 'fresh') : 'none';
        })
        .catch((e: unknown) => String(e));
      await p.close().catch(() => undefined);
      return state;
    },
    (state) => state === 'fresh',
    30_000,
  );
  expect(fresh).toBe('fresh');
}
