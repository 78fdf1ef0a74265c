// The content script must not make a big page janky: on a generated page of 5,000 images, no
// long task (>50 ms on the page's main thread) of ours while it discovers and reports them, and
// every image is reported (no silent cap). Chromium only: Firefox has no long-task observer.
// Long-task entries do not name their script, so the test build's content script logs its own
// longest uninterrupted stretch per scan (TimeSlicer: from one yield to the next, forced style and
// layout included) with the steps of any stretch of 20 ms or more; the page's long tasks, and the
// long animation frames our scripts ran in, are reported alongside.
import { cpus, loadavg } from 'node:os';
import { describe, expect, it } from 'vitest';
import { launchChromium, popupPath } from './browsers';
import { CHROME_DIR, POPUP, requireTestBuild, useServerAndBrowser, waitUntil } from './test-build';

const IMAGES = 5_000;
const LONG_TASK_MS = 50;
/** The bound on a machine whose load exceeds its cores (see the assertion). */
const LOADED_BOUND_MS = 100;

requireTestBuild();

describe('long tasks on a 5,000-image page (Chromium)', () => {
  const running = useServerAndBrowser(() => launchChromium(CHROME_DIR));

  it('reports every image, and every stretch of our scans stays under 50 ms', async () => {
    const harness = running.harness();
    const server = running.server();
    const page = await harness.openPage(`${server.origin}/generated/images.html?n=${IMAGES}`);
    const tabId = await harness.tabIdOf(page);
    const popup = await harness.openPage(popupPath(tabId, POPUP));
    // The count as a number (the text is formatted for the UI language: "5,000").
    const count = () => popup.evaluate(() => (document.querySelector('[data-testid=image-count]') as HTMLElement | null)?.dataset.count ?? '');
    const found = await waitUntil(`${IMAGES} images found`, count, (t) => t === String(IMAGES), 90_000).catch(count);
    // Images finish loading after the first report: let the rescans they cause run too.
    await new Promise((r) => setTimeout(r, 5_000));
    const timeline = await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      return {
        longTasks: (window as unknown as { __longTasks: { start: number; duration: number }[] }).__longTasks,
        // Long animation frames name the scripts that ran in them: ours are the extension's.
        ourScriptsInLongFrames: (window as unknown as { __longFrames: { scripts: { url: string; duration: number; forcedStyleAndLayout: number }[] }[] }).__longFrames
          .flatMap((f) => f.scripts)
          .filter((s) => /^(chrome|moz)-extension:/.test(s.url))
          .map((s) => ({ duration: Math.round(s.duration), forced: Math.round(s.forcedStyleAndLayout) })),
        domContentLoaded: nav.domContentLoadedEventEnd,
        visibility: document.visibilityState,
        scans: JSON.parse(document.documentElement.dataset.lensScans ?? '[]') as { longestSliceMs: number; slices: number; busyMs: number; noted: unknown }[],
      };
    });
    const afterLoad = timeline.longTasks.filter((t) => t.start >= timeline.domContentLoaded).map((t) => Math.round(t.duration));
    const stretches = timeline.scans.map((s) => s.longestSliceMs);
    const longest = Math.max(...stretches);
    console.log(
      `[long tasks] ${IMAGES} images, popup count ${found}, page ${timeline.visibility}; page long tasks after DOMContentLoaded (ms): ${JSON.stringify(afterLoad)}; ` +
        `our longest stretch per scan (ms): ${JSON.stringify(stretches)}, max ${longest}; stretches of 20 ms or more and their steps: ${JSON.stringify(timeline.scans.map((s) => s.noted))}; ` +
        `our scripts in long animation frames: ${JSON.stringify(timeline.ourScriptsInLongFrames)}; first scans: ${JSON.stringify(timeline.scans.slice(0, 3))}`,
    );
    expect(found).toBe(String(IMAGES));
    expect(timeline.scans.length).toBeGreaterThan(0);
    // Every stretch, not a typical one. Stretches aim at 8 ms and start after the page's rendering
    // (no forced style or layout flush), but they are wall time: on a machine running more than
    // it has cores, other processes' turns (and the page's garbage collections) land inside them.
    // Measured on a shared 2-core machine at a load of about 3: maxima of 14, 28, 30 and once
    // 66 ms. So the 50 ms bound is asserted when the machine is not overloaded, and 100 ms (the
    // stated slack) when it is. The browser's own attribution is held to 50 ms either way: no long
    // animation frame has a script of ours running for 50 ms.
    const loadPerCore = loadavg()[0] / cpus().length;
    const bound = loadPerCore < 1 ? LONG_TASK_MS : LOADED_BOUND_MS;
    console.log(`[long tasks] longest stretch ${longest} ms at a load of ${loadPerCore.toFixed(2)} per core: bound ${bound} ms`);
    expect(longest).toBeLessThan(bound);
    for (const script of timeline.ourScriptsInLongFrames) expect(script.duration).toBeLessThan(LONG_TASK_MS);
    await popup.close();
    await page.close();
  });
});
