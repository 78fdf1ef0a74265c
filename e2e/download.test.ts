// Model delivery inside the extension, in Chromium and Firefox: the 'fixture-download' model (the
// fixture's files under an id that is never bundled) comes from a local Hugging Face style server
// (e2e/hf-server.ts) chosen on the options page. One browser session walks the story a user would:
//   1. the server answers 404 for everything → the popup says what is missing and offers Retry;
//   2. the server sends another text_model.onnx than the registry pins → Retry → the popup names
//      the file that changed upstream;
//   3. the server is fixed (throttled, and it drops the connection once in the middle of
//      text_model.onnx) → Retry → the popup shows the download progressing, the download resumes
//      with a Range request, the model loads and ranks red first for "red";
//   4. a restarted background loads the model from Cache Storage without asking the server;
//   5. an unpinned twin of the model is trusted on first use (commit and hashes recorded), and
//      after its text model changed upstream and the stored copy is gone, the re-download is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { launchChromium, launchFirefox, popupPath, stopServiceWorkers, type ChromiumHarness, type FirefoxHarness, type Harness, type HPage } from './browsers';
import { startServer } from './server';
import { startHfServer, type HfServer } from './hf-server';
import { CHROME_DIR, FIREFOX_DIR, FIREFOX_ID, POPUP, requireTestBuild, waitUntil } from './test-build';
import { requireModel } from '../src/engine/registry';

const FIREFOX_UUID = '0d3c6a51-7e2b-4f8a-9c1d-2b5e8f4a6c70';
const OPTIONS = 'src/options/options.html';
const MODEL_ID = 'fixture-download';
const TEXT_MODEL = 'onnx/text_model.onnx';
/** The commit the registry pins for the fixture's files: the only revision the local hub serves. */
const COMMIT = requireModel(MODEL_ID).source!.revision;
/** The same files without pins: trusted on first use. */
const UNVERIFIED_ID = 'fixture-unverified';
/** Where the server cuts the first transfer of text_model.onnx (6.3 MB). */
const DROP_AT = 3_000_000;

type PageServer = Awaited<ReturnType<typeof startServer>>;

/** A promise that rejects with a clear message instead of hanging the test. */
function within<T>(what: string, p: Promise<T>, ms = 60_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms))),
  ]);
}

interface ModelMessage {
  hidden: boolean;
  error: boolean;
  text: string;
  retry: boolean;
  progress: number;
  done: string;
  indexed: number;
  failed: number;
}

function modelMessage(popup: HPage): Promise<ModelMessage> {
  return popup.evaluate(() => {
    const m = document.querySelector<HTMLElement>('[data-testid=model-message]')!;
    const bar = document.querySelector<HTMLProgressElement>('[data-testid=progress]')!;
    return {
      hidden: m.hidden,
      error: m.classList.contains('error'),
      // The message without its Retry button's label.
      text: [...m.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent).join(''),
      retry: !!m.querySelector('[data-testid=retry]'),
      progress: bar.value,
      done: bar.dataset.done ?? '',
      indexed: Number(/(\d+) indexed/.exec(document.getElementById('indexed-line')?.textContent ?? '')?.[1] ?? NaN),
      failed: Number(/(\d+) failed/.exec(document.getElementById('indexed-line')?.textContent ?? '')?.[1] ?? 0),
    };
  });
}

/** Starts recording, in the popup, every download message and progress value it shows. */
function recordDownloadProgress(popup: HPage): Promise<void> {
  return popup.evaluate(() => {
    const m = document.querySelector<HTMLElement>('[data-testid=model-message]')!;
    const bar = document.querySelector<HTMLProgressElement>('[data-testid=progress]')!;
    const log: { text: string; value: number }[] = [];
    (window as unknown as { __downloadLog: typeof log }).__downloadLog = log;
    const note = (): void => {
      const text = m.textContent ?? '';
      if (m.hidden || !text.startsWith('Downloading')) return;
      const last = log[log.length - 1];
      if (!last || last.text !== text || last.value !== bar.value) log.push({ text, value: bar.value });
    };
    const observer = new MutationObserver(note);
    observer.observe(m, { childList: true, characterData: true, subtree: true, attributes: true });
    observer.observe(bar, { attributes: true });
  });
}

function downloadLog(popup: HPage): Promise<{ text: string; value: number }[]> {
  return popup.evaluate(() => (window as unknown as { __downloadLog: { text: string; value: number }[] }).__downloadLog);
}

async function clickRetry(popup: HPage): Promise<void> {
  await popup.click('[data-testid=model-message] [data-testid=retry]');
}

interface Ranked {
  src: string;
  score: number;
}

async function searchRanking(popup: HPage, query: string): Promise<Ranked[]> {
  await popup.fill('[data-testid=search-input]', query);
  return waitUntil(`6 ranked results for "${query}"`, () =>
    popup.evaluate(() =>
      [...document.querySelectorAll<HTMLElement>('[data-testid=result]')].map((el) => ({ src: el.dataset.src ?? '', score: Number(el.dataset.score) })),
    ), (r) => r.length === 6);
}

function colourOf(src: string): string {
  return /\/img\/solid\/(\w+)\.png/.exec(src)?.[1] ?? src;
}

/**
 * Chooses the model and the download origin on the options page, as a user would, and saves.
 * Returns what the page says about the model's source (pinned or unverified).
 */
async function configureOnOptionsPage(harness: Harness, hfOrigin: string, modelId = MODEL_ID): Promise<{ source: string; pinned: string }> {
  const options = await harness.openPage(OPTIONS);
  // The model list fills in asynchronously from storage.
  await waitUntil('the download test model in the model list', () =>
    options.evaluate((id) => !!document.querySelector(`[data-testid=model-select] option[value="${id}"]`), modelId), Boolean);
  await options.evaluate((id) => {
    const select = document.querySelector<HTMLSelectElement>('[data-testid=model-select]')!;
    select.value = id;
    select.dispatchEvent(new Event('change', { bubbles: true }));
  }, modelId);
  expect(await options.text('#model-help')).toContain('local/fixture');
  const source = {
    source: await options.text('[data-testid=model-source]'),
    pinned: await options.evaluate(() => document.querySelector<HTMLElement>('[data-testid=model-source]')!.dataset.pinned ?? ''),
  };
  await options.fill('#base-url', hfOrigin);
  await options.click('button[type=submit]');
  const stored = await waitUntil(
    'settings saved to storage',
    () =>
      options.evaluate(async () => {
        const g = globalThis as unknown as { browser?: any; chrome?: any };
        const { settings } = await (g.browser ?? g.chrome).storage.local.get('settings');
        return settings as { modelId?: string; modelBaseUrl?: string } | undefined;
      }),
    (s) => s?.modelId === modelId && s.modelBaseUrl !== 'https://huggingface.co',
  );
  expect(stored).toMatchObject({ modelId, modelBaseUrl: hfOrigin });
  await options.close();
  return source;
}

function downloadTests(name: string, launch: () => Promise<Harness>, restartBackground: (harness: Harness) => Promise<void>): void {
  describe(name, () => {
    let harness: Harness;
    let pages: PageServer;
    let hf: HfServer;
    let tabId: number;
    let page: HPage;
    let popup: HPage;

    beforeAll(async () => {
      pages = await startServer();
      hf = await startHfServer(resolve('models/fixture'), 'local/fixture', COMMIT, { notFound: true });
      harness = await launch();
    });
    afterAll(async () => {
      await harness?.close();
      await hf?.close();
      await pages?.close();
    });

    it('a server that answers 404 gives a clear error in the popup, with Retry', async () => {
      // The fixture's files are pinned (commit and hashes), and the options page says so.
      expect(await configureOnOptionsPage(harness, hf.origin)).toEqual({
        source: `Verified source: every file is checked against the hashes published for commit ${COMMIT.slice(0, 7)} of local/fixture.`,
        pinned: 'true',
      });
      // Every load attempt is started before the page gets its images, so that the state seen
      // at the end of this step is final (no attempt still running into the next step):
      // saving the settings starts one, and so does the popup when it subscribes (before it
      // renders its first view, which names the model).
      page = await harness.openPage(`${pages.origin}/healthz`);
      tabId = await harness.tabIdOf(page);
      popup = await harness.openPage(popupPath(tabId, POPUP));
      await waitUntil('the popup showing the model', () => popup.text('#model-name'), (t) => t === 'Fixture (download test)');
      await page.goto(`${pages.origin}/colors.html`);
      // The images wait for the model, which fails again: every image says so.
      const shown = await waitUntil('an error in the popup', () => modelMessage(popup), (m) => !m.hidden && m.error && m.failed === 6);
      expect(shown.text).toContain('Fixture (download test)');
      expect(shown.text).toContain('HTTP 404');
      expect(shown.text).toContain(`${hf.origin}/local/fixture/resolve/${COMMIT}/onnx/vision_model.onnx`);
      expect(shown.text).toMatch(/Download models from/);
      expect(shown.retry).toBe(true);
      console.log(`${name} popup, server answers 404: ${shown.text}`);
      expect(hf.requests.length).toBeGreaterThan(0);
      expect(hf.requests.every((r) => r.status === 404)).toBe(true);
    });

    it('a file changed upstream (not the pinned one) is named in the error after Retry, and nothing hangs', async () => {
      hf.configure({ notFound: false, corrupt: [TEXT_MODEL] });
      const before = hf.requests.length;
      await clickRetry(popup);
      const shown = await waitUntil(
        'the verification error',
        () => modelMessage(popup),
        (m) => !m.hidden && m.error && m.text.includes(TEXT_MODEL),
      );
      expect(shown.text).toMatch(/model file changed upstream: onnx\/text_model\.onnx has SHA-256 [0-9a-f]{64}, expected [0-9a-f]{64}/);
      expect(shown.text).toContain(`the registry's pin for local/fixture@${COMMIT}`);
      expect(shown.text).toContain('nothing was stored');
      expect(shown.retry).toBe(true);
      console.log(`${name} popup, damaged file: ${shown.text}`);
      // Retry really went back to the server, and the damaged file was sent in full.
      const text = hf.requests.slice(before).filter((r) => r.file === TEXT_MODEL);
      expect(text.some((r) => r.status === 200 && r.outcome === 'complete' && r.sent === hf.files.find((f) => f.path === TEXT_MODEL)!.size)).toBe(true);
    });

    it('downloads with visible progress, resumes after a dropped connection, loads and ranks red first', async () => {
      hf.configure({ corrupt: [], redirect: true, chunkDelayMs: 10, interrupt: { path: TEXT_MODEL, afterBytes: DROP_AT, hold: true } });
      const before = hf.requests.length;
      await recordDownloadProgress(popup);
      const started = Date.now();
      await clickRetry(popup);

      // The server holds the connection mid-file: the popup must show a partial download now.
      await within('the server to reach the cut-off point', hf.interruptReached());
      const mid = await waitUntil('a partial download in the popup', () => modelMessage(popup), (m) => m.text.startsWith('Downloading') && m.progress > 0 && m.progress < 1);
      expect(mid.error).toBe(false);
      expect(mid.text).toMatch(/^Downloading Fixture \(download test\).* \d+% of 7\.7 MB/);
      console.log(`${name} popup, held mid-file: ${mid.text} (bar ${mid.progress.toFixed(3)})`);
      hf.release();

      // The engine resumes, verifies, loads; the six images get indexed with the new model.
      await waitUntil('the model ready and all images indexed', () => modelMessage(popup), (m) => m.hidden && m.indexed === 6);
      const seconds = (Date.now() - started) / 1000;
      const ranking = await searchRanking(popup, 'red');
      expect(colourOf(ranking[0].src)).toBe('red');
      expect(ranking[0].score).toBeGreaterThan(ranking[1].score + 0.1);

      // The cut transfer was continued with a Range request, answered 206 (after the hub-like redirect).
      const text = hf.requests.slice(before).filter((r) => r.file === TEXT_MODEL && r.kind === 'lfs');
      expect(text.map((r) => r.outcome)).toEqual(['dropped', 'complete']);
      expect(text[0]).toMatchObject({ range: null, status: 200, sent: DROP_AT });
      const resumedAt = Number(/^bytes=(\d+)-$/.exec(text[1].range ?? '')?.[1]);
      expect(resumedAt).toBeGreaterThan(0);
      expect(resumedAt).toBeLessThanOrEqual(DROP_AT);
      expect(text[1].status).toBe(206);
      expect(text[1].sent).toBe(hf.files.find((f) => f.path === TEXT_MODEL)!.size - resumedAt);
      // The vision file was verified and kept by the previous attempt: not fetched again.
      expect(hf.requests.slice(before).some((r) => r.file === 'onnx/vision_model.onnx')).toBe(false);

      // Progress as the popup showed it: several steps, never backwards, percentages in step.
      const log = await downloadLog(popup);
      const values = log.map((e) => e.value);
      const percents = log.map((e) => Number(/ (\d+)% of/.exec(e.text)?.[1]));
      for (let i = 1; i < log.length; i++) {
        expect(values[i]).toBeGreaterThanOrEqual(values[i - 1]);
        expect(percents[i]).toBeGreaterThanOrEqual(percents[i - 1]);
      }
      const between = new Set(values.filter((v) => v > 0 && v < 1));
      expect(between.size).toBeGreaterThanOrEqual(3);
      const downloaded = hf.requests.slice(before).reduce((n, r) => n + r.sent, 0);
      console.log(
        `${name}: downloaded ${downloaded} bytes in ${seconds.toFixed(1)} s (incl. the held drop and a retry); ` +
          `${log.length} progress updates seen (${between.size} distinct values, ${percents[0]}% → ${percents[percents.length - 1]}%); ` +
          `Range resumed at byte ${resumedAt}`,
      );
    });

    it('a restarted background loads the model from Cache Storage without any request', async () => {
      const before = hf.requests.length;
      await popup.close();
      await restartBackground(harness);
      popup = await harness.openPage(popupPath(tabId, POPUP));
      await recordDownloadProgress(popup);
      const ranking = await searchRanking(popup, 'blue');
      expect(colourOf(ranking[0].src)).toBe('blue');
      await waitUntil('the model ready', () => modelMessage(popup), (m) => m.hidden);
      expect(await popup.text('[data-testid=backend]')).toBe('wasm');
      expect(hf.requests.slice(before)).toEqual([]);
      // Loading from the cache is not presented as a download.
      expect(await downloadLog(popup)).toEqual([]);
    });

    it('an unverified model is trusted on first use: its commit and hashes are recorded, and a file changed upstream later is refused', async () => {
      hf.configure({ corrupt: [], redirect: false, chunkDelayMs: 0, interrupt: null });
      const before = hf.requests.length;
      await popup.close();
      expect(await configureOnOptionsPage(harness, hf.origin, UNVERIFIED_ID)).toEqual({
        source: 'Unverified source: no published hashes for these files. The first download is trusted; every later download must match it, so a file changed upstream is refused.',
        pinned: 'false',
      });
      popup = await harness.openPage(popupPath(tabId, POPUP));
      await waitUntil('the popup showing the unverified model', () => popup.text('#model-name'), (t) => t === 'Fixture (unverified source test)');
      await waitUntil('its three files downloaded', async () => hf.requests.slice(before).filter((r) => r.kind === 'resolve' && r.outcome === 'complete').length, (n) => n >= 3);
      await waitUntil('the model ready and all images indexed', () => modelMessage(popup), (m) => m.hidden && m.indexed === 6);
      // First use: the host said which commit `main` is, and every file came from that commit.
      const first = hf.requests.slice(before);
      expect(first.filter((r) => r.kind === 'revision').map((r) => r.url)).toEqual(['/api/models/local/fixture/revision/main']);
      const files = first.filter((r) => r.kind === 'resolve');
      expect(files.length).toBeGreaterThanOrEqual(3);
      expect(files.every((r) => r.url.startsWith(`/local/fixture/resolve/${COMMIT}/`))).toBe(true);
      const record = await storedModelEntries(harness, UNVERIFIED_ID);
      expect(record.trusted).toMatchObject({ repo: 'local/fixture', revision: COMMIT });
      const served = hf.files.find((f) => f.path === TEXT_MODEL)!;
      expect(record.trusted.files[TEXT_MODEL]).toEqual({ size: served.size, sha256: served.sha256 });

      // Upstream changes the text model; the stored copy is gone (evicted), so the next start downloads it again.
      hf.configure({ corrupt: [TEXT_MODEL] });
      await storedModelEntries(harness, UNVERIFIED_ID, TEXT_MODEL);
      const again = hf.requests.length;
      await popup.close();
      await restartBackground(harness);
      popup = await harness.openPage(popupPath(tabId, POPUP));
      const shown = await waitUntil('the changed-upstream error', () => modelMessage(popup), (m) => !m.hidden && m.error && m.text.includes(TEXT_MODEL));
      expect(shown.text).toMatch(/model file changed upstream: onnx\/text_model\.onnx has SHA-256 [0-9a-f]{64}, expected [0-9a-f]{64}/);
      expect(shown.text).toContain(`the hashes recorded when local/fixture@${COMMIT} was first downloaded`);
      expect(shown.retry).toBe(true);
      console.log(`${name} popup, unverified model changed upstream after first use: ${shown.text}`);
      // The recorded commit, without asking where `main` points now.
      expect(hf.requests.slice(again).some((r) => r.kind === 'revision')).toBe(false);
      expect(hf.requests.slice(again).filter((r) => r.file === TEXT_MODEL).every((r) => r.url.includes(COMMIT))).toBe(true);
    });
  });
}

/**
 * From an extension page: the trust-on-first-use record stored for a model, after deleting its
 * stored copy of `remove` (a repo path), if given.
 */
async function storedModelEntries(harness: Harness, modelId: string, remove?: string): Promise<{ trusted: { repo: string; revision: string; files: Record<string, unknown> } }> {
  const options = await harness.openPage(OPTIONS);
  const trusted = await options.evaluate(
    async ([id, path]) => {
      const cache = await caches.open('mobileclip-models');
      const keys = (await cache.keys()).map((r) => r.url).filter((u) => decodeURIComponent(u).includes(`/${id}@`));
      if (path) {
        for (const url of keys.filter((u) => decodeURIComponent(u).endsWith(`/${path}`))) await cache.delete(url);
      }
      const record = keys.find((u) => decodeURIComponent(u).endsWith('/trusted-on-first-use.json'));
      return record ? await (await cache.match(record))!.json() : null;
    },
    [modelId, remove ?? ''] as const,
  );
  await options.close();
  return { trusted };
}

/** Stops the MV3 service worker; a marker set in the old worker proves the new one is fresh. */
async function restartChromiumWorker(harness: Harness): Promise<void> {
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
async function restartFirefoxBackground(harness: Harness): Promise<void> {
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

requireTestBuild();

downloadTests('Chromium', () => launchChromium(CHROME_DIR), restartChromiumWorker);
downloadTests(
  'Firefox ESR',
  () => launchFirefox(FIREFOX_DIR, { addonId: FIREFOX_ID, uuid: FIREFOX_UUID, controlPath: OPTIONS }),
  restartFirefoxBackground,
);
