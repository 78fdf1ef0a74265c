// Per-tab state: the images each frame reported, where each one is in its indexing lifecycle,
// the current query. Kept in the background because the popup can close at any moment.
// In the manner of uBlock Origin's page store, the tab object owns its entries' transitions:
// nothing outside this class writes an entry's status.
// Whether the person asked for the page is not kept here: asked-tabs.ts holds it.
import type { FailureReason, FoundImage, SearchResult } from '../messages';
import { PageHighlights } from './page-highlights';
import { byViewport, type Viewport } from './viewport-order';

/**
 * An image's indexing lifecycle:
 *
 *   pending ──claim──▶ working ──markIndexed──▶ indexed
 *                         │ └────recordBytes───▶ duplicate  (same bytes as another entry)
 *                         └──────markFailed────▶ failed     (with a typed reason)
 *   pending ──markFailed──▶ failed                          (the model could not load)
 *   duplicate ──(its original failed)──▶ failed              (same bytes, same reason)
 *   indexed/failed/duplicate/working ──requeue──▶ pending
 *
 * A duplicate whose original leaves the page, or every duplicate when merging is switched off,
 * goes back to pending; an indexed entry becomes a duplicate when merging is switched on.
 * Results that arrive for an entry no longer `working` (requeued meanwhile) are dropped.
 */
export type ImageStatus = 'pending' | 'working' | 'indexed' | 'failed' | 'duplicate';

/** Why an image could not be indexed. Retries are decided on the reason, never on the wording. */
export interface ImageFailure {
  reason: FailureReason;
  /** For people: what went wrong, as the popup lists it. */
  detail: string;
}

export interface ImageEntry {
  readonly url: string;
  /** The frame that shows it (page-only pixels are read from there). */
  readonly frameId: number;
  readonly found: FoundImage;
  readonly status: ImageStatus;
  /** Unit-length image embedding once indexed. */
  readonly embedding?: Float32Array;
  /** Which model the embedding belongs to (a model switch re-queues). */
  readonly modelId?: string;
  readonly failure?: ImageFailure;
  /** SHA-256 of the bytes, once fetched (kept across requeues: it finds the cached embedding). */
  readonly sha256?: string;
  /** For a duplicate: the entry with the same bytes that stands for it. */
  readonly duplicateOf?: string;
  /** JPEG data: URL preview made when the bytes were at hand (see thumbnails.ts). */
  readonly thumbnail?: string;
}

type MutableEntry = { -readonly [K in keyof ImageEntry]: ImageEntry[K] };

/** An indexed picture's `preview` field for the popup (SearchResult.preview): set when this background holds its preview. */
export function previewField(entry: ImageEntry): { preview?: true } {
  return entry.thumbnail ? { preview: true } : {};
}

export interface TabCounts {
  found: number;
  /** Copies with the same bytes as a found image, counted and shown once. */
  merged: number;
  hidden: number;
  /** Images the frames showed past what they could list (see MAX_IMAGES_PER_MESSAGE). */
  omitted: number;
  indexed: number;
  failed: number;
  pending: number;
}

/** Images the model embedded for this page, and images answered from memory or IndexedDB. */
export interface EmbeddingStats {
  embedded: number;
  fromCache: number;
}

// Identical bytes at different addresses (the same picture from two CDN hosts, cache-busting
// query strings, a blob: copy of a shown image) are one image to the person looking at the page.
// With the mergeDuplicates setting on (the default), the first entry with given bytes stands for
// all of them: the others are not counted in `found`, never ranked as separate results, and when
// the first is highlighted (or revealed) every element showing any copy lights up.
// De-duplication by address happens earlier, in the content script (one entry per URL).
let mergeDuplicates = true;

/** Returns whether the setting changed (then call regroupDuplicates on every tab). */
export function setMergeDuplicates(on: boolean): boolean {
  if (mergeDuplicates === on) return false;
  mergeDuplicates = on;
  return true;
}

/** One frame's last report: its document URL (the referrer its images are requested with) and what it showed. */
interface FrameReport {
  url: string;
  images: FoundImage[];
  hidden: number;
  omitted: number;
}

export class TabState {
  readonly tabId: number;
  readonly incognito: boolean;
  /** The top frame's URL; a different one means a new page. */
  pageUrl: string;
  /** Per frame, as last reported (each report replaces the frame's). */
  private readonly frames = new Map<number, FrameReport>();
  private readonly entries = new Map<string, MutableEntry>();
  private readonly embeddingStats: EmbeddingStats = { embedded: 0, fromCache: 0 };
  private viewport: Viewport | null = null;

  query = '';

  /** The image the results are ranked against instead of a query (find similar), if any. */
  similarTo: string | null = null;
  results: SearchResult[] = [];
  /**
   * The highlight command last sent to the page. Results are recomputed every few hundred ms
   * while images index; re-sending unchanged highlights would redraw the overlay each time
   * (and cut short a "reveal" pulse). Cleared whenever a frame reports, since a frame that
   * reports may be a new document without our highlights.
   */
  sentHighlights = '';
  /** Whether the matches are lit up on the page (popup closed, pinned, Esc). */
  readonly pageHighlights = new PageHighlights();

  constructor(tabId: number, pageUrl: string, incognito: boolean) {
    this.tabId = tabId;
    this.pageUrl = pageUrl;
    this.incognito = incognito;
  }

  /** The frame's document URL: the referrer its images are requested with. */
  frameUrl(frameId: number): string | undefined {
    return this.frames.get(frameId)?.url;
  }

  entry(url: string): ImageEntry | undefined {
    return this.entries.get(url);
  }

  allEntries(): IterableIterator<ImageEntry> {
    return this.entries.values();
  }

  /** The entry whose embedding answers for `url`: itself, or the original of a duplicate. */
  embeddingEntry(url: string): ImageEntry | undefined {
    const entry = this.entries.get(url);
    return entry?.status === 'duplicate' && entry.duplicateOf ? this.entries.get(entry.duplicateOf) : entry;
  }

  /** Replaces one frame's image list; returns entries that are new (or pending again) and need indexing. */
  updateFrame(frameId: number, pageUrl: string, images: FoundImage[], hidden: number, omitted = 0): ImageEntry[] {
    if (frameId === 0 && pageUrl !== this.pageUrl) {
      // The top frame navigated: everything the tab knew belongs to the previous page.
      this.pageUrl = pageUrl;
      this.frames.clear();
      this.entries.clear();
      this.results = [];
      this.similarTo = null;
      this.embeddingStats.embedded = this.embeddingStats.fromCache = 0;
      this.viewport = null;
    }
    this.sentHighlights = '';
    this.frames.set(frameId, { url: pageUrl, images, hidden, omitted });
    const live = new Map<string, number[]>();
    for (const [id, report] of this.frames) for (const image of report.images) live.get(image.url)?.push(id) ?? live.set(image.url, [id]);
    for (const [url, entry] of this.entries) {
      const shownBy = live.get(url);
      if (!shownBy) this.entries.delete(url);
      // Page-only pixels are read from a frame that still shows them.
      else if (!shownBy.includes(entry.frameId)) entry.frameId = shownBy[0];
    }

    const added: ImageEntry[] = [];
    for (const entry of this.entries.values()) {
      // The copy it stood in for is gone: it counts (and is searched) on its own again.
      if (entry.status === 'duplicate' && !this.entries.has(entry.duplicateOf!)) {
        this.reset(entry);
        added.push(entry);
      }
    }
    for (const image of images) {
      const entry = this.entries.get(image.url);
      if (entry) {
        entry.found = image;
        continue;
      }
      const fresh: MutableEntry = { url: image.url, frameId, found: image, status: 'pending' };
      this.entries.set(image.url, fresh);
      added.push(fresh);
    }
    return added;
  }

  /** Where the top frame is scrolled to, once it has scrolled (see viewport-order.ts). */
  setViewport(viewport: Viewport): void {
    this.viewport = viewport;
  }

  /**
   * Takes up to `limit` pending entries into `working`: what the person is looking at first,
   * then what is near it, then the rest (viewport-order.ts).
   */
  claim(limit: number): ImageEntry[] {
    const pending = [...this.entries.values()].filter((e) => e.status === 'pending');
    pending.sort(byViewport(this.viewport));
    const claimed = pending.slice(0, limit);
    for (const entry of claimed) entry.status = 'working';
    return claimed;
  }

  hasPending(): boolean {
    return this.some((entry) => entry.status === 'pending');
  }

  /** No image is left to index: none waits, none is being worked on. */
  settled(): boolean {
    return !this.some((entry) => entry.status === 'pending' || entry.status === 'working');
  }

  private some(test: (entry: ImageEntry) => boolean): boolean {
    for (const entry of this.entries.values()) if (test(entry)) return true;
    return false;
  }

  /** Returns false when the entry was requeued (or left the page) meanwhile: the result is stale. */
  markIndexed(entry: ImageEntry, embedding: Float32Array, modelId: string): boolean {
    const own = this.own(entry, 'working');
    if (!own) return false;
    Object.assign(own, { status: 'indexed', embedding, modelId, failure: undefined });
    return true;
  }

  /** From `working`, or from `pending` when the model could not load for anything waiting. */
  markFailed(entry: ImageEntry, failure: ImageFailure): boolean {
    const own = this.own(entry, 'working') ?? this.own(entry, 'pending');
    if (!own) return false;
    Object.assign(own, { status: 'failed', failure, embedding: undefined });
    // Its copies have the same bytes and would fail the same way: each is listed with its address.
    for (const copy of this.entries.values()) {
      if (copy.status === 'duplicate' && copy.duplicateOf === own.url) Object.assign(copy, { status: 'failed', failure, duplicateOf: undefined });
    }
    return true;
  }

  /**
   * Records the entry's bytes; if merging is on and another entry of the tab already has them,
   * marks this one a duplicate of it and returns true (the caller then skips embedding it).
   */
  recordBytes(entry: ImageEntry, sha256: string): boolean {
    const own = this.own(entry, 'working') ?? this.own(entry, 'indexed');
    if (!own) return false;
    own.sha256 = sha256;
    if (!mergeDuplicates) return false;
    for (const other of this.entries.values()) {
      if (other !== own && other.sha256 === sha256 && other.status !== 'duplicate' && other.status !== 'failed') {
        Object.assign(own, { status: 'duplicate', duplicateOf: other.url, embedding: undefined, failure: undefined });
        return true;
      }
    }
    return false;
  }

  /** Puts the chosen entries back in the queue, forgetting their result; returns whether any moved. */
  requeue(which: (entry: ImageEntry) => boolean): boolean {
    let any = false;
    for (const entry of this.entries.values()) {
      if (entry.status === 'pending' || !which(entry)) continue;
      this.reset(entry);
      any = true;
    }
    return any;
  }

  /** After the merge setting changed: copies become separate images again, or indexed images with equal bytes merge. */
  regroupDuplicates(): boolean {
    if (!mergeDuplicates) return this.requeue((entry) => entry.status === 'duplicate');
    let any = false;
    for (const entry of this.entries.values()) {
      if (entry.status === 'indexed' && entry.sha256) any = this.recordBytes(entry, entry.sha256) || any;
    }
    return any;
  }

  /** The URL and the URLs of all its copies: what the page should light up for one result. */
  copiesOf(url: string): string[] {
    const urls = [url];
    for (const entry of this.entries.values()) if (entry.status === 'duplicate' && entry.duplicateOf === url) urls.push(entry.url);
    return urls;
  }

  setThumbnail(url: string, thumbnail: string): void {
    const entry = this.entries.get(url);
    if (entry) entry.thumbnail = thumbnail;
  }

  /** One embedding answered for this page: by the model, or from memory / IndexedDB. */
  countEmbedding(source: 'model' | 'cache'): void {
    if (source === 'model') this.embeddingStats.embedded++;
    else this.embeddingStats.fromCache++;
  }

  get stats(): EmbeddingStats {
    return { ...this.embeddingStats };
  }

  counts(): TabCounts {
    let indexed = 0,
      failed = 0,
      pending = 0,
      duplicates = 0;
    for (const entry of this.entries.values()) {
      if (entry.status === 'duplicate') duplicates++;
      else if (entry.status === 'indexed') indexed++;
      else if (entry.status === 'failed') failed++;
      else pending++;
    }
    let hidden = 0,
      omitted = 0;
    for (const report of this.frames.values()) {
      hidden += report.hidden;
      omitted += report.omitted;
    }
    return { found: this.entries.size - duplicates, merged: duplicates, hidden, omitted, indexed, failed, pending };
  }

  /** Every failed image (or the first `limit`), in the page's order of discovery. */
  failures(limit = Infinity): { url: string; failure: ImageFailure }[] {
    const out: { url: string; failure: ImageFailure }[] = [];
    for (const entry of this.entries.values()) {
      if (out.length >= limit) break;
      if (entry.status === 'failed' && entry.failure) out.push({ url: entry.url, failure: entry.failure });
    }
    return out;
  }

  /** The tab's own mutable record of `entry`, if it is still there and in `status`. */
  private own(entry: ImageEntry, status: ImageStatus): MutableEntry | undefined {
    const own = this.entries.get(entry.url);
    return own === entry && own.status === status ? own : undefined;
  }

  private reset(entry: MutableEntry): void {
    Object.assign(entry, { status: 'pending', failure: undefined, embedding: undefined, modelId: undefined, duplicateOf: undefined });
  }
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
    tab = new TabState(tabId, pageUrl, incognito);
    tabs.set(tabId, tab);
  }
  return tab;
}

export function forgetTab(tabId: number): void {
  tabs.delete(tabId);
}
