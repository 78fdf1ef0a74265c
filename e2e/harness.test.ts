/**
 * Self-test of the e2e harness (server, browser launchers, page adapter) with a throwaway extension
 * generated into a temp dir (e2e/fixtures/test-extension.ts). Browsers run one at a time.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { inflateSync } from 'node:zlib';
import { rm } from 'node:fs/promises';
import { startServer, COLOURS, type TestServer } from './server.ts';
import { launchChromium, launchFirefox, popupPath, type ChromiumHarness, type Harness, type HPage } from './browsers.ts';
import { writeTestExtension, TEST_ADDON_ID, TEST_UUID } from './fixtures/test-extension.ts';

const PAGE_TITLE = 'Colour swatches — MobileCLIP Lens test page';
const SWATCHES = ['red', 'green', 'blue', 'yellow', 'black', 'white'] as const;

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

describe('test server', () => {
  test('serves pages and solid-colour PNGs on two origins', async () => {
    expect(server.origin).not.toBe(server.crossOrigin);
    for (const o of [server.origin, server.crossOrigin]) {
      const r = await fetch(`${o}/colors.html`);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await r.text()).toContain(`<title>${PAGE_TITLE}</title>`);
    }
    const png = Buffer.from(await (await fetch(`${server.origin}/img/solid/orange.png?w=3&h=2`)).arrayBuffer());
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.readUInt32BE(16)).toBe(3); // IHDR width
    expect(png.readUInt32BE(20)).toBe(2); // IHDR height
    const idatLen = png.readUInt32BE(33);
    expect(png.toString('latin1', 37, 41)).toBe('IDAT');
    const raw = inflateSync(png.subarray(41, 41 + idatLen));
    expect(raw.length).toBe(2 * (1 + 3 * 4));
    expect([...raw.subarray(0, 5)]).toEqual([0, ...COLOURS.orange, 255]);

    const noCors = await fetch(`${server.origin}/img/solid/red.png`);
    expect(noCors.headers.get('access-control-allow-origin')).toBeNull();
    const cors = await fetch(`${server.crossOrigin}/img/solid/red.png?cors=1`);
    expect(cors.headers.get('access-control-allow-origin')).toBe('*');
    expect((await fetch(`${server.origin}/img/solid/ff00ff.png`)).status).toBe(200);
    expect((await fetch(`${server.origin}/img/solid/nosuchcolour.png`)).status).toBe(404);
    expect((await fetch(`${server.origin}/%2e%2e/package.json`)).status).toBeGreaterThanOrEqual(403);
    expect((await fetch(`${server.origin}/..%2fpackage.json`)).status).toBeGreaterThanOrEqual(403);
  });
});

/** Runs in the page: centre pixel + natural size of each swatch image. */
function readSwatches(ids: string[]): Promise<Array<{ id: string; w: number; h: number; rgb: number[] }>> {
  return Promise.all(
    ids.map(async (id) => {
      const img = document.getElementById(id) as HTMLImageElement;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.naturalWidth;
      c.height = img.naturalHeight;
      const ctx = c.getContext('2d') as CanvasRenderingContext2D;
      ctx.drawImage(img, 0, 0);
      const d = ctx.getImageData(img.naturalWidth >> 1, img.naturalHeight >> 1, 1, 1).data;
      return { id, w: img.naturalWidth, h: img.naturalHeight, rgb: [d[0], d[1], d[2]] };
    }),
  );
}

/** The same checks for both browsers; `launch` starts the browser with the throwaway extension. */
function harnessSuite(name: string, launch: () => Promise<Harness>, extra?: (h: () => Harness) => void): void {
  describe(name, () => {
    let h: Harness;
    let content: HPage;
    let contentTabId: number;

    beforeAll(async () => {
      h = await launch();
      console.log(`[e2e] ${name}: browser + extension ready in ${h.launchMs} ms`);
    });
    afterAll(async () => {
      await h?.close();
    });

    test('extension loads', async () => {
      expect(h.extensionBaseUrl).toMatch(/^(chrome|moz)-extension:\/\/[0-9a-z-]+\/$/);
      const manifestName = await h.evalInExtension(() => {
        const g = globalThis as unknown as { browser?: { runtime: { getManifest(): { name: string } } }; chrome?: { runtime: { getManifest(): { name: string } } } };
        return (g.browser ?? g.chrome)!.runtime.getManifest().name;
      });
      expect(manifestName).toBe('E2E harness throwaway');
    });

    test('content page: images from the local server decode to their colours', async () => {
      const t0 = Date.now();
      content = await h.openPage(`${server.origin}/colors.html`);
      expect(await content.title()).toBe(PAGE_TITLE);
      const swatches = await content.evaluate(readSwatches, SWATCHES.map((c) => `img-${c}`));
      for (const s of swatches) {
        const colour = s.id.slice(4);
        expect(s.w, s.id).toBe(160);
        expect(s.h, s.id).toBe(120);
        const want = COLOURS[colour];
        s.rgb.forEach((v, i) => expect(Math.abs(v - want[i]), `${s.id} channel ${i}: ${s.rgb} vs ${want}`).toBeLessThanOrEqual(2));
      }
      console.log(`[e2e] ${name}: content page + pixel check in ${Date.now() - t0} ms`);
    });

    test("finds the content page's tab id", async () => {
      contentTabId = await h.tabIdOf(content);
      await content.waitFor('html[data-e2e-tab-id]');
      const fromContentScript = await content.evaluate(() => document.documentElement.dataset.e2eTabId);
      expect(String(contentTabId)).toBe(fromContentScript);
    });

    test('opens the popup as a normal tab with ?tab=<id> and reads/types in it', async () => {
      const popup = await h.openPage(popupPath(contentTabId));
      expect(await popup.url()).toBe(`${h.extensionBaseUrl}popup.html?tab=${contentTabId}`);
      await popup.waitFor('body[data-ready]');
      expect(await popup.text('#title')).toBe('E2E harness popup');
      expect(await popup.text('#tab-param')).toBe(String(contentTabId));
      expect(await popup.text('#target-title')).toBe(PAGE_TITLE);
      const tabs = await h.evalInExtension(async () => {
        const g = globalThis as unknown as { browser?: { tabs: { query(q: object): Promise<unknown[]> } }; chrome?: { tabs: { query(q: object): Promise<unknown[]> } } };
        return (await (g.browser ?? g.chrome)!.tabs.query({})).length;
      });
      expect(Number(await popup.text('#tab-count'))).toBe(tabs);
      await popup.fill('#query', 'a red square');
      expect(await popup.text('#echo')).toBe('a red square');
      await popup.fill('#query', 'blue');
      expect(await popup.text('#echo')).toBe('blue');
      // extension pages have tab ids too, and can be navigated in place
      const popupTab = await h.tabIdOf(popup);
      expect(popupTab).not.toBe(contentTabId);
      await popup.goto(`${h.extensionBaseUrl}${popupPath(popupTab)}`);
      await popup.waitFor('body[data-ready]');
      expect(await popup.text('#target-title')).toBe('E2E harness popup');
      await popup.close();
    });

    test('two tabs with the same URL get distinct ids', async () => {
      const twin = await h.openPage(`${server.origin}/colors.html`);
      const twinId = await h.tabIdOf(twin);
      await twin.waitFor('html[data-e2e-tab-id]');
      expect(String(twinId)).toBe(await twin.evaluate(() => document.documentElement.dataset.e2eTabId));
      expect(twinId).not.toBe(contentTabId);
      expect(await twin.title()).toBe(PAGE_TITLE); // title restored after the lookup
      await twin.close();
    });

    test('cross-origin images load but taint a page canvas', async () => {
      const page = await h.openPage(`${server.origin}/colors.html?imgOrigin=${encodeURIComponent(server.crossOrigin)}`);
      const result = await page.evaluate(async () => {
        const img = document.getElementById('img-blue') as HTMLImageElement;
        await img.decode();
        const c = document.createElement('canvas');
        c.width = 4;
        c.height = 4;
        const ctx = c.getContext('2d') as CanvasRenderingContext2D;
        ctx.drawImage(img, 0, 0, 4, 4);
        try {
          ctx.getImageData(0, 0, 1, 1);
          return { src: img.currentSrc, w: img.naturalWidth, tainted: false };
        } catch (e) {
          return { src: img.currentSrc, w: img.naturalWidth, tainted: (e as Error).name };
        }
      });
      expect(result.src.startsWith(server.crossOrigin)).toBe(true);
      expect(result.w).toBe(160);
      expect(result.tainted).toBe('SecurityError');
      await page.close();
    });

    extra?.(() => h);
  });
}

const tempDirs: string[] = [];
afterAll(async () => {
  await Promise.all(tempDirs.map((d) => rm(d, { recursive: true, force: true })));
});

harnessSuite(
  'chromium',
  async () => {
    const dir = await writeTestExtension('chrome');
    tempDirs.push(dir);
    return launchChromium(dir, { webgpu: true });
  },
  (h) => {
    test('WebGPU adapter in the service worker (--enable-unsafe-webgpu)', async () => {
      const c = h() as ChromiumHarness;
      expect(c.extensionId).toMatch(/^[a-p]{32}$/);
      const sw = await c.serviceWorker();
      const adapter = await sw.evaluate(async () => {
        const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: { vendor: string; architecture: string } } | null> } }).gpu;
        if (!gpu) return 'no navigator.gpu';
        const a = await gpu.requestAdapter();
        return a ? { vendor: a.info?.vendor ?? '', architecture: a.info?.architecture ?? '' } : null;
      });
      console.log('[e2e] chromium: service-worker WebGPU adapter', adapter);
      expect(adapter).not.toBeNull();
      expect(typeof adapter).toBe('object');
    });

    test('a stopped service worker is woken up again', async () => {
      const c = h() as ChromiumHarness;
      const page = c.raw(await c.openPage('about:blank'));
      const cdp = await c.context.newCDPSession(page);
      await cdp.send('ServiceWorker.enable');
      const stopped = new Promise<void>((resolve) => {
        cdp.on('ServiceWorker.workerVersionUpdated', (e) => {
          if (e.versions.some((v) => v.scriptURL.startsWith(c.extensionBaseUrl) && v.runningStatus === 'stopped')) resolve();
        });
      });
      await cdp.send('ServiceWorker.stopAllWorkers');
      await stopped;
      const t0 = Date.now();
      expect(await c.evalInExtension(() => 1 + 1)).toBe(2);
      console.log(`[e2e] chromium: service worker woken in ${Date.now() - t0} ms`);
      await cdp.detach();
      await page.close();
    });
  },
);

harnessSuite('firefox', async () => {
  const dir = await writeTestExtension('firefox');
  tempDirs.push(dir);
  return launchFirefox(dir, { addonId: TEST_ADDON_ID, uuid: TEST_UUID });
});
