// Which tabs the indexer may work on unasked, when "index pages in the background as I browse"
// is on: only when the machine has nothing the person asked for waiting (no asked tab has
// images pending), only while the tab is shown (a tab opened in the background, e.g. by a middle
// click, waits until the person looks at it; a tab switched away from pauses until it is shown
// again), and never pages of sites the person excluded from history. Within a tab, images in
// view go first (TabState.claim). Tabs the person asked for are always served.
//
// Shown means the active tab of its window, as the tabs API tells it (tabs.onActivated with its
// window). Not window focus: a tab in a window that lost focus is still on screen. Not the page's
// own visibilitychange: the tabs API knows a tab before its page has reported anything, and a
// restarted worker reads it back with one tabs.query. Pausing is no more than refusing the next
// claim: images in flight finish.
//
//   const policy = new BackgroundIndexing();
//   policy.configure({ enabled, excludedSites });        // from settings
//   policy.shown(tabId, windowId); policy.tabClosed(tabId); // tabs.onActivated (and active tabs' reports) / tabs.onRemoved
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
  /** The active tab of each window: the tabs on screen. */
  private readonly activeByWindow = new Map<number, number>();

  configure({ enabled, excludedSites }: { enabled: boolean; excludedSites: readonly string[] }): void {
    this.enabled = enabled;
    this.excludedSites = excludedSites;
  }

  get on(): boolean {
    return this.enabled;
  }

  /** `tabId` became the active tab of `windowId`: the tab shown there before is hidden now. */
  shown(tabId: number, windowId: number): void {
    this.tabClosed(tabId); // it may have moved here from another window
    this.activeByWindow.set(windowId, tabId);
  }

  tabClosed(tabId: number): void {
    for (const [window, active] of this.activeByWindow) if (active === tabId) this.activeByWindow.delete(window);
  }

  windowClosed(windowId: number): void {
    this.activeByWindow.delete(windowId);
  }

  isShown(tabId: number): boolean {
    for (const active of this.activeByWindow.values()) if (active === tabId) return true;
    return false;
  }

  mayIndex(tab: IndexableTab, tabs: Iterable<IndexableTab>): boolean {
    if (tab.asked) return true;
    if (!this.enabled || !this.isShown(tab.tabId) || isExcluded(tab.pageUrl, this.excludedSites)) return false;
    for (const other of tabs) if (other.asked && other.hasPending()) return false;
    return true;
  }
}
