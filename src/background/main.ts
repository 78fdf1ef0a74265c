// Background (Chrome service worker / Firefox event page): routes messages, owns the
// per-tab image index, the engine and the context menu. Listeners are registered
// synchronously at top level so a service worker woken by an event sees them.
import browser, { type Runtime, type Tabs } from 'webextension-polyfill';
import {
  POPUP_PORT,
  parseContentMessage,
  parsePopupPortMessage,
  parseRequestMessage,
  type BackgroundPortMessage,
  type ErrorResponse,
  type PageCommand,
  type RequestMessage,
  type TabView,
} from '../messages';
import { defaultLabels } from '../engine/labels';
import { l2normalize } from '../engine/similarity';
import { preprocess } from '../engine/preprocess';
import { decodeImageBlob } from '../engine/decode';
import { cacheStats, clearCache } from '../store/db';
import { loadSettings, onSettingsChanged, type Settings } from '../settings';
import { engineHost, type LoadedModel } from './engine-host';
import { describe } from '../errors';
import { copiesOf, regroupDuplicates, setMergeDuplicates } from './duplicates';
import { forgetTabLimits, loadImageBytes } from './image-source';
import { makeThumbnail } from './thumbnail';
import { requeueScreenCaptures } from './page-bytes';
import { Indexer, MODEL_UNAVAILABLE } from './indexer';
import { classify, queryVector, rank } from './search';
import { counts, ensureTab, forgetTab, getTab, updateFrame, allTabs, type ImageEntry, type TabState } from './tabs';

declare const __TEST_BUILD__: boolean;

const MENU_CLASSIFY = 'classify-image';
const VIEW_THROTTLE_MS = 150;
const MAX_ERRORS_SHOWN = 20;

// ------------------------------------------------------------------ popup views

const ports = new Map<number, Set<Runtime.Port>>();
const viewTimers = new Map<number, ReturnType<typeof setTimeout>>();

function unavailableReason(url: string | undefined): string | null {
  if (!url) return null;
  if (/^(chrome|edge|about|moz-extension|chrome-extension|view-source|devtools):/.test(url) && !url.startsWith('about:blank'))
    return 'Browser pages cannot be searched.';
  if (/^https:\/\/(chromewebstore\.google\.com|chrome\.google\.com\/webstore|addons\.mozilla\.org)\//.test(url))
    return 'Extension store pages cannot be searched: browsers protect them from all extensions.';
  return null;
}

function buildView(tabId: number, unavailable: string | null = null): TabView {
  const tab = getTab(tabId);
  const c = tab ? counts(tab) : { found: 0, hidden: 0, indexed: 0, failed: 0, pending: 0 };
  const errors = tab
    ? [...tab.entries.values()].filter((e) => e.status === 'failed').slice(0, MAX_ERRORS_SHOWN).map((e) => ({ url: e.url, error: e.error ?? 'failed' }))
    : [];
  return { tabId, ...c, errors, model: engineHost.status, query: tab?.query ?? '', results: tab?.results ?? [], unavailable };
}

function pushView(tabId: number): void {
  if (!ports.get(tabId)?.size || viewTimers.has(tabId)) return;
  viewTimers.set(
    tabId,
    setTimeout(() => {
      viewTimers.delete(tabId);
      const message: BackgroundPortMessage = { type: 'view', view: buildView(tabId) };
      for (const port of ports.get(tabId) ?? []) port.postMessage(message);
    }, VIEW_THROTTLE_MS),
  );
}

engineHost.onStatus((status) => {
  for (const tabId of ports.keys()) pushView(tabId);
  // Images that failed only because the model was missing get another go once it is there
  // (after Retry, a popup opened again, or new settings).
  if (status.phase === 'ready') requeue((entry) => entry.status === 'failed' && (entry.error?.startsWith(MODEL_UNAVAILABLE) ?? false));
});

// ------------------------------------------------------------------ indexing and live results

const refreshTimers = new Map<number, ReturnType<typeof setTimeout>>();

/** Results are computed over whatever is indexed so far and refreshed as more arrives. */
function onTabChanged(tab: TabState): void {
  pushView(tab.tabId);
  if (!tab.query || refreshTimers.has(tab.tabId)) return;
  refreshTimers.set(
    tab.tabId,
    setTimeout(() => {
      refreshTimers.delete(tab.tabId);
      runSearch(tab.tabId, tab.query).catch(() => undefined);
    }, 300),
  );
}

const indexer = new Indexer(onTabChanged);

function sendToTab(tabId: number, command: PageCommand, frameId?: number): void {
  browser.tabs.sendMessage(tabId, command, frameId === undefined ? undefined : { frameId }).catch(() => undefined);
}

async function runSearch(tabId: number, query: string): Promise<TabView> {
  const tab = getTab(tabId);
  if (!tab) return buildView(tabId);
  tab.query = query.trim();
  if (!tab.query) {
    tab.results = [];
    tab.sentHighlights = '';
    sendToTab(tabId, { type: 'clear-highlights' });
    pushView(tabId);
    return buildView(tabId);
  }
  const model = await engineHost.get();
  const vector = await queryVector(model, tab.query, !tab.incognito);
  if (tab.query !== query.trim()) return buildView(tabId); // a newer query arrived meanwhile
  tab.results = vector ? rank(tab, vector, model.spec.id) : [];
  // A result stands for every copy of its bytes on the page (see duplicates.ts): all light up.
  const matches = tab.results
    .filter((r) => r.match)
    .flatMap(({ url, rank: r, score }) => copiesOf(tab, url).map((copy) => ({ url: copy, rank: r, score })));
  const highlights = JSON.stringify(matches);
  if (highlights !== tab.sentHighlights) {
    tab.sentHighlights = highlights;
    sendToTab(tabId, { type: 'highlight', results: matches });
  }
  pushView(tabId);
  return buildView(tabId);
}

// ------------------------------------------------------------------ classification

async function embedOne(model: LoadedModel, url: string, tab: TabState | undefined, frameId?: number): Promise<Float32Array> {
  const entry = tab?.entries.get(url);
  const known = entry?.duplicateOf ? tab?.entries.get(entry.duplicateOf) : entry;
  if (known?.embedding && known.modelId === model.spec.id) return known.embedding;
  const fetched = await loadImageBytes({ url, tab, frameId: frameId ?? entry?.frameId });
  const image = await decodeImageBlob(fetched.blob);
  const [raw] = await model.engine.embedImages(preprocess(image, model.spec), 1);
  return l2normalize(raw);
}

async function classifyImage(tabId: number | null, url: string, labels?: string[], frameId?: number) {
  const tab = tabId === null ? undefined : getTab(tabId);
  const model = await engineHost.get();
  const settings = await loadSettings();
  const labelSet = labels ?? (settings.labels.length > 0 ? settings.labels : defaultLabels(model.spec));
  const embedding = await embedOne(model, url, tab, frameId);
  const result = await classify(model, embedding, labelSet, !tab?.incognito);
  if (tabId !== null) sendToTab(tabId, { type: 'show-classification', url, labels: result.slice(0, 5) }, frameId);
  return result;
}

/** The preview made at indexing time, else one made now (images that came from the cache were never decoded). */
async function thumbnailFor(tabId: number, url: string): Promise<string> {
  const tab = getTab(tabId);
  const entry = tab?.entries.get(url);
  if (entry?.thumbnail) return entry.thumbnail;
  const fetched = await loadImageBytes({ url, tab, frameId: entry?.frameId });
  const thumbnail = await makeThumbnail(fetched.blob);
  if (entry) entry.thumbnail = thumbnail;
  return thumbnail;
}

// ------------------------------------------------------------------ listeners

function isOwnExtensionPage(sender: Runtime.MessageSender): boolean {
  return sender.id === browser.runtime.id && !sender.tab?.id || (sender.url ?? '').startsWith(browser.runtime.getURL(''));
}

async function handleRequest(message: RequestMessage): Promise<unknown> {
  switch (message.type) {
    case 'search':
      return { ok: true, view: await runSearch(message.tabId, message.query) };
    case 'classify':
      return { ok: true, url: message.url, labels: await classifyImage(message.tabId, message.url, message.labels) };
    case 'reveal':
      sendToTab(message.tabId, { type: 'reveal', url: message.url });
      return { ok: true };
    case 'clear-highlights': {
      const tab = getTab(message.tabId);
      if (tab) tab.sentHighlights = '';
      sendToTab(message.tabId, { type: 'clear-highlights' });
      return { ok: true };
    }
    case 'clear-cache':
      await clearCache();
      return { ok: true };
    case 'cache-stats':
      return { ok: true, ...(await cacheStats()) };
    case 'thumbnail':
      return { ok: true, dataUrl: await thumbnailFor(message.tabId, message.url) };
    case 'retry-model':
      await retryModel();
      return { ok: true };
  }
}

/** The popup's Retry after a failed load: load again, and give the images that failed another go. */
async function retryModel(): Promise<void> {
  if (engineHost.status.phase !== 'error') return; // loaded or loading already
  await engineHost.reset();
  requeue((entry) => entry.status === 'failed');
  // Also when no image waits (the indexer only loads the model for images).
  engineHost.get().catch(() => undefined);
}

/** Puts the chosen images back in the queue, forgetting their error and embedding. */
function requeue(which: (entry: ImageEntry) => boolean): void {
  let any = false;
  for (const tab of allTabs()) {
    let requeued = false;
    for (const entry of tab.entries.values()) {
      if (!which(entry)) continue;
      entry.status = 'pending';
      entry.error = undefined;
      entry.embedding = undefined;
      requeued = true;
    }
    if (requeued) onTabChanged(tab);
    any ||= requeued;
  }
  if (any) indexer.kick();
}

browser.runtime.onMessage.addListener((raw: unknown, sender: Runtime.MessageSender) => {
  if (sender.id !== browser.runtime.id) return undefined;
  const content = parseContentMessage(raw);
  if (content && sender.tab?.id !== undefined) {
    const tabId = sender.tab.id;
    const frameId = sender.frameId ?? 0;
    const tab = ensureTab(tabId, frameId === 0 ? content.pageUrl : sender.tab.url ?? content.pageUrl, !!sender.tab.incognito);
    // A frame's own URL (from the browser, not the page) is the referrer for its images.
    const added = updateFrame(tab, frameId, frameId === 0 ? content.pageUrl : sender.url ?? content.pageUrl, content.images, content.hidden);
    onTabChanged(tab);
    if (added.length > 0) indexer.kick();
    return undefined;
  }
  const request = parseRequestMessage(raw);
  if (!request || !isOwnExtensionPage(sender)) return undefined;
  return handleRequest(request).catch((error: unknown): ErrorResponse => ({ ok: false, error: describe(error) }));
});

browser.runtime.onConnect.addListener((port) => {
  if (port.name !== POPUP_PORT || port.sender?.id !== browser.runtime.id) return;
  let subscribed: number | null = null;
  port.onMessage.addListener(async (raw: unknown) => {
    const message = parsePopupPortMessage(raw);
    if (!message) return;
    subscribed = message.tabId;
    if (!ports.has(subscribed)) ports.set(subscribed, new Set());
    ports.get(subscribed)!.add(port);
    indexer.focus(subscribed, true);
    const tab = await browser.tabs.get(subscribed).catch(() => undefined);
    const unavailable = unavailableReason(tab?.url);
    port.postMessage({ type: 'view', view: buildView(subscribed, unavailable) } satisfies BackgroundPortMessage);
    if (!unavailable && !getTab(subscribed)) {
      // The content script may not be there yet (tab opened before install): ask it, or inject it.
      sendToTab(subscribed, { type: 'rescan' });
    }
    // Opening the popup is the moment to start loading the model: searching should not wait for it.
    engineHost.get().catch(() => undefined);
  });
  port.onDisconnect.addListener(() => {
    if (subscribed === null) return;
    ports.get(subscribed)?.delete(port);
    if (!ports.get(subscribed)?.size) {
      ports.delete(subscribed);
      indexer.focus(subscribed, false);
    }
  });
});

// Images only a screenshot can read wait until their tab is shown.
browser.tabs.onActivated.addListener(({ tabId }) => {
  const tab = getTab(tabId);
  if (!tab || !requeueScreenCaptures(tab)) return;
  onTabChanged(tab);
  indexer.kick();
});
browser.tabs.onRemoved.addListener((tabId) => {
  forgetTab(tabId);
  forgetTabLimits(tabId);
});
browser.tabs.onUpdated.addListener((tabId: number, change: Tabs.OnUpdatedChangeInfoType) => {
  if (change.status === 'loading' && change.url) {
    const tab = getTab(tabId);
    if (tab && tab.pageUrl !== change.url) forgetTab(tabId);
    pushView(tabId);
  }
});

function createMenus(): void {
  browser.contextMenus.removeAll().then(() =>
    browser.contextMenus.create({ id: MENU_CLASSIFY, title: 'Classify image', contexts: ['image'] }),
  );
}
browser.runtime.onInstalled.addListener(createMenus);
if (__TARGET__ === 'firefox') createMenus(); // Firefox event pages do not keep menus across restarts

browser.contextMenus.onClicked.addListener((info, tab) => {
  if (info.menuItemId !== MENU_CLASSIFY || !info.srcUrl) return;
  classifyImage(tab?.id ?? null, info.srcUrl, undefined, info.frameId).catch((error: unknown) => {
    console.error('classify failed', error);
    if (tab?.id !== undefined)
      sendToTab(tab.id, { type: 'show-classification', url: info.srcUrl!, labels: [], error: `Could not classify this image: ${describe(error)}` }, info.frameId);
  });
});

/** The settings the engine is built from: a change means a new engine and a re-index. */
const engineKey = (s: Settings) => JSON.stringify([s.modelId, s.backend, s.modelBaseUrl]);
let engineSettings = '';
loadSettings().then((s) => {
  engineSettings = engineKey(s);
  setMergeDuplicates(s.mergeDuplicates);
});
onSettingsChanged((settings) => {
  if (setMergeDuplicates(settings.mergeDuplicates)) {
    for (const tab of allTabs()) {
      regroupDuplicates(tab);
      onTabChanged(tab);
    }
    indexer.kick();
  }
  if (engineKey(settings) !== engineSettings) {
    engineSettings = engineKey(settings);
    // A different model or backend: drop the engine and re-index every tab with the new one.
    engineHost.reset().then(() => {
      for (const tab of allTabs()) tab.results = [];
      requeue(() => true);
    });
  }
});

declare const __TARGET__: 'chrome' | 'firefox';
if (__TEST_BUILD__) {
  // Test builds expose the context-menu handler (headless browsers cannot click native menus)
  // and the decoder, to check the browser's decoding (EXIF orientation) where it really runs.
  (globalThis as Record<string, unknown>).__lensTest = { classifyImage, decodeImageBlob };
}
