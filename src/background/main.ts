// Background (Chrome service worker / Firefox event page): wiring only. Listeners are
// registered synchronously at top level, so a service worker woken by an event sees them,
// and route to the modules that do the work:
//   tabs.ts               per-tab image state and its lifecycle
//   embedding-pipeline.ts bytes → cache → model → store, for everything that needs an embedding
//   indexer.ts            the queue that indexes the tabs' images
//   search.ts             queries, ranking, highlights
//   classification.ts     "Classify image"
//   page-menu.ts          the page's right-click menu (find similar, classify)
//   page-highlights.ts    whether matches stay lit on the page (popup closed, pin, Esc)
//   popup-views.ts        what popups show
//   thumbnails.ts         previews for the popup
//   memory.ts             the visual memory: stores, history, scopes, forget/usage/export
import browser, { type Menus, type Runtime, type Tabs } from 'webextension-polyfill';
import { POPUP_PORT, type ErrorResponse, type RequestMessage, type RequestOf, type RequestType, type ResponseMap } from '../messages';
import { parseContentMessage, parseRequestMessage } from '../message-validators';
import { decodeImageBlob } from '../engine/decode';
import { prepareImage } from '../engine/prepare-image';
import { preprocess, type PreprocessSpec } from '../engine/preprocess';
import { createImagePreparer } from './image-preparer';
import { cacheStats, clearCache, labelVectorStore } from '../store/db';
import { loadSettings, onSettingsChanged, sanitizeSettings, syncArea, type Settings } from '../settings';
import { reconcile } from '../settings-sync';
import { indexingOff, type SiteRules } from '../site-rules';
import { describe } from '../errors';
import { engineHost } from './engine-host';
import { cancelModelDownload, deleteModel, modelInventory, useModel } from './model-library';
import { EmbeddingPipeline } from './embedding-pipeline';
import { forgetTabLimits, loadImageBytes } from './image-source';
import { Indexer } from './indexer';
import { mark } from './timeline';
import { TabSearch } from './search';
import { Classifier } from './classification';
import { LabelVectors } from './label-vectors';
import { handlePageMessage } from './page-highlights';
import { createPageMenus, onMenuClicked, type PageMenuActions } from './page-menu';
import { buildView, pushAllViews, pushResults, pushView, servePopup } from './popup-views';
import { sendToTab } from './page-commands';
import { thumbnailFor } from './thumbnails';
import { BackgroundIndexing } from './background-indexing';
import { ReportAssembly } from './report-parts';
import { allTabs, ensureTab, forgetTab, getTab, setMergeDuplicates, type TabState } from './tabs';
import { Memory } from './memory';
import { revalidate } from './revalidate';
import { AskedTabs } from './asked-tabs';
import { contentSenderTab, isOwnExtensionPage } from './senders';
import { collectReleased, releaseBuffer } from '../bytes';

declare const __TEST_BUILD__: boolean;
declare const __TARGET__: 'chrome' | 'firefox';

const preparer = createImagePreparer();
const pipeline = new EmbeddingPipeline({ model: () => engineHost.get(), upcoming: () => engineHost.upcoming(), loadBytes: loadImageBytes, prepare: (file, spec) => preparer.prepare(file, spec), revalidate });
const search = new TabSearch(pipeline, pushResults);
// A label set's vectors are one record in the queries store, under a key no typed query can have.
const labelVectors = new LabelVectors(labelVectorStore);
const classifier = new Classifier(pipeline, labelVectors, pushView);
// visual memory; its background jobs wait while tabs the indexer serves have images pending
const memory = new Memory(pipeline, pushView, { indexerBusy: () => [...allTabs()].some((tab) => mayIndex(tab) && tab.hasPending()), pushAllViews });
memory.startPruning(); // visual memory

function onTabChanged(tab: TabState): void {
  pushView(tab.tabId);
  search.refreshSoon(tab);
  memory.tabChanged(tab); // visual memory: records the page, reveals an opened result
}

/** Whether the person asked for a tab's page: the one record of it (asked-tabs.ts). */
const askedTabs = new AskedTabs();
/** settings.indexInBackground: unasked pages too, when idle, tabs while shown, excluded sites never. */
const backgroundIndexing = new BackgroundIndexing(askedTabs);
/** Pause, excluded sites, "only these sites" (site-rules.ts): until loaded, nothing is fetched. */
let siteRules: SiteRules = { indexingPaused: true, siteMode: 'all', excludedSites: [], onlySites: [] };
/** Whether the indexer may fetch and embed the tab's images now. */
function mayIndex(tab: TabState): boolean {
  return indexingOff(tab.pageUrl, siteRules) === null && backgroundIndexing.mayIndex(tab, allTabs());
}
void browser.tabs.query({ active: true }).then((tabs) => {
  for (const t of tabs) if (t.id !== undefined && t.windowId !== undefined) backgroundIndexing.shown(t.id, t.windowId);
  indexer.kick();
});
/**
 * Which windows are minimised (their tabs are not on screen). No event says so: minimising a
 * window moves focus away from it and restoring it brings focus back, so the states are read
 * again whenever focus moves.
 */
function readWindowStates(): void {
  browser.windows.getAll().then(
    (windows) => {
      backgroundIndexing.windowStates(windows);
      indexer.kick();
    },
    (error: unknown) => console.warn('window states', error),
  );
}
readWindowStates();
const indexer = new Indexer(pipeline, onTabChanged, mayIndex);

/** The person asked for the tab's page (popup, menu, shortcut): its images may be fetched now. */
function askFor(tabId: number): void {
  if (askedTabs.add(tabId)) indexer.kick();
}

engineHost.onStatus((status) => {
  memory.updateStatus(); // visual memory
  pushAllViews();
  // Images that failed only because the model was missing get another go once it is there
  // (after Retry, a popup opened again, or new settings).
  if (status.phase === 'ready') indexer.requeue((entry) => entry.failure?.reason === 'model');
});

// ------------------------------------------------------------------ requests from popup and options

const handlers: { [T in RequestType]: (message: RequestOf<T>) => Promise<ResponseMap[T]> } = {
  search: async ({ tabId, query, scope }) => {
    getTab(tabId)?.pageHighlights.show();
    await search.run(tabId, query);
    void memory.search.search(tabId, query, scope); // visual memory: other pages' results merge in later
    return { ok: true, view: buildView(tabId) };
  },
  similar: async ({ tabId, url, frameId, scope }) => {
    getTab(tabId)?.pageHighlights.show();
    // visual memory: a picture of another page is not on this one (its similar ones may be)
    await search.similar(tabId, url, frameId).catch((e) => (memory.search.picture(tabId, url) ? undefined : Promise.reject(e)));
    void memory.search.similar(tabId, url, scope); // visual memory
    return { ok: true, view: buildView(tabId) };
  },
  classify: async ({ tabId, url, labels }) => ({ ok: true, url, labels: await classifier.classifyImage(tabId, url, labels) }),
  'classify-page': async ({ tabId, setId }) => ({ ok: true, classification: await classifier.classifyPage(tabId, setId) }),
  'prepare-labels': async ({ setId }) => {
    void classifier.prepare(setId).catch(() => undefined); // progress shows through label-progress; a failure shows at use
    return { ok: true };
  },
  'label-progress': async () => ({ ok: true, jobs: labelVectors.progress() }),
  reveal: async ({ tabId, url }) => {
    sendToTab(tabId, { type: 'reveal', url });
    return { ok: true };
  },
  'clear-highlights': async ({ tabId }) => {
    search.clearHighlights(tabId);
    return { ok: true };
  },
  'clear-cache': async () => {
    await clearCache();
    memory.search.invalidate(); // visual memory
    return { ok: true };
  },
  'cache-stats': async () => ({ ok: true, ...(await cacheStats()) }),
  thumbnail: async ({ tabId, url }) => ({ ok: true, dataUrl: (await memory.thumbnail(tabId, url)) ?? (await thumbnailFor(tabId, url)) }),
  'retry-model': async () => {
    await retryModel();
    return { ok: true };
  },
  // models (model-library.ts)
  'model-download': async ({ id }) => {
    engineHost.consent(id);
    if (engineHost.status.phase === 'confirm') {
      indexer.requeue((entry) => entry.failure?.reason === 'model');
      // The images that waited for the answer (pending, not failed) go now, with the download.
      indexer.kick();
      engineHost.get().catch(() => undefined);
    }
    return { ok: true };
  },
  'model-cancel': async () => {
    cancelModelDownload();
    return { ok: true };
  },
  'model-use': async ({ id, download }) => {
    await useModel(id, download);
    return { ok: true };
  },
  'model-inventory': () => modelInventory(),
  'model-delete': async ({ id }) => {
    await deleteModel(id);
    return { ok: true };
  },
  // visual memory (memory.ts)
  'open-result': async (request) => {
    await memory.openResult(request);
    return { ok: true };
  },
  forget: (request) => memory.forget(request),
  'memory-usage': () => memory.usage(),
  'memory-clear': async (request) => {
    await memory.clear(request);
    return { ok: true };
  },
  'memory-export': async () => ({ ok: true, text: await memory.exportFile() }),
  'memory-import': ({ text }) => memory.importFile(text),
  reembed: async (request) => {
    memory.reembed(request);
    return { ok: true };
  },
};

function handleRequest(message: RequestMessage): Promise<ResponseMap[RequestType]> {
  // The map above checks each handler against its request and response; TypeScript cannot
  // correlate the union's members at this one call.
  return (handlers[message.type] as (m: RequestMessage) => Promise<ResponseMap[RequestType]>)(message);
}

/** The popup's Retry after a failed load: load again, and give the images that failed another go. */
async function retryModel(): Promise<void> {
  if (engineHost.status.phase !== 'error') return; // loaded or loading already
  await engineHost.reset();
  indexer.requeue((entry) => entry.status === 'failed');
  // Also when no image waits (the indexer only loads the model for images).
  engineHost.get().catch(() => undefined);
}

const self = { id: browser.runtime.id, baseUrl: browser.runtime.getURL('') };
const reportParts = new ReportAssembly();

// ------------------------------------------------------------------ listeners

browser.runtime.onMessage.addListener((raw: unknown, sender: Runtime.MessageSender) => {
  if (sender.id !== self.id) return undefined;
  const content = parseContentMessage(raw);
  const contentTab = contentSenderTab(sender, self);
  if (content && contentTab !== null && sender.tab) {
    if (content.type === 'viewport') {
      // Only the top frame's scroll places the tab's images (viewport-order.ts).
      if ((sender.frameId ?? 0) === 0) getTab(contentTab)?.setViewport({ top: content.top, height: content.height });
      return undefined;
    }
    if (content.type !== 'images-found') {
      // Only tabs we track have highlights to pin or clear.
      const tracked = getTab(contentTab);
      if (tracked) handlePageMessage(contentTab, tracked.pageHighlights, content, { send: sendToTab, clearHighlights: (tabId) => search.clearHighlights(tabId) });
      return undefined;
    }
    const frameId = sender.frameId ?? 0;
    const report = reportParts.add(contentTab, frameId, content);
    if (!report) return undefined; // more parts to come
    const tab = ensureTab(contentTab, frameId === 0 ? report.pageUrl : (sender.tab.url ?? report.pageUrl), !!sender.tab.incognito);
    // A frame's own URL (from the browser, not the page) is the referrer for its images.
    const added = tab.updateFrame(frameId, frameId === 0 ? report.pageUrl : (sender.url ?? report.pageUrl), report.images, report.hidden, report.omitted);
    // A popup open on the tab asks for whatever page it shows (the popup may have opened on one it could not index).
    if (indexer.isFocused(tab.tabId)) askedTabs.add(tab.tabId);
    if (sender.tab.active && sender.tab.windowId !== undefined) backgroundIndexing.shown(contentTab, sender.tab.windowId);
    onTabChanged(tab);
    search.tabAppeared(tab);
    if (added.length > 0) indexer.kick();
    return undefined;
  }
  const request = parseRequestMessage(raw);
  if (!request || !isOwnExtensionPage(sender, self)) return undefined;
  return handleRequest(request).catch((error: unknown): ErrorResponse => ({ ok: false, error: describe(error) }));
});

browser.runtime.onConnect.addListener((port) => {
  if (port.name !== POPUP_PORT || port.sender?.id !== browser.runtime.id) return;
  servePopup(port, {
    opened(tabId, unavailable) {
      mark('popup-opened');
      indexer.focus(tabId, true);
      if (!unavailable) askFor(tabId);
      // The popup shows the tab's results again: so does the page.
      const tab = getTab(tabId);
      if (tab && !tab.pageHighlights.shown) {
        tab.pageHighlights.show();
        search.refreshSoon(tab);
      }
      // The content script may not be there yet (tab opened before install): ask it, or inject it.
      if (!unavailable && !getTab(tabId)) sendToTab(tabId, { type: 'rescan' });
      // Opening the popup is the moment to start loading the model: searching should not wait for it.
      engineHost.get().catch(() => undefined);
    },
    closed(tabId) {
      indexer.focus(tabId, false);
      if (getTab(tabId)?.pageHighlights.popupClosed()) search.clearHighlights(tabId);
    },
  });
});

// Images only a screenshot can read wait until their tab is shown.
browser.tabs.onActivated.addListener(({ tabId, windowId }) => {
  indexer.setActive(tabId);
  // The tab shown before in that window pauses (the indexer asks before each claim); this one may go on.
  backgroundIndexing.shown(tabId, windowId);
  if (backgroundIndexing.on) indexer.kick();
  const tab = getTab(tabId);
  if (!tab?.requeue((entry) => entry.failure?.reason === 'needs-visible-tab')) return;
  onTabChanged(tab);
  indexer.kick();
});
browser.tabs.onRemoved.addListener((tabId) => {
  askedTabs.delete(tabId);
  forgetTab(tabId);
  search.tabClosed(tabId);
  forgetTabLimits(tabId);
  reportParts.forgetTab(tabId);
  memory.tabClosed(tabId); // visual memory
  backgroundIndexing.tabClosed(tabId);
});
browser.windows.onFocusChanged.addListener(readWindowStates);
browser.windows.onRemoved.addListener((windowId) => {
  backgroundIndexing.windowClosed(windowId);
  void memory.windowClosed(); // visual memory: private store goes with the last private window
});
browser.tabs.onUpdated.addListener((tabId: number, change: Tabs.OnUpdatedChangeInfoType) => {
  if (change.status === 'loading' && change.url) {
    const tab = getTab(tabId);
    if (tab && tab.pageUrl !== change.url) {
      forgetTab(tabId);
      askedTabs.navigated(tabId, indexer.isFocused(tabId));
    }
    pushView(tabId);
  }
});

const NOTICE_FOR = { paused: 'indexing-paused', excluded: 'site-excluded', 'not-listed': 'site-not-listed' } as const;
/** Right-click actions fetch the image too: not on a site the settings keep out, nor while paused. */
function refuseMenuAction(tabId: number, frameId: number): boolean {
  const off = indexingOff(getTab(tabId)?.pageUrl ?? '', siteRules);
  if (off) sendToTab(tabId, { type: 'notice', kind: NOTICE_FOR[off.reason], detail: off.site }, frameId);
  return off !== null;
}

const menuActions: PageMenuActions = {
  similar: async (tabId, url, frameId) => {
    if (refuseMenuAction(tabId, frameId)) return;
    askFor(tabId);
    getTab(tabId)?.pageHighlights.show();
    await search.similar(tabId, url, frameId);
  },
  classify: async (tabId, url, frameId) => {
    if (refuseMenuAction(tabId, frameId)) return [];
    askFor(tabId);
    return classifier.classifyImage(tabId, url, undefined, frameId);
  },
};
const handleMenuClick = (info: Menus.OnClickData, tab: Tabs.Tab | undefined) => onMenuClicked(info, tab, menuActions);
browser.runtime.onInstalled.addListener(createPageMenus);
if (__TARGET__ === 'firefox') createPageMenus(); // Firefox event pages do not keep menus across restarts
browser.contextMenus.onClicked.addListener((info, tab) => {
  handleMenuClick(info, tab).catch((error: unknown) => console.error('menu', error));
});

/** The settings the engine is built from: a change means a new engine and a re-index. */
const engineKey = (s: Settings) => JSON.stringify([s.modelId, s.backend, s.modelBaseUrl]);
let engineSettings = '';
const rulesOf = (s: Settings): SiteRules => ({ indexingPaused: s.indexingPaused, siteMode: s.siteMode, excludedSites: s.excludedSites, onlySites: s.onlySites });
const syncAreas = () => ({ local: browser.storage.local, sync: syncArea() });
// Preferences changed on another device come in through storage.sync; they land in
// storage.local, whose change event below applies them.
const pullSynced = () => reconcile(syncAreas(), sanitizeSettings).catch((error: unknown) => console.warn('settings sync', error));
void pullSynced();
browser.storage.onChanged.addListener((changes, area) => {
  if (area === 'sync') void pullSynced();
});
loadSettings().then((s) => {
  siteRules = rulesOf(s);
  memory.configure(s); // visual memory
  engineSettings = engineKey(s);
  setMergeDuplicates(s.mergeDuplicates);
  backgroundIndexing.configure({ enabled: s.indexInBackground, excludedSites: s.historyExcludedSites });
  indexer.kick();
});
// A restarted worker resumes the tabs that were asked for: their pages report their images again.
askedTabs.restore().then((tabIds) => {
  for (const tabId of tabIds) sendToTab(tabId, { type: 'rescan' });
  // A page may have reported before the list came back.
  indexer.kick();
});
onSettingsChanged((settings) => {
  memory.configure(settings); // visual memory
  backgroundIndexing.configure({ enabled: settings.indexInBackground, excludedSites: settings.historyExcludedSites });
  // Resumed, or a site let in: its waiting images go now (nothing to stop otherwise: the indexer
  // asks before each claim, so images in flight finish and no new one starts).
  siteRules = rulesOf(settings);
  indexer.kick();
  if (setMergeDuplicates(settings.mergeDuplicates)) {
    for (const tab of allTabs()) {
      tab.regroupDuplicates();
      onTabChanged(tab);
    }
    indexer.kick();
  }
  if (engineKey(settings) !== engineSettings) {
    engineSettings = engineKey(settings);
    // A different model or backend: drop the engine and re-index every tab with the new one.
    engineHost.reset().then(() => {
      for (const tab of allTabs()) tab.results = [];
      indexer.requeue(() => true);
    });
  }
});

if (__TEST_BUILD__) {
  // Test builds expose the context-menu handler (headless browsers cannot click native menus),
  // the engine's image runs, and the decoder and preparer, to check the browser's decoding (EXIF
  // orientation, the model input read from part of a bitmap) where it really runs, and the
  // release of buffers the browser allocated.
  (globalThis as Record<string, unknown>).__lensTest = {
    onMenuClicked: handleMenuClick,
    classifyImage: (tabId: number | null, url: string, labels?: string[], frameId?: number) => classifier.classifyImage(tabId, url, labels, frameId),
    decodeImageBlob,
    prepareImage,
    /** Through the preparer indexing uses (in Chrome, the offscreen document's decode worker). */
    prepareAsIndexing: async (blob: Blob, spec: PreprocessSpec) => preparer.prepare({ blob, bytes: new Uint8Array(await blob.arrayBuffer()) }, spec),
    /** Straight to the engine, as an inference run of indexing, and how many vision sessions run images now. */
    embedPixels: async (pixels: Float32Array, count: number) => (await engineHost.get()).engine.embedImages(pixels, count),
    visionSessions: async () => (await engineHost.get()).engine.visionSessions ?? 1,
    preprocess,
    releaseBuffer,
    collectReleased,
  };
}
