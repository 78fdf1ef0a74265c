// Draws search highlights and the classification card over the page.
// Everything lives in one shadow root attached to a host element at the end of <html>,
// so page styles cannot reach in and ours cannot leak out; the host is fixed-position
// and pointer-transparent, so the page's layout and clicks are untouched.
// Page-provided strings (labels come from the model, URLs from the page) are only ever
// set as textContent, never as HTML.

import { CARD_STYLE, ClassifyCard, type CardState } from './classify-card';
import { NAV_STYLE } from './page-nav';
import { NOTICE_STYLE, Notice } from './notice';
import { formatNumber, formatPercent, t } from '../i18n';

declare const __TEST_BUILD__: boolean;

const STYLE = `
:host { all: initial; }
.layer { position: fixed; inset: 0; pointer-events: none; z-index: 2147483646; }
.box { position: fixed; box-sizing: border-box; border: 3px solid #2f6bff; border-radius: 6px;
  box-shadow: 0 0 0 2px rgba(255,255,255,.85), 0 2px 10px rgba(0,0,0,.35); transition: opacity .15s; }
.box.top { border-color: #ff7a00; }
.badge { position: absolute; top: -3px; left: -3px; font: 600 12px/1.2 system-ui, sans-serif; color: #fff; border: 0; margin: 0;
  background: #2456d6; padding: 3px 6px; border-radius: 6px 0 6px 0; white-space: nowrap; pointer-events: auto; cursor: pointer; }
.box.top .badge { background: #b84f00; }
.box.source { border-style: dashed; border-color: #1b1b1f; }
.box.source .badge { background: #1b1b1f; }
.box.pulse { animation: pulse .9s ease-out 2; }
.box.reveal { border-color: #ff7a00; }
@keyframes pulse { 0% { box-shadow: 0 0 0 0 rgba(255,122,0,.8); } 100% { box-shadow: 0 0 0 18px rgba(255,122,0,0); } }
@media (prefers-reduced-motion: reduce) { .box.pulse { animation: none; border-width: 5px; } }
${CARD_STYLE}${NAV_STYLE}${NOTICE_STYLE}`;

/** How often highlights re-check where their elements are. */
const FOLLOW_MS = 400;
/** How long the outline of a revealed, non-highlighted image stays once it is in view. */
const REVEAL_MS = 2_400;
/** A slow smooth scroll (a busy page) must not use up the outline before the image arrives in view. */
const REVEAL_WAIT_MS = 10_000;

interface Highlight {
  element: Element;
  box: HTMLDivElement;
}

export interface HighlightMatch {
  element: Element;
  rank: number;
  /** 0..1 on the model's calibrated scale, as the popup shows it (not the raw cosine). */
  relevance: number;
  /** The image find-similar ranked against. */
  source?: boolean;
}

export class Overlay {
  private host: HTMLElement | null = null;
  private layer: HTMLDivElement | null = null;
  private highlights: Highlight[] = [];
  private card: ClassifyCard | null = null;
  private nav: HTMLElement | null = null;
  private notice: Notice | null = null;
  private frame = 0;
  /** Layout can move an element without a scroll or resize (images loading above it). */
  private followTimer: ReturnType<typeof setInterval> | undefined;
  private revealTimer: ReturnType<typeof setTimeout> | undefined;
  private revealBox: Highlight | null = null;
  /** Whether the revealed element has been in view (its outline's time runs from then). */
  private revealSeen = false;
  private suspendTimer: ReturnType<typeof setTimeout> | undefined;

  private ensureLayer(): HTMLDivElement {
    if (this.layer && this.host?.isConnected) return this.layer;
    this.host = document.createElement('mobileclip-lens-overlay');
    this.host.setAttribute('data-testid', 'lens-overlay');
    // Closed in release builds: ranks, scores and labels are the person's, and would let the page
    // infer the query. Test builds leave it open, since e2e tests drive it as the page would.
    const root = this.host.attachShadow({ mode: __TEST_BUILD__ ? 'open' : 'closed' });
    const style = document.createElement('style');
    style.textContent = STYLE;
    this.layer = document.createElement('div');
    this.layer.className = 'layer';
    root.append(style, this.layer);
    document.documentElement.append(this.host);
    addEventListener('scroll', this.schedule, { passive: true, capture: true });
    addEventListener('resize', this.schedule, { passive: true });
    clearInterval(this.followTimer); // the page may have removed our previous host
    this.followTimer = setInterval(this.schedule, FOLLOW_MS);
    return this.layer;
  }

  /** A highlight's badge was clicked (the navigation goes on from that match). */
  onBadgeClick: (rank: number) => void = () => undefined;

  highlight(matches: HighlightMatch[]): void {
    this.clearHighlights();
    if (matches.length === 0) return this.removeIfEmpty();
    const layer = this.ensureLayer();
    for (const match of matches) {
      const box = document.createElement('div');
      box.className = match.source ? 'box source' : match.rank === 1 ? 'box top' : 'box';
      box.setAttribute('data-testid', 'highlight');
      box.dataset.rank = String(match.rank);
      if (match.source) box.dataset.source = 'true';
      // Not in the tab order (the bar is, and does the same); a click goes on to the next match.
      const badge = document.createElement('button');
      badge.type = 'button';
      badge.tabIndex = -1;
      badge.className = 'badge';
      badge.setAttribute('data-testid', 'highlight-badge');
      badge.textContent = match.source ? t('badgeSource') : `#${formatNumber(match.rank)} · ${formatPercent(match.relevance)}`;
      badge.setAttribute('aria-label', match.source ? t('badgeSourceLabel') : t('badgeMatchLabel', formatNumber(match.rank)));
      badge.addEventListener('click', () => this.onBadgeClick(match.rank));
      box.append(badge);
      layer.append(box);
      this.highlights.push({ element: match.element, box });
    }
    this.position();
  }

  /** Pulses the element's highlight; an element that is not highlighted gets a passing outline. */
  pulse(element: Element): void {
    let highlight = this.highlights.find((h) => h.element === element);
    if (!highlight) {
      this.clearReveal();
      const box = document.createElement('div');
      box.className = 'box reveal';
      box.setAttribute('data-testid', 'reveal');
      this.ensureLayer().append(box);
      highlight = this.revealBox = { element, box };
      this.revealSeen = false;
      this.endRevealAfter(REVEAL_WAIT_MS);
      this.position();
    }
    highlight.box.classList.remove('pulse');
    void highlight.box.offsetWidth; // restart the animation
    highlight.box.classList.add('pulse');
  }

  /** Takes the overlay off screen for a moment (a screenshot of the page is being taken). */
  suspend(ms: number): void {
    if (!this.host) return;
    this.host.style.setProperty('display', 'none', 'important');
    clearTimeout(this.suspendTimer);
    this.suspendTimer = setTimeout(() => this.host?.style.removeProperty('display'), ms);
  }

  private endRevealAfter(ms: number): void {
    clearTimeout(this.revealTimer);
    this.revealTimer = setTimeout(() => {
      this.clearReveal();
      this.removeIfEmpty();
    }, ms);
  }

  private clearReveal(): void {
    clearTimeout(this.revealTimer);
    this.revealBox?.box.remove();
    this.revealBox = null;
  }

  /** Shows (or updates, for the same image) the classification card; returns it. */
  showClassification(element: Element, state: CardState): ClassifyCard {
    if (this.card?.element !== element) {
      this.card?.close();
      this.card = new ClassifyCard(element, (card) => {
        if (this.card !== card) return;
        this.card = null;
        this.removeIfEmpty();
      });
      this.ensureLayer().append(this.card.node);
    }
    this.card.render(state);
    this.position();
    return this.card;
  }

  /** Closes the card; false when there was none. */
  closeCard(): boolean {
    if (!this.card) return false;
    this.card.close();
    return true;
  }

  /** Closes the notice; false when there was none. */
  closeNotice(): boolean {
    if (!this.notice) return false;
    this.notice.dismiss();
    return true;
  }

  /** The navigation bar (see page-nav.ts), or none (then the overlay goes when nothing else is shown). */
  showNav(node: HTMLElement | null): void {
    if (node && this.nav === node) return;
    this.nav?.remove();
    this.nav = node;
    if (node) this.ensureLayer().append(node);
    else this.removeIfEmpty();
  }

  showNotice(text: string, at: { x: number; y: number } | null): void {
    this.notice?.dismiss();
    this.notice = new Notice(text, at, (notice) => {
      if (this.notice !== notice) return;
      this.notice = null;
      this.removeIfEmpty();
    });
    this.ensureLayer().append(this.notice.node);
  }

  /** Whether anything of ours is on the page (Esc then belongs to us). */
  get showing(): boolean {
    return this.highlights.length > 0 || !!this.card || !!this.nav || !!this.notice;
  }

  clearHighlights(): void {
    for (const h of this.highlights) h.box.remove();
    this.highlights = [];
  }

  destroy(): void {
    this.clearHighlights();
    this.clearReveal();
    clearInterval(this.followTimer);
    // Their close callbacks see they are no longer ours and do not come back here.
    const { card, notice } = this;
    this.card = this.nav = this.notice = null;
    card?.close();
    notice?.dismiss();
    this.host?.remove();
    this.host = this.layer = null;
    removeEventListener('scroll', this.schedule, { capture: true });
    removeEventListener('resize', this.schedule);
  }

  private removeIfEmpty(): void {
    if (this.highlights.length === 0 && !this.card && !this.revealBox && !this.nav && !this.notice) this.destroy();
  }

  private schedule = (): void => {
    // A hidden tab runs no animation frames, yet its scroll can reveal an image the person is about to see.
    if (document.visibilityState !== 'visible') return this.position();
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.position();
    });
  };

  private position(): void {
    for (const { element, box } of this.revealBox ? [...this.highlights, this.revealBox] : this.highlights) {
      const r = element.getBoundingClientRect();
      box.style.display = element.isConnected && r.width > 0 ? '' : 'none';
      box.style.left = `${r.left - 3}px`;
      box.style.top = `${r.top - 3}px`;
      box.style.width = `${r.width + 6}px`;
      box.style.height = `${r.height + 6}px`;
    }
    if (this.revealBox && !this.revealSeen && inView(this.revealBox.element)) {
      this.revealSeen = true;
      this.endRevealAfter(REVEAL_MS);
    }
    this.card?.position();
  }
}

function inView(element: Element): boolean {
  const r = element.getBoundingClientRect();
  return element.isConnected && r.width > 0 && r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth;
}
