// A service worker stopped while a tab was indexing (popup closed) resumes that tab on its own:
// the tabs asked for are kept in storage.session, and the restarted worker asks their pages to
// report again. With background indexing off, nothing else would index the tab.
import { describe, expect, it } from 'vitest';
import { launchChromium, popupPath, stopServiceWorkers, type ChromiumHarness } from './browsers';
import { CHROME_DIR, POPUP, requireTestBuild, useServerAndBrowser, waitUntil } from './test-build';

const IMAGES = 12;

describe('chromium: recovery after a worker restart', () => {
  const { server, harness } = useServerAndBrowser(async () => {
    requireTestBuild();
    return launchChromium(CHROME_DIR, { indexInBackground: false });
  });

  it('a tab that was indexing resumes without its popup', async () => {
    const h = harness() as ChromiumHarness;
    const params = new URLSearchParams();
    // Slow images: indexing is still under way when the worker stops.
    for (let i = 0; i < IMAGES; i++) params.append('img', `/img/solid/${(0x203040 + i * 0x0a0b0c).toString(16)}.png?delay=1500&case=recovery&i=${i}`);
    const page = await h.openPage(`${server().origin}/generated/page.html?${params}`);
    const popup = await h.openPage(popupPath(await h.tabIdOf(page), POPUP));
    const fetched = () => server().log.filter((r) => r.dest === 'empty' && r.url.includes('case=recovery'));
    await waitUntil('the extension started fetching', async () => fetched().length, (n) => n > 0, 30_000);
    await popup.close();

    await stopServiceWorkers(h);
    const before = new Set(fetched().map((r) => r.url));
    const stoppedAt = fetched().length;
    expect(before.size).toBeLessThan(IMAGES);
    // The worker wakes for the page's next message or our probe (no popup), and picks the tab up again.
    await h.serviceWorker();
    const all = await waitUntil('every image fetched after the restart', async () => new Set(fetched().map((r) => r.url)).size, (n) => n === IMAGES, 60_000);
    const after = fetched().slice(stoppedAt).map((r) => r.url);
    console.log(`[chromium] recovery: ${before.size} images fetched before the stop, ${after.length} fetches after it, ${all} in all`);
    for (const url of fetched().map((r) => r.url)) if (!before.has(url)) expect(after).toContain(url);
    await page.close();
  });
});
