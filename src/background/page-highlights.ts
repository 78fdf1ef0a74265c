// Whether a tab's matches are lit up on its page. Highlights follow the popup: they go when it
// closes, unless the person pinned them on the page's bar; Esc or the bar's close clears them
// until the person asks for results again (a search, find similar, the popup reopened). The
// state owns these transitions; search.ts only asks `shown` before lighting the page up.
// No extension APIs here (tabs.ts, and its Node tests, hold one per tab): commands go out through `send`.
import type { ContentMessage, PageCommand } from '../messages';

export class PageHighlights {
  private pinned = false;
  private dismissed = false;

  /** Whether results may be drawn on the page now. */
  get shown(): boolean {
    return !this.dismissed;
  }

  get isPinned(): boolean {
    return this.pinned;
  }

  /** The person asked for results (a search, find similar, the popup opened). */
  show(): void {
    this.dismissed = false;
  }

  pin(pinned: boolean): void {
    this.pinned = pinned;
  }

  /** Esc or close on the page. */
  dismiss(): void {
    this.dismissed = true;
    this.pinned = false;
  }

  /** The tab's last popup closed: returns whether the page's highlights go now. */
  popupClosed(): boolean {
    if (this.pinned) return false;
    this.dismissed = true;
    return true;
  }
}

type PageMessage = Exclude<ContentMessage, { type: 'images-found' | 'viewport' }>;

/** What the page's bar, badges and keys ask of the background (see content/page-ui.ts). */
export interface PageMessageDeps {
  send(tabId: number, command: PageCommand, frameId?: number): void;
  clearHighlights(tabId: number): void;
}

export function handlePageMessage(tabId: number, highlights: PageHighlights | undefined, message: PageMessage, deps: PageMessageDeps): void {
  switch (message.type) {
    case 'pin-highlights':
      highlights?.pin(message.pinned);
      return;
    case 'dismiss-highlights':
      highlights?.dismiss();
      deps.clearHighlights(tabId);
      return;
    case 'reveal-match':
      deps.send(tabId, { type: 'reveal', url: message.url });
      return;
    case 'nav-to':
      // The bar lives in the top frame.
      deps.send(tabId, { type: 'nav-to', rank: message.rank }, 0);
      return;
  }
}
