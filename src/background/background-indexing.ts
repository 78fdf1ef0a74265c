// Which tabs the indexer may work on unasked, when "index pages in the background as I browse"
// is on: only when the machine has nothing the person asked for waiting (no asked tab has
// images pending), only tabs that are shown (the active tab of each window; hidden tabs wait
// until they are shown), and never pages of sites the person excluded from history. Within a
// tab, images in view go first (TabState.claim). Tabs the person asked for are always served.
//
//   const policy = new BackgroundIndexing();
//   policy.configure({ enabled, excludedSites });           // from settings
//   policy.shown(windowId, tabId); policy.windowClosed(id);  // from tabs.onActivated / windows.onRemoved
//   new Indexer(pipeline, onChange, (tab) => policy.mayIndex(tab, allTabs()));
import { isExcluded } from './page-recorder';

interface IndexableTab {
  tabId: number;
  pageUrl: string;
  asked: boolean;
  hasPending(): boolean;
}

export class BackgroundIndexing {
  private enabled = false;
  private excludedSites: readonly string[] = [];
  /** The tab each window shows. */
  private readonly shownByWindow = new Map<number, number>();

  configure({ enabled, excludedSites }: { enabled: boolean; excludedSites: readonly string[] }): void {
    this.enabled = enabled;
    this.excludedSites = excludedSites;
  }

  get on(): boolean {
    return this.enabled;
  }

  shown(windowId: number, tabId: number): void {
    this.shownByWindow.set(windowId, tabId);
  }

  windowClosed(windowId: number): void {
    this.shownByWindow.delete(windowId);
  }

  isShown(tabId: number): boolean {
    for (const shown of this.shownByWindow.values()) if (shown === tabId) return true;
    return false;
  }

  mayIndex(tab: IndexableTab, tabs: Iterable<IndexableTab>): boolean {
    if (tab.asked) return true;
    if (!this.enabled || !this.isShown(tab.tabId) || isExcluded(tab.pageUrl, this.excludedSites)) return false;
    for (const other of tabs) if (other.asked && other.hasPending()) return false;
    return true;
  }
}
