// The pages store's writer: once a tab's images are indexed, its page (address, title, favicon,
// time of visit, each picture's hash, address, alt text, size and a small thumbnail) goes into
// the history, so "Everything seen" can find it later. Opt-in (settings.historyEnabled); never
// for private windows (they have no history) or sites the person excluded.
import type { LensStore } from '../store/lens-store';
import { MAX_FAVICON_CHARS, type PageImageInput, type PageInput } from '../store/pages';
import type { TabState } from './tabs';
import { onSiteList } from '../site-rules';

/** Quiet time after the tab's last change before its page is written (indexing comes in bursts). */
export const RECORD_DELAY_MS = 1_500;

export interface PageMeta {
  title: string;
  favicon: string | null;
  modelId: string;
  visitedAt: number;
}

/** Whether the page's hostname is one of `excluded` or a subdomain of one. */
export const isExcluded = onSiteList;

/** A favicon the pages store keeps: a web address or a small data: image; anything else is dropped. */
export function keptFavicon(favicon: string | undefined): string | null {
  if (!favicon || favicon.length > MAX_FAVICON_CHARS) return null;
  return /^(https?:|data:image\/)/i.test(favicon) ? favicon : null;
}

/** The visit as the store takes it: the tab's images indexed with `meta.modelId`, one per picture. */
export function pageInputOf(tab: TabState, meta: PageMeta, thumbnails: ReadonlyMap<string, Blob> = new Map()): PageInput {
  const images: PageImageInput[] = [];
  for (const entry of tab.allEntries()) {
    if (entry.status !== 'indexed' || !entry.sha256 || entry.modelId !== meta.modelId) continue;
    const { alt, width, height } = entry.found;
    images.push({ sha256: entry.sha256, src: entry.url, alt, width, height, thumbnail: thumbnails.get(entry.sha256) });
  }
  return { url: tab.pageUrl, title: meta.title, favicon: meta.favicon, visitedAt: meta.visitedAt, modelId: meta.modelId, images };
}

export interface RecorderDeps {
  enabled(): boolean;
  excludedSites(): readonly string[];
  store(): LensStore;
  /** The tab's title and favicon as the browser shows them. */
  tabInfo(tabId: number): Promise<{ title: string; favicon: string | null }>;
  modelId(): string | null;
  /** A stored-size thumbnail from the tab's popup preview of an image (undefined: none fits). */
  thumbnail(preview: string): Promise<Blob | undefined>;
  /** The page was written (the history index adds its pictures). */
  recorded(page: PageInput): void;
}

export class PageRecorder {
  private readonly timers = new Map<number, ReturnType<typeof setTimeout>>();
  /** When each tab's current page was first seen: its visit time. */
  private readonly visits = new Map<number, { url: string; at: number }>();
  /** Pictures already written for the tab's page (a later write adds only what is new). */
  private readonly written = new Map<number, Set<string>>();

  constructor(private readonly deps: RecorderDeps) {}

  /** The tab changed: write its page once indexing has been quiet for a moment. */
  tabChanged(tab: TabState): void {
    if (tab.incognito || !this.deps.enabled() || !/^https?:/i.test(tab.pageUrl)) return;
    const visit = this.visits.get(tab.tabId);
    if (visit?.url !== tab.pageUrl) {
      this.visits.set(tab.tabId, { url: tab.pageUrl, at: Date.now() });
      this.written.delete(tab.tabId);
    }
    clearTimeout(this.timers.get(tab.tabId));
    this.timers.set(
      tab.tabId,
      setTimeout(() => {
        this.timers.delete(tab.tabId);
        this.record(tab).catch((error) => console.warn('could not record the page', error));
      }, RECORD_DELAY_MS),
    );
  }

  forgetTab(tabId: number): void {
    clearTimeout(this.timers.get(tabId));
    this.timers.delete(tabId);
    this.visits.delete(tabId);
    this.written.delete(tabId);
  }

  /** Writes the tab's page now, if it may be recorded and has pictures not written yet; resolves with what was written. */
  async record(tab: TabState): Promise<PageInput | null> {
    const modelId = this.deps.modelId();
    if (tab.incognito || !modelId || !this.deps.enabled() || isExcluded(tab.pageUrl, this.deps.excludedSites())) return null;
    const url = tab.pageUrl;
    const written = this.written.get(tab.tabId) ?? new Set<string>();
    const store = this.deps.store();
    const fresh = [...tab.allEntries()].filter((e) => e.status === 'indexed' && e.sha256 && e.modelId === modelId && !written.has(e.sha256));
    if (fresh.length === 0) return null;
    const thumbnails = new Map<string, Blob>();
    for (const entry of fresh) {
      if (!entry.thumbnail || thumbnails.has(entry.sha256!) || (await store.getThumbnail(entry.sha256!).catch(() => undefined))) continue;
      const blob = await this.deps.thumbnail(entry.thumbnail).catch(() => undefined);
      if (blob) thumbnails.set(entry.sha256!, blob);
    }
    const { title, favicon } = await this.deps.tabInfo(tab.tabId);
    if (tab.pageUrl !== url) return null; // navigated meanwhile
    const visitedAt = this.visits.get(tab.tabId)?.url === url ? this.visits.get(tab.tabId)!.at : Date.now();
    const page = pageInputOf(tab, { title, favicon, modelId, visitedAt }, thumbnails);
    // Answers from the pipeline's memory never reached the store: mark the pictures used, so
    // the budget's eviction keeps what was just seen.
    await store.touchEmbeddings(modelId, page.images.map((i) => i.sha256)).catch(() => undefined);
    await store.putPage(page);
    for (const image of page.images) written.add(image.sha256);
    this.written.set(tab.tabId, written);
    this.deps.recorded(page);
    return page;
  }
}
