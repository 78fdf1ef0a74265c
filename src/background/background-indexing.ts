// Which tabs the indexer may work on unasked, when "index pages in the background as I browse"
// is on: only when the machine has nothing the person asked for waiting (no asked tab has
// images pending), only tabs that have been shown (a tab opened in the background, e.g. by a
// middle click, waits until the person first looks at it), and never pages of sites the person
// excluded from history. Within a tab, images in view go first (TabState.claim). Tabs the
// person asked for are always served.
//
// A tab once shown and then switched away from goes on: the person chose to look at that page,
// and its images in view were claimed first already; stopping half-way would leave it half
// searchable for no saving.
//
//   const policy = new BackgroundIndexing();
//   policy.configure({ enabled, excludedSites });        // from settings
//   policy.shown(tabId); policy.tabClosed(tabId);        // tabs.onActivated (and active tabs' reports) / tabs.onRemoved
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
  /** Tabs that have been the active tab of their window. */
  private readonly everShown = new Set<number>();

  configure({ enabled, excludedSites }: { enabled: boolean; excludedSites: readonly string[] }): void {
    this.enabled = enabled;
    this.excludedSites = excludedSites;
  }

  get on(): boolean {
    return this.enabled;
  }

  shown(tabId: number): void {
    this.everShown.add(tabId);
  }

  tabClosed(tabId: number): void {
    this.everShown.delete(tabId);
  }

  wasShown(tabId: number): boolean {
    return this.everShown.has(tabId);
  }

  mayIndex(tab: IndexableTab, tabs: Iterable<IndexableTab>): boolean {
    if (tab.asked) return true;
    if (!this.enabled || !this.wasShown(tab.tabId) || isExcluded(tab.pageUrl, this.excludedSites)) return false;
    for (const other of tabs) if (other.asked && other.hasPending()) return false;
    return true;
  }
}
