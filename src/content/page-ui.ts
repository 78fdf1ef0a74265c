// What this frame shows in answer to the background's page commands: highlights (with the source
// of a find-similar marked), the navigation bar (top frame only), the classification card and
// notices; and what the person does with them: Esc, badge clicks, the bar's buttons, which go
// back to the background as validated content messages when other frames are concerned.
import browser from 'webextension-polyfill';
import type { ContentMessage, PageCommand } from '../messages';
import type { Placement } from './discover';
import type { ContextTargets } from './context-target';
import type { Overlay } from './overlay';
import { PageNav, rankAfter, navMatches, type NavMatch } from './page-nav';
import { t } from '../i18n';

type Command<T extends PageCommand['type']> = Extract<PageCommand, { type: T }>;

export interface PageUiDeps {
  overlay: Overlay;
  /** The elements of this frame showing an image (connected ones). */
  placementsFor(url: string): Placement[];
  /** Scrolls to this frame's element showing `url` and pulses it; false when this frame has none. */
  revealHere(url: string): boolean;
  contextTargets: ContextTargets;
}

const isTop = window === window.top;

function send(message: ContentMessage): void {
  browser.runtime.sendMessage(message).catch(() => undefined);
}

export class PageUi {
  private nav: PageNav | null = null;
  /** Every frame's matches (the highlight command lists them all), for badge clicks in child frames. */
  private matches: NavMatch[] = [];

  constructor(private readonly deps: PageUiDeps) {
    deps.overlay.onBadgeClick = (rank) => this.badgeClicked(rank);
    addEventListener('keydown', this.onKey, { capture: true });
  }

  highlight({ results, source }: Command<'highlight'>): void {
    // Every element showing a matching image lights up (the same picture can appear twice).
    const shown = results.flatMap((r) =>
      this.deps.placementsFor(r.url).map((p) => ({ element: p.element, rank: r.rank, relevance: r.relevance, source: r.url === source })),
    );
    this.deps.overlay.highlight(shown);
    this.matches = navMatches(results);
    if (!isTop) return;
    if (this.matches.length === 0) return this.removeNav();
    this.nav ??= new PageNav({
      reveal: (match) => this.reveal(match),
      dismiss: () => this.dismiss(),
      pin: (pinned) => send({ type: 'pin-highlights', pinned }),
    });
    this.nav.update(results);
    this.deps.overlay.showNav(this.nav.node);
  }

  /** The highlights went (popup closed, Esc in some frame, a new empty query); a card stays. */
  clearHighlights(): void {
    this.matches = [];
    this.deps.overlay.clearHighlights();
    this.removeNav();
  }

  showClassification({ url, labels, error, pending }: Command<'show-classification'>): void {
    const target = this.deps.contextTargets.resolve();
    // The element right-clicked when it shows this image (an image can be on the page twice), else the first.
    const element = target?.url === url ? target.element : this.deps.placementsFor(url)[0]?.element;
    if (!element) return;
    const state = error !== undefined ? { kind: 'error' as const, message: error } : pending ? { kind: 'pending' as const } : { kind: 'labels' as const, labels };
    const card = this.deps.overlay.showClassification(element, state);
    // Someone on the page (the menu) gets the card under the keyboard; someone in the popup keeps the popup's focus.
    if (pending && document.hasFocus()) card.focus();
  }

  notice({ kind, detail }: Command<'notice'>): void {
    const site = detail || t('siteRulesThisPage');
    const text = {
      'no-image': () => t('noticeNoImage'),
      'similar-failed': () => t('noticeSimilarFailed', detail ?? ''),
      'indexing-paused': () => t('siteRulesPaused'),
      'site-excluded': () => t('siteRulesExcluded', site),
      'site-not-listed': () => t('siteRulesNotListed', site),
    }[kind]();
    this.deps.overlay.showNotice(text, this.deps.contextTargets.point);
  }

  navTo({ rank }: Command<'nav-to'>): void {
    this.nav?.goToRank(rank);
  }

  private reveal(match: NavMatch): void {
    // Another frame shows it: the background reveals it there (and the frames above bring it into view).
    if (!this.deps.revealHere(match.url)) send({ type: 'reveal-match', url: match.url });
  }

  private badgeClicked(rank: number): void {
    const next = rankAfter(this.matches, rank);
    if (next === null) return;
    if (this.nav) this.nav.goToRank(next);
    else send({ type: 'nav-to', rank: next });
  }

  /** Clears every frame's highlights, and tells the background they stay gone until asked for again. */
  private dismiss(): void {
    this.clearHighlights();
    send({ type: 'dismiss-highlights' });
  }

  private removeNav(): void {
    this.nav = null;
    this.deps.overlay.showNav(null);
  }

  /** Esc closes what is on top: the card first, then the highlights. The page's own Esc still happens. */
  private readonly onKey = (event: KeyboardEvent): void => {
    if (event.key !== 'Escape' || event.defaultPrevented || !this.deps.overlay.showing) return;
    if (this.deps.overlay.closeCard() || this.deps.overlay.closeNotice()) return;
    if (this.matches.length > 0 || this.nav) this.dismiss();
  };
}
