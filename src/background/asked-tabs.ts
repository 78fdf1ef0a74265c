// The tabs whose page the person asked to index (opened the popup, used the page's menu or the
// shortcut): the one record of it. The indexer's predicate (background-indexing.ts) reads it;
// tab state (tabs.ts) holds none of its own. Kept in storage.session: a service worker restarted
// while such a tab was indexing knows to ask its page for the images again (see main.ts), without
// waiting for the popup. Session storage lives as long as the browser session, never on disk,
// like the tabs themselves.
import { sessionArea, SessionValue, type SessionArea } from './session-area';

const KEY = 'askedTabs';

export class AskedTabs {
  private readonly ids = new Set<number>();
  private readonly stored: SessionValue<number[]>;

  constructor(area: SessionArea = sessionArea()) {
    this.stored = new SessionValue(KEY, area);
  }

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

  /** The tab closed. */
  delete(tabId: number): void {
    if (this.ids.delete(tabId)) this.save();
  }

  /**
   * The tab went to another page: that page was not asked for by having asked for the one
   * before, unless the tab's popup is open (it shows the new page, and asks for it).
   */
  navigated(tabId: number, popupOpen: boolean): void {
    if (popupOpen) this.add(tabId);
    else this.delete(tabId);
  }

  /** The tabs asked for before a restart (storage can hold anything: only tab ids are taken). */
  async restore(): Promise<number[]> {
    const raw = await this.stored.read();
    const ids = Array.isArray(raw) ? raw.filter((id): id is number => Number.isInteger(id) && id >= 0) : [];
    for (const id of ids) this.ids.add(id);
    return ids;
  }

  private save(): void {
    this.stored.write([...this.ids]);
  }

  /** For tests: resolves once pending writes are done. */
  flushed(): Promise<void> {
    return this.stored.flushed();
  }
}
