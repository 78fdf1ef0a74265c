// The visual memory in the background: which store each tab writes to and its health, the
// settings that bound it (budget, URL retention, history opt-in, excluded sites), the daily
// prune, dropping the private windows' store when the last one closes, the pages store's
// writer, the scoped search, and the requests of the popup and options page about the memory
// (forget, usage, clear, export, import, open a result of another page).
import browser from 'webextension-polyfill';
import type { MemoryUsage, RequestOf, ResponseMap, StorageView } from '../messages';
import type { Settings } from '../settings';
import { exportMemory, importMemory } from '../store/export';
import type { LensStore } from '../store/lens-store';
import { siteOf } from '../store/pages';
import { configureStores, dropPrivateStore, persistentStore, storeFor } from '../store/stores';
import type { EmbeddingPipeline } from './embedding-pipeline';
import { engineHost } from './engine-host';
import { MemorySearch, setMemoryStatus, setReembedStatus } from './history-search';
import { blobDataUrl, dataUrlBlob, storedThumbnail } from './memory-thumbnails';
import { sendToTab } from './page-commands';
import { keptFavicon, PageRecorder } from './page-recorder';
import { ReembedJob } from './reembed';
import { allTabs, getTab, type TabState } from './tabs';

const DAY_MS = 24 * 60 * 60 * 1000;
const MB = 1024 * 1024;
/** How long an opened result waits for its picture to show up on the page before giving up the reveal. */
const REVEAL_WAIT_MS = 60_000;

let settings: Pick<Settings, 'historyEnabled' | 'historyExcludedSites'> = { historyEnabled: false, historyExcludedSites: [] };

export function storageView(incognito: boolean): StorageView {
  const store = storeFor(incognito);
  const { lastError, errors } = store.health.snapshot();
  return { persistent: store.persistent, error: lastError, errors };
}

async function tabInfo(tabId: number): Promise<{ title: string; favicon: string | null }> {
  const tab = await browser.tabs.get(tabId);
  return { title: tab.title ?? '', favicon: keptFavicon(tab.favIconUrl) };
}

function usageOf(usage: Awaited<ReturnType<LensStore['usage']>>): MemoryUsage {
  return { stores: usage.stores, totalBytes: usage.totalBytes, budgetBytes: usage.budgetBytes };
}

export class Memory {
  readonly search: MemorySearch;
  readonly recorder: PageRecorder;
  /** Tabs opened for a result: the picture to reveal once the page reports it. */
  private readonly reveals = new Map<number, { url: string; until: number }>();
  private privateUsed = false;
  private reembedJob: ReembedJob | null = null;

  constructor(
    private readonly pipeline: EmbeddingPipeline,
    onResults: (tabId: number) => void,
    private readonly hooks: {
      /** Whether the indexer has images of the person's tabs waiting: background jobs yield to them. */
      indexerBusy(): boolean;
      /** Every open popup's view changed. */
      pushAllViews(): void;
    },
  ) {
    this.search = new MemorySearch({ pipeline, storeFor, historyEnabled: () => settings.historyEnabled, tabInfo, onResults });
    this.recorder = new PageRecorder({
      enabled: () => settings.historyEnabled,
      excludedSites: () => settings.historyExcludedSites,
      store: persistentStore,
      tabInfo,
      modelId: () => (engineHost.status.phase === 'ready' ? engineHost.status.id : null),
      thumbnail: async (preview) => {
        const blob = dataUrlBlob(preview);
        return blob && storedThumbnail(blob);
      },
      recorded: (page) => {
        const embeddings = new Map<string, Float32Array>();
        for (const tab of allTabs()) {
          if (tab.pageUrl !== page.url || tab.incognito) continue;
          for (const e of tab.allEntries()) if (e.sha256 && e.embedding && e.modelId === page.modelId) embeddings.set(e.sha256, e.embedding);
        }
        this.search.recorded(page, persistentStore(), (sha256) => embeddings.get(sha256));
      },
    });
  }

  /** On start and whenever settings change. */
  configure(next: Settings): void {
    settings = { historyEnabled: next.historyEnabled, historyExcludedSites: next.historyExcludedSites };
    configureStores({ budgetBytes: Math.round(next.memoryBudgetMB * MB), urlRetentionMs: next.urlRetentionDays * DAY_MS });
    this.updateStatus();
  }

  updateStatus(): void {
    setMemoryStatus({ historyEnabled: settings.historyEnabled, modelId: engineHost.status.id || null });
  }

  /** Drops expired URL records now and once a day while the background lives. */
  startPruning(): void {
    const prune = () => persistentStore().pruneExpired().catch((error) => console.warn('pruning the memory failed', error));
    void prune();
    setInterval(prune, DAY_MS);
  }

  /** A tab's images changed: record its page when indexing settles; reveal an opened result's picture. */
  tabChanged(tab: TabState): void {
    if (tab.incognito) this.privateUsed = true;
    this.recorder.tabChanged(tab);
    const reveal = this.reveals.get(tab.tabId);
    if (!reveal) return;
    if (Date.now() > reveal.until) this.reveals.delete(tab.tabId);
    else if (tab.entry(reveal.url)) {
      this.reveals.delete(tab.tabId);
      sendToTab(tab.tabId, { type: 'reveal', url: reveal.url });
    }
  }

  tabClosed(tabId: number): void {
    this.recorder.forgetTab(tabId);
    this.search.forgetTab(tabId);
    this.reveals.delete(tabId);
  }

  /** Private browsing leaves nothing behind: its store goes with the last private window. */
  async windowClosed(): Promise<void> {
    const windows = await browser.windows.getAll();
    if (windows.some((w) => w.incognito)) return;
    dropPrivateStore();
    this.privateUsed = false;
    this.search.invalidate();
  }

  /** A result of another page: its tab if open (the picture revealed), else the page opened and the picture revealed once it shows. */
  async openResult({ pageUrl, url }: RequestOf<'open-result'>): Promise<void> {
    const open = (await browser.tabs.query({})).find((t) => t.url === pageUrl && t.id !== undefined);
    if (open?.id !== undefined) {
      await browser.tabs.update(open.id, { active: true });
      if (open.windowId !== undefined) await browser.windows.update(open.windowId, { focused: true }).catch(() => undefined);
      if (getTab(open.id)?.entry(url)) sendToTab(open.id, { type: 'reveal', url });
      else this.reveals.set(open.id, { url, until: Date.now() + REVEAL_WAIT_MS });
      return;
    }
    const created = await browser.tabs.create({ url: pageUrl, active: true });
    if (created.id !== undefined) this.reveals.set(created.id, { url, until: Date.now() + REVEAL_WAIT_MS });
  }

  async forget({ what, pageUrl }: RequestOf<'forget'>): Promise<ResponseMap['forget']> {
    const store = persistentStore();
    const removed = what === 'site' ? await store.forgetSite(siteOf(pageUrl)) : await store.forgetPage(pageUrl);
    this.search.invalidate();
    return { ok: true, removed };
  }

  async usage(): Promise<ResponseMap['memory-usage']> {
    const persistent = usageOf(await persistentStore().usage());
    const privateUsage = this.privateUsed ? usageOf(await storeFor(true).usage()) : null;
    return { ok: true, persistent, private: privateUsage, storage: storageView(false) };
  }

  async clear({ store, private: isPrivate }: RequestOf<'memory-clear'>): Promise<void> {
    const target = storeFor(isPrivate);
    if (store === 'all') await target.clearAll();
    else await target.clearStore(store);
    this.search.invalidate();
  }

  async exportFile(): Promise<string> {
    return (await exportMemory(persistentStore())).text();
  }

  async importFile(text: string): Promise<ResponseMap['memory-import']> {
    const { counts } = await importMemory(persistentStore(), text);
    this.search.invalidate();
    const added = counts.embeddings.added + counts.pages.added + counts.thumbnails.added;
    const skipped = counts.embeddings.skipped + counts.pages.skipped + counts.thumbnails.skipped;
    return { ok: true, added, skipped };
  }

  /**
   * Re-embeds the remembered pages the current model has not embedded (one job at a time), or
   * cancels the job. Progress goes out with every popup's view.
   */
  reembed({ action }: RequestOf<'reembed'>): void {
    if (action === 'cancel') return this.reembedJob?.cancel();
    if (this.reembedJob && !this.reembedJob.finished) return;
    const store = persistentStore();
    const job = new ReembedJob({
      store,
      pipeline: this.pipeline,
      busy: this.hooks.indexerBusy,
      onProgress: (progress) => {
        setReembedStatus(progress);
        this.hooks.pushAllViews();
      },
      reembedded: (page, embeddings) => this.search.reembedded(page, store, embeddings),
    });
    this.reembedJob = job;
    void job.run();
  }

  /** The stored preview of another page's result (its address may not load in the popup). */
  async thumbnail(tabId: number, url: string): Promise<string | null> {
    const picture = this.search.picture(tabId, url);
    if (!picture) return null;
    const blob = await storeFor(picture.incognito).getThumbnail(picture.sha256).catch(() => undefined);
    return blob ? blobDataUrl(blob) : null;
  }
}
