// Which tabs the indexer may work on unasked, when "index pages in the background as I browse"
// is on: only when the machine has nothing the person asked for waiting (no asked tab has
// images pending), only while the tab is shown (a tab opened in the background, e.g. by a middle
// click, waits until the person looks at it; a tab switched away from, or whose window is
// minimised, pauses until it is shown again), and never pages of sites the person excluded from
// history. Within a tab, images in view go first (TabState.claim). Tabs the person asked for
// (asked-tabs.ts, read here) are always served.
//
// Shown means the active tab of a window that is not minimised, as the tabs and windows APIs tell
// it (tabs.onActivated with its window; windows.getAll for the windows' states, read again when
// focus moves, as minimising or restoring a window does). Not window focus: a tab in a window
// that lost focus is still on screen. Not the page's own visibilitychange: the tabs API knows a
// tab before its page has reported anything, and a restarted worker reads it back with one
// tabs.query and one windows.getAll. Pausing is no more than refusing the next claim: images in
// flight finish.
//
//   const policy = new BackgroundIndexing(askedTabs);
//   policy.configure({ enabled, excludedSites });        // from settings
//   policy.shown(tabId, windowId); policy.tabClosed(tabId); // tabs.onActivated (and active tabs' reports) / tabs.onRemoved
//   policy.windowStates(await browser.windows.getAll()); // at start and on windows.onFocusChanged
//   new Indexer(pipeline, onChange, (tab) => policy.mayIndex(tab, allTabs()));
import { isExcluded } from './page-recorder';

interface IndexableTab {
  tabId: number;
  pageUrl: string;
  hasPending(): boolean;
}

/** The tabs the person asked for (AskedTabs). */
export interface AskedFor {
  has(tabId: number): boolean;
}

/** A window as windows.getAll describes it. */
export interface WindowState {
  id?: number;
  state?: string;
}

export class BackgroundIndexing {
  private enabled = false;
  private excludedSites: readonly string[] = [];
  /** The active tab of each window: the tabs on screen. */
  private readonly activeByWindow = new Map<number, number>();
  /** Windows minimised: their active tab is not on screen. */
  private readonly minimized = new Set<number>();

  constructor(private readonly asked: AskedFor) {}

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
    this.minimized.delete(windowId);
  }

  /** Every window's state, as windows.getAll tells it: which ones are minimised now. */
  windowStates(windows: Iterable<WindowState>): void {
    this.minimized.clear();
    for (const { id, state } of windows) if (id !== undefined && state === 'minimized') this.minimized.add(id);
  }

  isShown(tabId: number): boolean {
    for (const [window, active] of this.activeByWindow) if (active === tabId && !this.minimized.has(window)) return true;
    return false;
  }

  mayIndex(tab: IndexableTab, tabs: Iterable<IndexableTab>): boolean {
    if (this.asked.has(tab.tabId)) return true;
    if (!this.enabled || !this.isShown(tab.tabId) || isExcluded(tab.pageUrl, this.excludedSites)) return false;
    for (const other of tabs) if (this.asked.has(other.tabId) && other.hasPending()) return false;
    return true;
  }
}
