// Model delivery inside the extension, in Chromium and Firefox: the 'fixture-download' model (the
// fixture's files under an id that is never bundled) comes from a local Hugging Face style server
// (e2e/hf-server.ts). One browser session walks the story a user would:
//   1. the settings name a model that is not on the device (a first run): the popup asks before
//      downloading, with the size, and nothing is requested before the yes (Cancel included);
//      after the yes the server answers 404 → a short error, the URL and status folded, Retry;
//   2. the server sends a damaged text_model.onnx → Retry → the error names the file that failed
//      verification;
//   3. the server is fixed and throttled: the popup shows bytes; Cancel mid-file stops the transfer
//      and asks again; the next yes resumes from the kept bytes (Range), survives a dropped
//      connection (Range again), shows the start-up steps, loads and ranks red first for "red";
//   4. a restarted background loads the model from Cache Storage without asking the server;
//   5. switching (options' Models section) to a model the server answers 404 for keeps the model
//      in use and the page's index (nothing embedded again), and both pages say why;
//   6. the downloaded model, no longer in use, is deleted;
//   7. (Chromium) chosen again, it asks again; a service worker stopped mid-download resumes it
//      from the kept bytes without asking again.
// While the question waits (and after a Cancel) the page's images wait with it: none is fetched
// and none counts as failed; a download that really fails fails them, with the reason shown.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { launchChromium, launchFirefox, popupPath, type Harness, type HPage } from './browsers';
import { restartChromiumWorker, restartFirefoxBackground } from './background-restart';
import { modelMessage } from './model-message';
import { startServer } from './server';
import { startHfServer, type HfServer } from './hf-server';
import { CHROME_DIR, FIREFOX_DIR, FIREFOX_ID, POPUP, requireTestBuild, resultsAnswer, waitUntil } from './test-build';
import { requireModel } from '../src/engine/registry';

const FIREFOX_UUID = '0d3c6a51-7e2b-4f8a-9c1d-2b5e8f4a6c70';
const OPTIONS = 'src/options/options.html';
const MODEL_ID = 'fixture-download';
const TEXT_MODEL = 'onnx/text_model.onnx';
/** The commit the registry pins for the fixture's files: the only revision the local hub serves. */
const COMMIT = requireModel(MODEL_ID).source!.revision;
/** Where the server holds the first transfer of text_model.onnx (6.3 MB) for the Cancel. */
const HOLD_AT = 2_000_000;
/** Where the server cuts the resumed transfer. */
const DROP_AT = 4_000_000;

type PageServer = Awaited<ReturnType<typeof startServer>>;

/** A promise that rejects with a clear message instead of hanging the test. */
function within<T>(what: string, p: Promise<T>, ms = 60_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms))),
  ]);
}

/** Starts recording, in the popup, every download message and progress value it shows. */
function recordDownloadProgress(popup: HPage): Promise<void> {
  return popup.evaluate(() => {
    const m = document.querySelector<HTMLElement>('[data-testid=model-message]')!;
    const bar = document.querySelector<HTMLProgressElement>('[data-testid=progress]')!;
    const log: { text: string; value: number }[] = [];
    (window as unknown as { __downloadLog: typeof log }).__downloadLog = log;
    const note = (): void => {
      const text = m.querySelector('[data-testid=model-text]')?.textContent ?? '';
      if (m.hidden || !/^(Downloading|Starting)/.test(text)) return;
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
  await resultsAnswer(popup, query);
  return waitUntil(`6 ranked results for "${query}"`, () =>
    popup.evaluate(() =>
      [...document.querySelectorAll<HTMLElement>('[data-testid=result]')].map((el) => ({ src: el.dataset.src ?? '', score: Number(el.dataset.score) })),
    ), (r) => r.length === 6);
}

function colourOf(src: string): string {
  return /\/img\/solid\/(\w+)\.png/.exec(src)?.[1] ?? src;
}

/**
 * Names a model that is not on the device in the settings, as a first run with that choice would
 * (or another device's settings arriving): written to storage from an extension page.
 */
async function chooseModelInSettings(harness: Harness, hfOrigin: string): Promise<void> {
  const options = await harness.openPage(OPTIONS);
  await options.evaluate(
    async ({ id, origin }) => {
      const g = globalThis as unknown as { browser?: any; chrome?: any };
      const storage = (g.browser ?? g.chrome).storage.local;
      const { settings } = await storage.get('settings');
      await storage.set({ settings: { ...(settings ?? {}), modelId: id, modelBaseUrl: origin } });
    },
    { id: MODEL_ID, origin: hfOrigin },
  );
  await options.close();
}

/** Lets the background act on what it was just told; what must not happen would have happened by then. */
const settle = (ms = 1500) => new Promise((r) => setTimeout(r, ms));

/** Starts recording, in the popup, every phase its model line goes through. */
function recordPhases(popup: HPage): Promise<void> {
  return popup.evaluate(() => {
    const m = document.querySelector<HTMLElement>('[data-testid=model-message]')!;
    const phases: string[] = [m.dataset.phase ?? ''];
    (window as unknown as { __phases: string[] }).__phases = phases;
    new MutationObserver(() => {
      const phase = m.dataset.phase ?? '';
      if (phases[phases.length - 1] !== phase) phases.push(phase);
    }).observe(m, { attributes: true, attributeFilter: ['data-phase'] });
  });
}

function phasesSeen(popup: HPage): Promise<string[]> {
  return popup.evaluate(() => (window as unknown as { __phases: string[] }).__phases);
}

/** Megabytes received and in all in a progress line ("… 3.1 MB of 7.7 MB"). */
function megabytes(text: string): { loaded: number; total: number } | null {
  const m = /([\d.]+) MB of ([\d.]+) MB/.exec(text);
  return m ? { loaded: Number(m[1]), total: Number(m[2]) } : null;
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

    it('asks before the first download, with the size, fetching nothing before the yes; a 404 is a short error with the detail folded', async () => {
      await chooseModelInSettings(harness, hf.origin);
      page = await harness.openPage(`${pages.origin}/colors.html`);
      tabId = await harness.tabIdOf(page);
      popup = await harness.openPage(popupPath(tabId, POPUP));
      const asked = await waitUntil('the download question', () => modelMessage(popup), (m) => !m.hidden && m.phase === 'confirm' && m.buttons.includes('model-decline'));
      expect(asked.text).toBe('Download Fixture (download test) (7.7 MB) to run on this device?');
      expect(asked.error).toBe(false);
      // The page's images wait for the model; no request reached the server.
      await waitUntil('the images reported', () => popup.text('#image-count'), (n) => n === '6');
      await popup.click('[data-testid=model-message] [data-testid=model-decline]');
      const declined = await waitUntil('the declined line', () => modelMessage(popup), (m) => m.buttons.join() === 'model-download');
      expect(declined.text).toContain('not downloaded');
      // Declined: the images still wait for the answer, none counted as failed.
      await settle();
      expect(await modelMessage(popup)).toMatchObject({ pending: 6, failed: 0, indexed: 0 });
      expect(await popup.evaluate(() => document.querySelectorAll('[data-testid=failed]').length)).toBe(0);
      expect(hf.requests).toEqual([]);

      await popup.click('[data-testid=model-message] [data-testid=model-download]');
      const shown = await waitUntil('an error in the popup', () => modelMessage(popup), (m) => !m.hidden && m.error && m.retry);
      expect(shown.text).toMatch(/^Could not download Fixture \(download test\) from 127\.0\.0\.1:\d+\. Check “Download models from” in the settings, then Retry\.$/);
      expect(shown.detailOpen).toBe(false);
      expect(shown.detail).toContain('HTTP 404');
      expect(shown.detail).toContain(`${hf.origin}/local/fixture/resolve/${COMMIT}/onnx/vision_model.onnx`);
      expect(shown.progress).toBeLessThan(1);
      console.log(`${name} popup, server answers 404: ${shown.text} | detail: ${shown.detail}`);
      expect(hf.requests.length).toBeGreaterThan(0);
      expect(hf.requests.every((r) => r.status === 404)).toBe(true);
      // A download that really failed fails the waiting images, for the model's reason.
      expect(await waitUntil('the images failed with the model', () => modelMessage(popup), (m) => m.failed === 6)).toMatchObject({ pending: 0, indexed: 0 });
    });

    it('a damaged file is named in the error after Retry, and nothing hangs', async () => {
      hf.configure({ notFound: false, corrupt: [TEXT_MODEL] });
      const before = hf.requests.length;
      await clickRetry(popup);
      const shown = await waitUntil(
        'the verification error',
        () => modelMessage(popup),
        (m) => !m.hidden && m.error && m.detail.includes(TEXT_MODEL),
      );
      expect(shown.text).toMatch(/Retry downloads the file again\.$/);
      // The registry pins the fixture's files: another file than the pinned one changed upstream.
      expect(shown.detail).toMatch(/model file changed upstream: onnx\/text_model\.onnx has SHA-256 [0-9a-f]{64}, expected [0-9a-f]{64}/);
      expect(shown.detail).toContain(`the registry's pin for local/fixture@${COMMIT}`);
      expect(shown.detail).toContain('nothing was stored');
      expect(shown.retry).toBe(true);
      expect(shown.progress).toBeLessThan(1);
      console.log(`${name} popup, damaged file: ${shown.text} | detail: ${shown.detail}`);
      // Retry really went back to the server, and the damaged file was sent in full.
      const text = hf.requests.slice(before).filter((r) => r.file === TEXT_MODEL);
      expect(text.some((r) => r.status === 200 && r.outcome === 'complete' && r.sent === hf.files.find((f) => f.path === TEXT_MODEL)!.size)).toBe(true);
    });

    it('shows bytes; Cancel stops the transfer and asks again; the next yes resumes from the kept bytes, survives a drop, shows the start-up and ranks red first', async () => {
      hf.configure({ corrupt: [], redirect: true, chunkDelayMs: 10, interrupt: { path: TEXT_MODEL, afterBytes: HOLD_AT, hold: true } });
      const before = hf.requests.length;
      await recordDownloadProgress(popup);
      const started = Date.now();
      await clickRetry(popup);

      // The server holds the connection mid-file: the popup shows a partial download with bytes.
      await within('the server to reach the hold', hf.interruptReached());
      const mid = await waitUntil('a partial download in the popup', () => modelMessage(popup), (m) => m.phase === 'downloading' && m.progress > 0 && m.progress < 1);
      expect(mid.error).toBe(false);
      expect(mid.text).toMatch(/^Downloading Fixture \(download test\): [\d.]+ MB of 7\.7 MB$/);
      expect(mid.buttons).toEqual(['model-cancel']);
      console.log(`${name} popup, held mid-file: ${mid.text} (bar ${mid.progress.toFixed(3)})`);

      await popup.click('[data-testid=model-message] [data-testid=model-cancel]');
      const again = await waitUntil('the question again after Cancel', () => modelMessage(popup), (m) => m.phase === 'confirm');
      expect(again.text).toBe('Download Fixture (download test) (7.7 MB) to run on this device?');
      expect(again.progress).toBeLessThan(1);
      const afterCancel = hf.requests.length;
      hf.release(); // the held response goes on into a closed connection
      hf.configure({ interrupt: { path: TEXT_MODEL, afterBytes: DROP_AT, hold: false } });
      await settle();
      expect(hf.requests.length).toBe(afterCancel); // Cancel means no new request until the next yes
      // Retry put the images back in the queue; cancelled, they wait for the next answer, not failed.
      expect(await modelMessage(popup)).toMatchObject({ phase: 'confirm', pending: 6, failed: 0 });

      await popup.click('[data-testid=model-message] [data-testid=model-download]');
      // The engine resumes, verifies, starts; the six images get indexed with the new model.
      await waitUntil('the model ready and all images indexed', () => modelMessage(popup), (m) => m.hidden && m.indexed === 6);
      const seconds = (Date.now() - started) / 1000;
      const ranking = await searchRanking(popup, 'red');
      expect(colourOf(ranking[0].src)).toBe('red');
      expect(ranking[0].score).toBeGreaterThan(ranking[1].score + 0.1);

      // Cancelled at the hold, resumed from the kept bytes (Range), cut again, resumed again.
      const text = hf.requests.slice(before).filter((r) => r.file === TEXT_MODEL && r.kind === 'lfs');
      expect(text).toHaveLength(3);
      expect(text[0]).toMatchObject({ range: null, status: 200, sent: HOLD_AT });
      const keptFrom = Number(/^bytes=(\d+)-$/.exec(text[1].range ?? '')?.[1]);
      expect(keptFrom).toBeGreaterThan(0);
      expect(keptFrom).toBeLessThanOrEqual(HOLD_AT);
      expect(text[1]).toMatchObject({ status: 206, outcome: 'dropped' });
      const resumedAt = Number(/^bytes=(\d+)-$/.exec(text[2].range ?? '')?.[1]);
      expect(resumedAt).toBeGreaterThan(keptFrom);
      expect(text[2]).toMatchObject({ status: 206, outcome: 'complete', sent: hf.files.find((f) => f.path === TEXT_MODEL)!.size - resumedAt });
      // The vision file was verified and kept by an earlier attempt: not fetched again.
      expect(hf.requests.slice(before).some((r) => r.file === 'onnx/vision_model.onnx')).toBe(false);

      // Progress as the popup showed it: bytes never backwards, then the start-up's steps.
      const log = await downloadLog(popup);
      const downloads = log.filter((e) => e.text.startsWith('Downloading'));
      const amounts = downloads.map((e) => megabytes(e.text)).filter((a) => a !== null);
      expect(amounts.length).toBeGreaterThanOrEqual(3);
      expect(amounts.every((a) => a.total === 7.7)).toBe(true);
      // Across the Cancel too: the kept bytes count as received.
      for (let i = 1; i < amounts.length; i++) expect(amounts[i].loaded).toBeGreaterThanOrEqual(amounts[i - 1].loaded);
      const starting = log.filter((e) => e.text.startsWith('Starting')).map((e) => e.text);
      expect(starting.length).toBeGreaterThan(0);
      const steps = 'checking the stored files|reading the model files|starting the text and image models|loading the image model|loading the text model|warming up';
      expect(starting.every((t) => new RegExp(`^Starting Fixture \\(download test\\)… \\((${steps}), \\d+ s\\)$`).test(t))).toBe(true);
      expect(starting.some((t) => /starting the text and image models|loading the image model|loading the text model|warming up/.test(t))).toBe(true);
      // In Chromium WASM starts in the offscreen document: its own steps reach the popup too (EngineProgress).
      if (name === 'Chromium') expect(starting.some((t) => /loading the text model|warming up/.test(t))).toBe(true);
      const downloaded = hf.requests.slice(before).reduce((n, r) => n + r.sent, 0);
      console.log(
        `${name}: downloaded ${downloaded} bytes in ${seconds.toFixed(1)} s (incl. a Cancel and a drop); ` +
          `${downloads.length} progress updates; kept ${keptFrom} bytes over the Cancel, resumed at ${resumedAt} after the drop; start-up lines: ${[...new Set(starting)].join(' | ')}`,
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
      // Loading from the cache is not presented as a download (only its start-up may show).
      expect((await downloadLog(popup)).filter((e) => !e.text.startsWith('Starting'))).toEqual([]);
    });

    it('a switch to a model the server answers 404 for keeps the model in use and its index, and says why', async () => {
      hf.configure({ notFound: true, redirect: false, chunkDelayMs: 0 });
      const embeddedBefore = await popup.evaluate(() => document.querySelector<HTMLElement>('#index-stats')!.dataset.embedded);
      const options = await harness.openPage(OPTIONS);
      const row = (id: string) => `[data-testid=model-row][data-id="${id}"]`;
      await waitUntil('the model list', () => options.evaluate(() => document.querySelectorAll('[data-testid=model-row]').length), (n) => n >= 10);
      const rows = await options.evaluate(() =>
        [...document.querySelectorAll<HTMLElement>('[data-testid=model-row]')].map((r) => ({ id: r.dataset.id, state: r.dataset.state, inUse: r.dataset.inUse, disk: Number(r.dataset.diskBytes), text: r.textContent ?? '' })),
      );
      const byId = new Map(rows.map((r) => [r.id, r]));
      expect(byId.get(MODEL_ID)).toMatchObject({ state: 'stored', inUse: 'true' });
      // Disk use measured from the store: the fixture's files and the manifest, a little over the registry's 7.7 MB.
      expect(byId.get(MODEL_ID)!.disk).toBeGreaterThan(7_686_280);
      expect(byId.get(MODEL_ID)!.disk).toBeLessThan(7_700_000);
      expect(byId.get('fixture')).toMatchObject({ state: 'bundled', inUse: 'false' });
      expect(byId.get('mobileclip-s0')).toMatchObject({ state: 'absent', inUse: 'false' });
      expect(byId.get('mobileclip-s0')!.text).toMatch(/MobileCLIP-S0.*Not downloaded.*256×256 px images · about 90\.1 MB download · about 0\.3 s per image/);
      console.log(`${name} options, model list: ${rows.map((r) => `${r.id}=${r.state}${r.inUse === 'true' ? '*' : ''}`).join(', ')}`);
      // The model in use cannot be deleted; the button says why.
      expect(await options.evaluate((sel) => document.querySelector<HTMLButtonElement>(`${sel} [data-testid=model-delete]`)!.disabled, row(MODEL_ID))).toBe(true);

      const before = hf.requests.length;
      await options.click(`${row('mobileclip-s0')} [data-testid=model-use]`);
      expect(await options.text(`${row('mobileclip-s0')} [data-testid=model-confirm]`)).toBe('Download MobileCLIP-S0 (90.1 MB) to run on this device?');
      expect(hf.requests.length).toBe(before); // nothing before the yes
      await options.click(`${row('mobileclip-s0')} [data-testid=model-confirm-download]`);
      const notice = await waitUntil(
        'the switch failure on the options page',
        () => options.evaluate(() => {
          const n = document.querySelector<HTMLElement>('[data-testid=models-notice]')!;
          return { text: n.querySelector('[data-testid=error-message]')?.textContent ?? '', detail: n.querySelector('[data-testid=error-detail] code')?.textContent ?? '' };
        }),
        (n) => n.text !== '',
      );
      expect(notice.text).toMatch(/^Could not switch to MobileCLIP-S0, so Fixture \(download test\) stays in use\. Could not download MobileCLIP-S0 from 127\.0\.0\.1:\d+\./);
      expect(notice.detail).toContain('HTTP 404');
      expect(notice.detail).toContain(`${hf.origin}/Xenova/mobileclip_s0/`);
      console.log(`${name} options, failed switch: ${notice.text} | detail: ${notice.detail}`);
      expect(await options.evaluate((sel) => document.querySelector<HTMLElement>(sel)!.dataset.inUse, row(MODEL_ID))).toBe('true');
      expect(await options.evaluate((sel) => document.querySelector<HTMLElement>(sel)!.dataset.inUse, row('mobileclip-s0'))).toBe('false');
      const settings = await options.evaluate(async () => {
        const g = globalThis as unknown as { browser?: any; chrome?: any };
        return ((await (g.browser ?? g.chrome).storage.local.get('settings')).settings as { modelId: string }).modelId;
      });
      expect(settings).toBe(MODEL_ID);
      await options.close();

      // The popup says it too; the page is still searchable with its index, nothing embedded again.
      const shown = await waitUntil('the switch failure in the popup', () => modelMessage(popup), (m) => !m.hidden && m.text.startsWith('Could not switch'));
      expect(shown.detail).toContain('HTTP 404');
      await searchRanking(popup, 'green');
      await waitUntil('green ranked first', () => popup.evaluate(() => document.querySelector<HTMLElement>('[data-testid=result]')?.dataset.src ?? ''), (src) => colourOf(src) === 'green');
      expect(await popup.evaluate(() => document.querySelector<HTMLElement>('#index-stats')!.dataset.embedded)).toBe(embeddedBefore);
      expect(await popup.text('#model-name')).toBe('Fixture (download test)');
    });

    it('after switching to another model, the downloaded one can be deleted and its storage is freed', async () => {
      const options = await harness.openPage(OPTIONS);
      const row = (id: string) => `[data-testid=model-row][data-id="${id}"]`;
      const rowState = (id: string) => options.evaluate((sel) => {
        const r = document.querySelector<HTMLElement>(sel);
        return r ? { state: r.dataset.state, inUse: r.dataset.inUse, disk: Number(r.dataset.diskBytes) } : null;
      }, row(id));
      await waitUntil('the model list', () => rowState(MODEL_ID), (r) => r?.state === 'stored');
      // The bundled fixture needs no download: no question, the switch is immediate.
      await options.click(`${row('fixture')} [data-testid=model-use]`);
      await waitUntil('the bundled fixture in use', () => rowState('fixture'), (r) => r?.inUse === 'true');
      await options.click(`${row(MODEL_ID)} [data-testid=model-delete]`);
      expect(await waitUntil('the deleted model', () => rowState(MODEL_ID), (r) => r?.state === 'absent')).toMatchObject({ disk: 0, inUse: 'false' });
      const left = await options.evaluate(async () => {
        const cache = await caches.open('mobileclip-models');
        return (await cache.keys()).map((r) => r.url).filter((u) => u.includes('fixture-download'));
      });
      expect(left).toEqual([]);
      await options.close();
    });

    it.runIf(name === 'Chromium')('chosen again it asks again; a service worker stopped mid-download resumes it from the kept bytes without asking again', async () => {
      hf.configure({ notFound: false, redirect: false, chunkDelayMs: 10, interrupt: { path: TEXT_MODEL, afterBytes: HOLD_AT, hold: true } });
      const before = hf.requests.length;
      await chooseModelInSettings(harness, hf.origin);
      // Deleted, the model's download needs a yes again; the images wait for it, none failed.
      await waitUntil('the download question', () => modelMessage(popup), (m) => !m.hidden && m.phase === 'confirm');
      await settle();
      expect(await modelMessage(popup)).toMatchObject({ phase: 'confirm', pending: 6, failed: 0 });
      expect(hf.requests.length).toBe(before);

      await popup.click('[data-testid=model-message] [data-testid=model-download]');
      await within('the server to reach the hold', hf.interruptReached());
      await waitUntil('a partial download in the popup', () => modelMessage(popup), (m) => m.phase === 'downloading' && m.progress > 0);
      await recordPhases(popup);
      const stoppedAt = hf.requests.length;
      // The worker goes as Chrome stops an idle one: the transfer with it, mid-file.
      await restartChromiumWorker(harness);
      hf.release();
      // The popup reconnects to the new worker, which resumes the download and indexes the page.
      const end = await waitUntil('all images indexed (or the question again)', () => modelMessage(popup), (m) => m.phase === 'confirm' || (m.hidden && m.indexed === 6), 90_000);
      expect(end.text).toBe('');
      const phases = await phasesSeen(popup);
      expect(phases).not.toContain('confirm');
      expect(phases).toContain('downloading');
      const text = hf.requests.slice(stoppedAt).filter((r) => r.file === TEXT_MODEL && r.kind === 'resolve');
      const resumedAt = Number(/^bytes=(\d+)-$/.exec(text[0]?.range ?? '')?.[1]);
      expect(resumedAt).toBeGreaterThan(0);
      expect(resumedAt).toBeLessThanOrEqual(HOLD_AT);
      expect(text[0]).toMatchObject({ status: 206, outcome: 'complete' });
      const ranking = await searchRanking(popup, 'red');
      expect(colourOf(ranking[0].src)).toBe('red');
      console.log(`${name}: worker stopped mid-file at ${HOLD_AT} bytes sent; resumed at ${resumedAt}; phases after the stop: ${phases.join(' → ')}`);
    });
  });
}

requireTestBuild();

downloadTests('Chromium', () => launchChromium(CHROME_DIR), restartChromiumWorker);
downloadTests(
  'Firefox ESR',
  () => launchFirefox(FIREFOX_DIR, { addonId: FIREFOX_ID, uuid: FIREFOX_UUID, controlPath: OPTIONS }),
  restartFirefoxBackground,
);
