// The extension as a person meets it, in headless Chromium with the release build: open a page of
// pictures, open the popup, type a query; then come back to the page, then restart the browser.
// Progress is read from the popup's DOM (popup-contract.ts), timed from Node, polled every 50 ms.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe } from '../../src/errors.ts';
import { launchChromium, popupPath, type ChromiumHarness, type HPage } from '../../e2e/browsers.ts';
import type { TestPage } from './images.ts';
import { NAME_SHIM, POPUP, readPopup, readStalls, SELECTORS, STALL_PROBE, submitQuery, timeQuery, type PopupState } from './popup-contract.ts';
import { startProcSampler, type ExtensionProcess } from './proc-sampler.ts';
import { engineStartMs, readTimeline, startupTimes, type StartupTimes, type TimelineMark } from './timeline.ts';

const POLL_MS = 50;
const TIMEOUT_MS = 15 * 60_000;
/** A revisit ranks cached embeddings: one that has not ranked everything by then never will. */
const REVISIT_TIMEOUT_MS = 2 * 60_000;
export const QUERIES = ['a dog playing in the snow', 'red sneakers on a wooden floor', 'a bowl of noodles on a table'] as const;
/** A later start's engine that is not ready by then never will be. */
const LATER_START_TIMEOUT_MS = 60_000;

export interface ExtensionRun {
  /** Chromium start until the extension's service worker runs. */
  launchMs: number;
  /**
   * The engine's start until the popup shows it ready, on a fresh profile: from the first popup
   * open, or from the model's request if the page asked for it before (see engineStartMs).
   */
  coldStartMs: number;
  /** First popup open until the popup shows a ready engine (less than coldStartMs when the page started the engine first). */
  popupReadyMs: number;
  /** Popup open until the query (submitted at once) shows any result. */
  firstResultsMs: number;
  /** Popup open until a query's results hold all the first-viewport images. */
  visibleRankedMs: number;
  /** Popup open until every image is indexed (or failed). */
  pageIndexedMs: number;
  images: number;
  /** How many of them fill the first viewport. */
  visibleImages: number;
  failed: number;
  backend: string;
  threads: number | null;
  /** Chromium's CPU time (all processes) from popup open to page indexed, per image. */
  cpuMsPerImage: number;
  /** Peak PSS summed over the extension renderer processes during that window (shared pages split between their processes). */
  peakExtensionPssMB: number;
  /** Peak USS (pages no other process maps) summed the same way. */
  peakExtensionUssMB: number;
  /** Peak VmRSS summed the same way (libraries and the Chromium binary count once per process). */
  peakExtensionMB: number;
  /** CPU of the extension processes' service-worker thread in that window, per image. */
  swCpuMsPerImage: number;
  /** CPU of the extension processes' dedicated workers (engine, decoding, ORT's threads) in that window, per image. */
  workerCpuMsPerImage: number;
  /**
   * CPU of ORT's threads per image: the `threads` busiest dedicated-worker threads (the engine
   * worker and ORT's pool threads; the decode worker, the other one, uses a fraction of theirs).
   * Session creation and warm-up included. Absent in records made before it.
   */
  ortCpuMsPerImage?: number;
  /** The service worker's event loop while indexing: longest lateness of a 50 ms timer, and how often it was over 50 ms. */
  swLagMaxMs: number;
  swLagsOver50: number;
  /** CPU seconds by thread name of the extension processes in that window (the JSON record's detail). */
  extensionThreadCpuS: Record<string, number>;
  /** CPU seconds in that window of every process of the browser, by kind (browser, gpu-process, utility:<service>, renderer: the page, extension). */
  cpuByProcessKindS: Record<string, number>;
  /** The extension threads that used 0.1 s of CPU or more in that window, busiest first. */
  busiestExtensionThreads: { pid: number; tid: number; name: string; cpuS: number }[];
  /** The extension processes at the PSS peak: PSS, USS and RSS with their parts, thread names, memory regions. */
  extensionProcessesAtPeak: ExtensionProcess[];
  /**
   * Longest popup main-thread stalls (frame gap, 50 ms timer lateness) while the engine starts
   * and afterwards while indexing. The popup shares its renderer's main thread with the other
   * extension pages of that process.
   */
  stallFrameStartMs: number;
  stallTimerStartMs: number;
  stallFrameIndexingMs: number;
  stallTimerIndexingMs: number;
  newQueryMs: number;
  repeatQueryMs: number;
  /** Page and popup opened again, all cached, until a query ranks every image. */
  revisitMs: number;
  /** The same after closing Chromium and starting it on the same profile (launch excluded). */
  restartRevisitMs: number;
  restartLaunchMs: number;
  /**
   * The engine's start until it is ready at a later start: Chromium started again on the profile
   * of the runs before, the cached page's popup asked a query not asked before, so the text tower
   * loads (model requested → engine ready, on the service worker's clock). What the browser keeps
   * between starts (V8's compiled code of ORT's WASM module) is there, as for a user's every start
   * after the first. NaN when the engine did not get ready.
   */
  laterColdStartMs: number;
  /** The service worker's start-up steps (timeline.ts), ms since the popup opened. */
  startup: StartupTimes;
  /** Every step the service worker marked, for the JSON record. */
  timeline: TimelineMark[];
  /** A second page and its popup, opened once the first is indexed: the engine already runs. */
  warm: WarmPageRun;
}

/** A page's popup with the query submitted at once: when each milestone passed, ms since the popup opened. */
export interface Milestones {
  /** The popup shows a ready engine. */
  readyMs: number;
  firstResultsMs: number;
  visibleRankedMs: number;
  pageIndexedMs: number;
}

export interface WarmPageRun extends Omit<Milestones, 'readyMs'> {
  page: number;
  images: number;
  failed: number;
  /** The service worker's marks from this popup's opening on (ms since it opened), for the JSON record. */
  timeline: TimelineMark[];
}

interface PopupSession {
  page: Page;
  openedAt: number;
  state(): Promise<PopupState>;
}

/** Opens the popup for `tabId` as a tab, with the stall probe installed before its scripts. */
async function openPopup(harness: ChromiumHarness, tabId: number): Promise<PopupSession> {
  const page = await harness.context.newPage();
  await page.addInitScript(NAME_SHIM);
  await page.addInitScript(STALL_PROBE);
  const openedAt = performance.now();
  await page.goto(new URL(popupPath(tabId, POPUP), harness.extensionBaseUrl).href);
  return { page, openedAt, state: () => page.evaluate(readPopup, SELECTORS) };
}

/** Polls the popup until `ok`; returns ms since the popup opened, or throws with what was last seen. */
async function until(popup: PopupSession, what: string, ok: (s: PopupState) => boolean, timeoutMs = TIMEOUT_MS): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const s = await popup.state();
    if (ok(s)) return performance.now() - popup.openedAt;
    if (s.modelMessage && /error|could not|failed/i.test(s.modelMessage)) throw new Error(`popup shows: ${s.modelMessage}`);
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}; popup: ${JSON.stringify({ ...s, results: s.results.length })}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** CPU seconds of the `n` busiest dedicated-worker threads. */
function busiestWorkers(threads: { name: string; cpuS: number }[], n: number): number {
  return threads
    .filter((t) => t.name.startsWith('DedicatedWorker'))
    .sort((a, b) => b.cpuS - a.cpuS)
    .slice(0, n)
    .reduce((sum, t) => sum + t.cpuS, 0);
}

/** Installed in the service worker: lateness of a 50 ms timer (a worker restarted meanwhile loses it: NaN). */
const SW_LAG_PROBE = () => {
  const probe = { maxMs: 0, over50: 0 };
  (globalThis as { __benchLag?: typeof probe }).__benchLag = probe;
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    const late = now - last - 50;
    last = now;
    if (late > 50) probe.over50++;
    probe.maxMs = Math.max(probe.maxMs, late);
  }, 50);
};
const readSwLag = () => (globalThis as { __benchLag?: { maxMs: number; over50: number } }).__benchLag ?? { maxMs: NaN, over50: NaN };

const threadCpu = (byName: Record<string, number>, name: RegExp) =>
  Object.entries(byName)
    .filter(([n]) => name.test(n))
    .reduce((sum, [, s]) => sum + s, 0);

const engineReady = (s: PopupState) => s.backend !== '' && s.backend !== '–' && !s.modelBusy;
const allRanked = (count: number) => (s: PopupState) => s.results.length >= count;

/**
 * Results refresh at least every 300 ms while images index, and at once when the page is done
 * (src/background/search.ts): a query that has ranked nothing this long after the page is indexed
 * was never answered.
 */
const SETTLE_MS = 10_000;

/**
 * Polls the popup (its query already submitted) until `count` images are indexed and the engine is
 * ready; one loop records every milestone as it passes, so none waits for another. A query that is
 * never answered (the popup's search asked before the tab had reported any image, issue 12's
 * defect 4) gives NaN for its milestones and is logged, not a lost run.
 */
async function milestones(popup: PopupSession, count: number, visible: string[], log: (line: string) => void): Promise<Milestones> {
  const seen: { ready?: number; first?: number; visible?: number } = {};
  const visibleRanked = (s: PopupState) => visible.every((v) => s.results.includes(v));
  const pageIndexedMs = await until(popup, `${count} images indexed`, (s) => {
    const now = performance.now() - popup.openedAt;
    if (seen.ready === undefined && engineReady(s)) seen.ready = now;
    if (seen.first === undefined && s.results.length > 0) seen.first = now;
    if (seen.visible === undefined && visibleRanked(s)) seen.visible = now;
    return s.found === count && s.done === count && seen.ready !== undefined;
  });
  const visibleRankedMs =
    seen.visible ??
    (await until(popup, 'the visible images ranked', visibleRanked, SETTLE_MS).catch((error: unknown) => {
      log(`  the query submitted at popup open did not rank the visible images: ${describe(error)}`);
      return NaN;
    }));
  return { readyMs: seen.ready!, firstResultsMs: seen.first ?? visibleRankedMs, visibleRankedMs, pageIndexedMs };
}

/** `page` opened in a tab and its popup with `query` submitted at once; both closed after `fn`. */
async function withQueryPopup<T>(harness: ChromiumHarness, origin: string, page: TestPage, query: string, fn: (popup: PopupSession) => Promise<T>): Promise<T> {
  const tab: HPage = await harness.openPage(`${origin}${page.path}`);
  const popup = await openPopup(harness, await harness.tabIdOf(tab));
  try {
    await popup.page.evaluate(submitQuery, { sel: SELECTORS, query });
    return await fn(popup);
  } finally {
    await popup.page.close();
    await tab.close();
  }
}

/** A page not seen before, and its popup with the query submitted at once, while the engine runs. */
function warmPage(harness: ChromiumHarness, origin: string, page: TestPage, log: (line: string) => void): Promise<WarmPageRun> {
  return withQueryPopup(harness, origin, page, QUERIES[0], async (popup) => {
    const m = await milestones(popup, page.images.length, page.visible.map((p) => `${origin}${p}`), log);
    const worker = await harness.serviceWorker();
    const timeline = (await readTimeline(worker, popup.openedAt).catch(() => [])).filter((mark) => mark.ms >= -1000);
    return {
      timeline,
      firstResultsMs: m.firstResultsMs,
      visibleRankedMs: m.visibleRankedMs,
      pageIndexedMs: m.pageIndexedMs,
      page: page.index,
      images: page.images.length,
      failed: (await popup.state()).failed,
    };
  });
}

/** Opens the page and its popup, asks the first query at once and waits until `ranked` images rank (those the first visit indexed). */
function revisit(harness: ChromiumHarness, origin: string, page: TestPage, ranked: number, log: (line: string) => void): Promise<number> {
  // A revisit that never ranks everything is reported (NaN and the reason), not a lost run.
  return withQueryPopup(harness, origin, page, QUERIES[0], (popup) =>
    until(popup, `${ranked} images ranked`, allRanked(ranked), REVISIT_TIMEOUT_MS).catch((error: unknown) => {
      log(`  revisit failed: ${describe(error)}`);
      return NaN;
    }),
  );
}

/** The cached page's popup asks a new query: the engine's start until ready (see ExtensionRun.laterColdStartMs). */
function laterColdStart(harness: ChromiumHarness, origin: string, page: TestPage, log: (line: string) => void): Promise<number> {
  return withQueryPopup(harness, origin, page, QUERIES[2], async (popup) => {
    const worker = await harness.serviceWorker();
    const deadline = performance.now() + LATER_START_TIMEOUT_MS;
    while (performance.now() < deadline) {
      const marks = await readTimeline(worker, popup.openedAt).catch(() => []);
      const at = (step: string) => marks.find((m) => m.step === step)?.ms;
      const requested = at('model-requested');
      const ready = at('engine-ready');
      if (requested !== undefined && ready !== undefined) {
        const steps = marks.filter((m) => m.step === 'engine-step').map((m) => `${m.name} ${Math.round(m.ms - requested)}`);
        log(`  later start: engine steps, ms after the model was requested: ${steps.join(', ')}; ready ${Math.round(ready - requested)}`);
        return ready - requested;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    log(`  later start: the engine was not ready within ${LATER_START_TIMEOUT_MS / 1000} s`);
    return NaN;
  });
}

/**
 * `page` on a fresh profile (cold engine), then `warmTestPage` in the same browser once `page` is
 * indexed (the engine running), then `page` again (all cached), then again after a restart, then
 * after another restart with a new query (a later start's engine).
 */
export async function measureExtension(extensionDir: string, origin: string, page: TestPage, warmTestPage: TestPage, log: (line: string) => void): Promise<ExtensionRun> {
  const profile = await mkdtemp(join(tmpdir(), 'bench-page-profile-'));
  const count = page.images.length;
  const visible = page.visible.map((p) => `${origin}${p}`);
  try {
    let harness = await launchChromium(extensionDir, { userDataDir: profile });
    const launchMs = harness.launchMs;
    let run: Omit<ExtensionRun, 'revisitMs' | 'restartRevisitMs' | 'restartLaunchMs' | 'laterColdStartMs' | 'warm'>;
    let warm: WarmPageRun;
    let revisitMs: number;
    try {
      const tab = await harness.openPage(`${origin}${page.path}`);
      const tabId = await harness.tabIdOf(tab);
      const sampler = startProcSampler(profile);
      const popup = await openPopup(harness, tabId);
      await popup.page.evaluate(submitQuery, { sel: SELECTORS, query: QUERIES[0] });
      const worker = await harness.serviceWorker();
      await worker.evaluate(SW_LAG_PROBE);
      const { readyMs, firstResultsMs, visibleRankedMs, pageIndexedMs } = await milestones(popup, count, visible, log);
      const window = sampler.stop();
      const lag = await worker.evaluate(readSwLag).catch(() => ({ maxMs: NaN, over50: NaN }));
      const timeline = await readTimeline(worker, popup.openedAt).catch(() => []);
      // The popup's clock starts at its navigation, a little after openedAt: the split is approximate by that much.
      const stalls = await popup.page.evaluate(readStalls, readyMs);
      const final = await popup.state();
      const newQueryMs = await popup.page.evaluate(timeQuery, { sel: SELECTORS, query: QUERIES[1] });
      const repeatQueryMs = await popup.page.evaluate(timeQuery, { sel: SELECTORS, query: QUERIES[0] });
      const threads = /(\d+) thread/.exec(final.threads)?.[1];
      const startup = startupTimes(timeline, visible);
      run = {
        launchMs,
        coldStartMs: readyMs - engineStartMs(startup),
        popupReadyMs: readyMs,
        firstResultsMs,
        visibleRankedMs,
        pageIndexedMs,
        images: count,
        visibleImages: visible.length,
        failed: final.failed,
        backend: final.backend,
        threads: threads ? Number(threads) : null,
        cpuMsPerImage: (window.cpuSeconds * 1000) / (count - final.failed || 1),
        peakExtensionPssMB: window.peakExtensionPss / 2 ** 20,
        peakExtensionUssMB: window.peakExtensionUss / 2 ** 20,
        peakExtensionMB: window.peakExtensionRss / 2 ** 20,
        swCpuMsPerImage: (threadCpu(window.extensionThreadCpu, /^ServiceWorker/) * 1000) / count,
        workerCpuMsPerImage: (threadCpu(window.extensionThreadCpu, /^DedicatedWorker|^Wasm|^WebAssembly/) * 1000) / count,
        ortCpuMsPerImage: (busiestWorkers(window.busiestExtensionThreads, threads ? Number(threads) : 1) * 1000) / count,
        swLagMaxMs: lag.maxMs,
        swLagsOver50: lag.over50,
        extensionThreadCpuS: window.extensionThreadCpu,
        cpuByProcessKindS: window.cpuByProcessKind,
        busiestExtensionThreads: window.busiestExtensionThreads,
        extensionProcessesAtPeak: window.extensionProcessesAtPeak,
        stallFrameStartMs: stalls.frameBefore,
        stallTimerStartMs: stalls.timerBefore,
        stallFrameIndexingMs: stalls.frameAfter,
        stallTimerIndexingMs: stalls.timerAfter,
        newQueryMs,
        repeatQueryMs,
        startup,
        timeline,
      };
      log(`  indexed ${count} images in ${(pageIndexedMs / 1000).toFixed(1)} s (${final.backend}${final.threads}), ${final.failed} failed`);
      for (const p of window.extensionProcessesAtPeak) {
        const role = p.threads['ServiceWorker t'] ? 'service worker' : `${p.threads['DedicatedWorker'] ?? 0} dedicated workers`;
        log(`  at the PSS peak: pid ${p.pid} (${role}): PSS ${p.pssMB} MB (anon ${p.pssAnonMB}, shmem ${p.pssShmemMB}, file ${p.pssFileMB}), USS ${p.ussMB}, RSS ${p.rssMB}`);
        for (const r of p.regions ?? []) log(`    ${r.kind} ${r.perms} ${r.name || '-'}: PSS ${r.pssMB} MB, RSS ${r.rssMB} MB of ${r.sizeMB} MB mapped`);
      }
      await popup.page.close();
      await tab.close();
      warm = await warmPage(harness, origin, warmTestPage, log);
      log(`  warm engine, page ${warmTestPage.index}: 12 visible ranked in ${(warm.visibleRankedMs / 1000).toFixed(2)} s, indexed in ${(warm.pageIndexedMs / 1000).toFixed(1)} s, ${warm.failed} failed`);
      revisitMs = await revisit(harness, origin, page, count - final.failed, log);
    } finally {
      await harness.close();
    }
    harness = await launchChromium(extensionDir, { userDataDir: profile });
    let restartRevisitMs: number;
    let restartLaunchMs: number;
    try {
      restartRevisitMs = await revisit(harness, origin, page, run.images - run.failed, log);
      restartLaunchMs = harness.launchMs;
    } finally {
      await harness.close();
    }
    harness = await launchChromium(extensionDir, { userDataDir: profile });
    try {
      const laterColdStartMs = await laterColdStart(harness, origin, page, log);
      log(`  later start (restarted, new query): engine ready in ${(laterColdStartMs / 1000).toFixed(2)} s`);
      return { ...run, warm, revisitMs, restartRevisitMs, restartLaunchMs, laterColdStartMs };
    } finally {
      await harness.close();
    }
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}
