// Firefox runs ORT on one thread (no SharedArrayBuffer in its event page), so a second vision
// session in a Worker runs half of each batch of images (src/offscreen/vision-lanes.ts): it opens
// after the page's first images, and a batch split between the two sessions gives every image the
// rows one session gives it alone, in the same order.
import { describe, expect, it } from 'vitest';
import { launchFirefox, popupPath } from './browsers';
import { FIREFOX_DIR, FIREFOX_ID, POPUP, requireTestBuild, useServerAndBrowser, waitUntil } from './test-build';

const FIREFOX_UUID = '3c2b1a0f-4e5f-4061-8c7d-9e0f1a2b3c4d';

requireTestBuild();

interface LensTest {
  embedPixels(pixels: Float32Array, count: number): Promise<Float32Array[]>;
  visionSessions(): Promise<number>;
}
interface FirefoxRuntime {
  runtime: { getBackgroundPage(): Promise<{ __lensTest?: LensTest; Float32Array: Float32ArrayConstructor } | null> };
}

describe('Firefox: images on two vision sessions', () => {
  const running = useServerAndBrowser(() => launchFirefox(FIREFOX_DIR, { addonId: FIREFOX_ID, uuid: FIREFOX_UUID, controlPath: 'src/options/options.html' }));

  it('opens the second session after the first images; a split batch gives each image its rows alone, in order', async () => {
    const harness = running.harness();
    const page = await harness.openPage(`${running.server().origin}/colors.html`);
    const popup = await harness.openPage(popupPath(await harness.tabIdOf(page), POPUP));
    await waitUntil(
      'all six images indexed',
      () => popup.evaluate(() => (document.querySelector('[data-testid=progress]') as HTMLElement | null)?.dataset.done ?? ''),
      (done) => done === '6',
    );
    const cores = await popup.evaluate(() => navigator.hardwareConcurrency);
    expect(cores).toBeGreaterThanOrEqual(2);
    const sessions = () =>
      harness.evalInExtension(async () => {
        const background = await (globalThis as unknown as { browser: FirefoxRuntime }).browser.runtime.getBackgroundPage();
        return (await background?.__lensTest?.visionSessions()) ?? 0;
      });
    await waitUntil('the second vision session open', sessions, (n) => n === 2);

    const rows = await harness.evalInExtension(async (size) => {
      const background = (await (globalThis as unknown as { browser: FirefoxRuntime }).browser.runtime.getBackgroundPage())!;
      const test = background.__lensTest!;
      // Made in the background's realm: ORT checks the pixels' type with instanceof there.
      const Floats = background.Float32Array;
      const plane = size * size;
      // Five flat colours, CHW in [0, 1]: a batch of five is split three and two.
      const colours = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0.2, 0.4, 0.6]];
      const pixels = new Floats(colours.length * 3 * plane);
      colours.forEach((rgb, i) => rgb.forEach((v, c) => pixels.fill(v, (i * 3 + c) * plane, (i * 3 + c + 1) * plane)));
      const together = await test.embedPixels(pixels, colours.length);
      const alone: Float32Array[] = [];
      for (let i = 0; i < colours.length; i++) alone.push((await test.embedPixels(pixels.slice(i * 3 * plane, (i + 1) * 3 * plane), 1))[0]);
      return { together: together.map((r) => [...r]), alone: alone.map((r) => [...r]) };
    }, 256);
    expect(rows.together).toHaveLength(5);
    rows.together.forEach((row, i) => {
      const difference = Math.max(...row.map((v, k) => Math.abs(v - rows.alone[i][k])));
      expect(difference, `image ${i}`).toBeLessThan(1e-5);
    });
    // Distinct images, distinct rows: a swapped half would not pass the check above.
    expect(new Set(rows.together.map((r) => r.map((v) => v.toFixed(3)).join())).size).toBe(5);
  });
});
