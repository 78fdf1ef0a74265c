// The tabs whose page the person asked to index (opened the popup, used the page's menu or the
// shortcut). Kept in storage.session: a service worker restarted while such a tab was indexing
// knows to ask its page for the images again (see main.ts), without waiting for the popup.
// Session storage lives as long as the browser session, never on disk, like the tabs themselves.
import browser from 'webextension-polyfill';

const KEY = 'askedTabs';

/** The part of storage.session used here (a fake in unit tests). */
export interface SessionArea {
  get(key: string): Promise<Record<string, unknown>>;
  set(items: Record<string, unknown>): Promise<void>;
}

export class AskedTabs {
  private readonly ids = new Set<number>();
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly area: SessionArea = browser.storage.session) {}

  has(tabId: number): boolean {
    return this.ids.has(tabId);
  }

  /** Returns whether the tab is newly asked for. */
  add(tabId: number): boolean {
    if (this.ids.has(tabId)) return false;
    this.ids.add(tabId);
    this.save();
    return true;
  }

  /** The tab closed or went to another page: that page was not asked for. */
  delete(tabId: number): void {
    if (this.ids.delete(tabId)) this.save();
  }

  /** The tabs asked for before a restart (storage can hold anything: only tab ids are taken). */
  async restore(): Promise<number[]> {
    const stored = await this.area.get(KEY).catch(() => ({}) as Record<string, unknown>);
    const raw = stored[KEY];
    const ids = Array.isArray(raw) ? raw.filter((id): id is number => Number.isInteger(id) && id >= 0) : [];
    for (const id of ids) this.ids.add(id);
    return ids;
  }

  /** Writes in order, so the last state is what stays. */
  private save(): void {
    const ids = [...this.ids];
    this.saving = this.saving
      .then(() => this.area.set({ [KEY]: ids }))
      .catch((error: unknown) => console.warn('cannot remember the tabs asked for', error));
  }

  /** For tests: resolves once pending writes are done. */
  flushed(): Promise<void> {
    return this.saving;
  }
}
