// Per-tab state: the images each frame reported, their indexing status, the current query.
// Kept in the background because the popup can close at any moment.
import type { FoundImage, SearchResult } from '../messages';

export type ImageStatus = 'pending' | 'working' | 'indexed' | 'failed';

export interface ImageEntry {
  url: string;
  frameId: number;
  found: FoundImage;
  status: ImageStatus;
  /** L2-normalised image embedding once indexed. */
  embedding?: Float32Array;
  error?: string;
  /** JPEG data: URL preview made when the bytes were at hand (see thumbnail.ts). */
  thumbnail?: string;
  /** Which model the embedding belongs to (a model switch re-queues). */
  modelId?: string;
  /** SHA-256 of the bytes, once fetched. */
  sha256?: string;
  /**
   * Set when another entry of the tab has the same bytes (see duplicates.ts): this one is then
   * neither counted nor ranked, and highlights of the other light up this one's elements too.
   */
  duplicateOf?: string;
}

export interface TabState {
  tabId: number;
  pageUrl: string;
  incognito: boolean;
  /** Images per frame, as last reported (each report replaces the frame's list). */
  frames: Map<number, FoundImage[]>;
  hiddenByFrame: Map<number, number>;
  /** Each frame's document URL (the referrer its images are requested with). */
  frameUrls: Map<number, string>;
  entries: Map<string, ImageEntry>;
  query: string;
  results: SearchResult[];
  /**
   * The highlight command last sent to the page. Results are recomputed every few hundred ms
   * while images index; re-sending unchanged highlights would redraw the overlay each time
   * (and cut short a "reveal" pulse). Cleared whenever a frame reports, since a frame that
   * reports may be a new document without our highlights.
   */
  sentHighlights: string;
}

const tabs = new Map<number, TabState>();

export function getTab(tabId: number): TabState | undefined {
  return tabs.get(tabId);
}

export function allTabs(): IterableIterator<TabState> {
  return tabs.values();
}

export function ensureTab(tabId: number, pageUrl: string, incognito: boolean): TabState {
  let tab = tabs.get(tabId);
  if (!tab) {
    tab = { tabId, pageUrl, incognito, frames: new Map(), hiddenByFrame: new Map(), frameUrls: new Map(), entries: new Map(), query: '', results: [], sentHighlights: '' };
    tabs.set(tabId, tab);
  }
  return tab;
}

export function forgetTab(tabId: number): void {
  tabs.delete(tabId);
}

/** Replaces one frame's image list; returns entries that are new and need indexing. */
export function updateFrame(tab: TabState, frameId: number, pageUrl: string, images: FoundImage[], hidden: number): ImageEntry[] {
  if (frameId === 0 && pageUrl !== tab.pageUrl) {
    // The top frame navigated: everything the tab knew belongs to the previous page.
    tab.pageUrl = pageUrl;
    tab.frames.clear();
    tab.hiddenByFrame.clear();
    tab.frameUrls.clear();
    tab.entries.clear();
    tab.results = [];
  }
  tab.sentHighlights = '';
  tab.frames.set(frameId, images);
  tab.hiddenByFrame.set(frameId, hidden);
  tab.frameUrls.set(frameId, pageUrl);
  const live = new Map<string, number[]>();
  for (const [id, list] of tab.frames) for (const image of list) live.get(image.url)?.push(id) ?? live.set(image.url, [id]);
  for (const [url, entry] of tab.entries) {
    const shownBy = live.get(url);
    if (!shownBy) tab.entries.delete(url);
    // Page-only pixels are read from a frame that still shows them.
    else if (!shownBy.includes(entry.frameId)) entry.frameId = shownBy[0];
  }

  const added: ImageEntry[] = [];
  for (const entry of tab.entries.values()) {
    // The copy it stood in for is gone: it counts (and is searched) on its own again.
    if (entry.duplicateOf && !tab.entries.has(entry.duplicateOf)) {
      entry.duplicateOf = undefined;
      entry.status = 'pending';
      added.push(entry);
    }
  }
  for (const image of images) {
    const entry = tab.entries.get(image.url);
    if (entry) {
      entry.found = image;
      continue;
    }
    const fresh: ImageEntry = { url: image.url, frameId, found: image, status: 'pending' };
    tab.entries.set(image.url, fresh);
    added.push(fresh);
  }
  return added;
}

/** Visible images first, then top to bottom: what the person is looking at gets indexed first. */
export function nextPending(tab: TabState, limit: number): ImageEntry[] {
  const pending = [...tab.entries.values()].filter((e) => e.status === 'pending');
  pending.sort((a, b) => Number(b.found.visible) - Number(a.found.visible) || a.found.top - b.found.top);
  return pending.slice(0, limit);
}

export function counts(tab: TabState): { found: number; hidden: number; indexed: number; failed: number; pending: number } {
  let indexed = 0,
    failed = 0,
    pending = 0;
  let duplicates = 0;
  for (const entry of tab.entries.values()) {
    if (entry.duplicateOf) duplicates++;
    else if (entry.status === 'indexed') indexed++;
    else if (entry.status === 'failed') failed++;
    else pending++;
  }
  let hidden = 0;
  for (const n of tab.hiddenByFrame.values()) hidden += n;
  return { found: tab.entries.size - duplicates, hidden, indexed, failed, pending };
}
