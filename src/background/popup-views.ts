// What each open popup shows: the whole TabView, pushed over its port on every change
// (throttled while images index, see pushView), so a popup that reconnects needs no replay.
import browser, { type Runtime } from 'webextension-polyfill';
import { type BackgroundPortMessage, type TabView, type UnavailableReason } from '../messages';
import { parsePopupPortMessage } from '../message-validators';
import { KeyedThrottle } from '../concurrency';
import { engineHost } from './engine-host';
import { getTab } from './tabs';
import { scopedResults } from './history-search'; // visual memory
import { storageView } from './memory'; // visual memory

const VIEW_THROTTLE_MS = 150;

const ports = new Map<number, Set<Runtime.Port>>();
const views = new KeyedThrottle<number>(VIEW_THROTTLE_MS);

/** Why a tab cannot be searched at all, from its address; null when it can. */
export function unavailableReason(url: string | undefined): UnavailableReason | null {
  if (!url) return null;
  if (/^about:blank([?#]|$)/.test(url)) return 'blank';
  if (/^(chrome|edge|about|moz-extension|chrome-extension|view-source|devtools):/.test(url)) return 'browser-page';
  if (/^https:\/\/(chromewebstore\.google\.com|chrome\.google\.com\/webstore|addons\.mozilla\.org)\//.test(url)) return 'store';
  if (/^[a-z]+:[^?#]*\.pdf([?#]|$)/i.test(url)) return 'pdf';
  return null;
}

/** Each subscribed tab's reason it cannot be searched, found when its popup subscribed: every later view keeps it. */
const unavailableByTab = new Map<number, UnavailableReason | null>();

export function buildView(tabId: number, unavailable: UnavailableReason | null = unavailableByTab.get(tabId) ?? null): TabView {
  const tab = getTab(tabId);
  const counts = tab?.counts() ?? { found: 0, merged: 0, hidden: 0, omitted: 0, indexed: 0, failed: 0, pending: 0 };
  const errors = (tab?.failures() ?? []).map(({ url, failure }) => ({ url, reason: failure.reason, error: failure.detail }));
  return {
    tabId,
    pageUrl: tab?.pageUrl ?? '',
    ...counts,
    errors,
    stats: tab?.stats ?? { embedded: 0, fromCache: 0 },
    model: engineHost.status,
    query: tab?.query ?? '',
    similarTo: tab?.similarTo ?? null,
    unavailable,
    // Visual memory (memory.ts, history-search.ts): the store's health, the scope, other pages' results merged in.
    storage: storageView(tab?.incognito ?? false),
    ...scopedResults(tabId, tab?.results ?? []),
  };
}

/**
 * Sends the tab's view to its popups after a change of the tab (its images, results, labels), at
 * most every VIEW_THROTTLE_MS while its images index; at once when none is left to index, so the
 * last answers (a revisit's cached page, a query's results) show without waiting for the interval.
 */
export function pushView(tabId: number): void {
  send(tabId, () => getTab(tabId)?.settled() ?? false);
}

/**
 * Sends the tab's view at once: its results changed (a query answered, the results ranked again
 * with a run's images). They have their own interval (TabSearch.refreshSoon), so they do not wait
 * behind the view that carried the run's image count a moment before.
 */
export function pushResults(tabId: number): void {
  send(tabId, () => true);
}

/** Sends every popup its view after a change they all show (the model's status, the memory's): at most one per interval whatever the tab's state, as a download reports progress many times a second. */
export function pushAllViews(): void {
  for (const tabId of ports.keys()) send(tabId, () => false);
}

/** `atOnce` is asked only when a popup shows the tab: a tab indexing in the background pushes on every answer, and settled() walks its images. */
function send(tabId: number, atOnce: () => boolean): void {
  if (!ports.get(tabId)?.size) return;
  views.schedule(
    tabId,
    () => {
      const message: BackgroundPortMessage = { type: 'view', view: buildView(tabId) };
      for (const port of ports.get(tabId) ?? []) port.postMessage(message);
    },
    atOnce(),
  );
}

export interface PopupHooks {
  /** A popup subscribed to this tab; `unavailable` says whether the tab can be searched at all. */
  opened(tabId: number, unavailable: UnavailableReason | null): void;
  /** The tab's last popup closed. */
  closed(tabId: number): void;
}

/** Serves one popup port: it subscribes to a tab and gets its view now and on every change. */
export function servePopup(port: Runtime.Port, hooks: PopupHooks): void {
  let subscribed: number | null = null;
  port.onMessage.addListener(async (raw: unknown) => {
    const message = parsePopupPortMessage(raw);
    if (!message) return;
    subscribed = message.tabId;
    if (!ports.has(subscribed)) ports.set(subscribed, new Set());
    ports.get(subscribed)!.add(port);
    const tab = await browser.tabs.get(subscribed).catch(() => undefined);
    const unavailable = unavailableReason(tab?.url);
    unavailableByTab.set(subscribed, unavailable);
    port.postMessage({ type: 'view', view: buildView(subscribed, unavailable) } satisfies BackgroundPortMessage);
    hooks.opened(subscribed, unavailable);
  });
  port.onDisconnect.addListener(() => {
    if (subscribed === null) return;
    ports.get(subscribed)?.delete(port);
    if (!ports.get(subscribed)?.size) {
      ports.delete(subscribed);
      views.forget(subscribed);
      unavailableByTab.delete(subscribed);
      hooks.closed(subscribed);
    }
  });
}
