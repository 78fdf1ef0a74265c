// Draws search highlights and the classification card over the page.
// Everything lives in one shadow root attached to a host element at the end of <html>,
// so page styles cannot reach in and ours cannot leak out; the host is fixed-position
// and pointer-transparent, so the page's layout and clicks are untouched.
// Page-provided strings (labels come from the model, URLs from the page) are only ever
// set as textContent, never as HTML.
// The shadow root is closed: ranks, scores and labels are the person's, not the page's to read.
// Test builds mirror what is drawn into an attribute of the host (see mirrorForTests), since
// e2e tests run as the page does and cannot reach into a closed root either.

import type { LabelProbability } from '../messages';

declare const __TEST_BUILD__: boolean;

/** Test builds only: the host attribute holding the drawn boxes and card (OverlayMirror, JSON). */
export const TEST_MIRROR_ATTRIBUTE = 'data-lens-test-overlay';

/** What an e2e test can see of the overlay in a test build. */
export interface OverlayMirror {
  boxes: { testid: string; rank?: string; classes: string[]; left: number; top: number; width: number; height: number; shown: boolean }[];
  card: { topLabel: string } | null;
}

const STYLE = `
:host { all: initial; }
.layer { position: fixed; inset: 0; pointer-events: none; z-index: 2147483646; }
.box { position: fixed; box-sizing: border-box; border: 3px solid #2f6bff; border-radius: 6px;
  box-shadow: 0 0 0 2px rgba(255,255,255,.85), 0 2px 10px rgba(0,0,0,.35); transition: opacity .15s; }
.box.top { border-color: #ff7a00; }
.badge { position: absolute; top: -3px; left: -3px; font: 600 12px/1.2 system-ui, sans-serif; color: #fff;
  background: #2f6bff; padding: 3px 6px; border-radius: 6px 0 6px 0; white-space: nowrap; }
.box.top .badge { background: #ff7a00; }
.box.pulse { animation: pulse .9s ease-out 2; }
.box.reveal { border-color: #ff7a00; }
@keyframes pulse { 0% { box-shadow: 0 0 0 0 rgba(255,122,0,.8); } 100% { box-shadow: 0 0 0 18px rgba(255,122,0,0); } }
.card { position: fixed; pointer-events: auto; min-width: 180px; max-width: 280px; background: #fff; color: #1b1b1f;
  font: 13px/1.35 system-ui, sans-serif; border-radius: 10px; box-shadow: 0 6px 24px rgba(0,0,0,.3); padding: 10px 12px; }
.card h2 { font-size: 14px; margin: 0 24px 6px 0; }
.card ol { margin: 0; padding: 0; list-style: none; }
.card li { display: grid; grid-template-columns: 1fr auto; gap: 2px 8px; margin: 4px 0; }
.card .bar { grid-column: 1 / 3; height: 4px; background: #e7e9f0; border-radius: 2px; overflow: hidden; }
.card .bar i { display: block; height: 100%; background: #2f6bff; }
.card button { position: absolute; top: 6px; right: 6px; border: 0; background: none; font-size: 16px; cursor: pointer; color: #555; }
`;

/** How often highlights re-check where their elements are. */
const FOLLOW_MS = 400;
/** How long the outline of a revealed, non-highlighted image stays. */
const REVEAL_MS = 2_400;

interface Highlight {
  element: Element;
  box: HTMLDivElement;
}

export class Overlay {
  private host: HTMLElement | null = null;
  private layer: HTMLDivElement | null = null;
  private highlights: Highlight[] = [];
  private card: { element: Element; node: HTMLDivElement } | null = null;
  private frame = 0;
  /** Layout can move an element without a scroll or resize (images loading above it). */
  private followTimer: ReturnType<typeof setInterval> | undefined;
  private revealTimer: ReturnType<typeof setTimeout> | undefined;
  private revealBox: Highlight | null = null;
  private suspendTimer: ReturnType<typeof setTimeout> | undefined;

  private ensureLayer(): HTMLDivElement {
    if (this.layer && this.host?.isConnected) return this.layer;
    this.host = document.createElement('mobileclip-lens-overlay');
    this.host.setAttribute('data-testid', 'lens-overlay');
    const root = this.host.attachShadow({ mode: 'closed' });
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

  highlight(matches: { element: Element; rank: number; score: number }[]): void {
    this.clearHighlights();
    if (matches.length === 0) return this.removeIfEmpty();
    const layer = this.ensureLayer();
    for (const match of matches) {
      const box = document.createElement('div');
      box.className = match.rank === 1 ? 'box top' : 'box';
      box.setAttribute('data-testid', 'highlight');
      box.dataset.rank = String(match.rank);
      const badge = document.createElement('span');
      badge.className = 'badge';
      badge.textContent = `#${match.rank} · ${match.score.toFixed(2)}`;
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
      this.revealTimer = setTimeout(() => {
        this.clearReveal();
        this.removeIfEmpty();
      }, REVEAL_MS);
      this.position();
    }
    highlight.box.classList.remove('pulse');
    void highlight.box.offsetWidth; // restart the animation
    highlight.box.classList.add('pulse');
    this.mirrorForTests();
  }

  /** Takes the overlay off screen for a moment (a screenshot of the page is being taken). */
  suspend(ms: number): void {
    if (!this.host) return;
    this.host.style.setProperty('display', 'none', 'important');
    clearTimeout(this.suspendTimer);
    this.suspendTimer = setTimeout(() => this.host?.style.removeProperty('display'), ms);
  }

  private clearReveal(): void {
    clearTimeout(this.revealTimer);
    this.revealBox?.box.remove();
    this.revealBox = null;
    this.mirrorForTests();
  }

  showClassification(element: Element, labels: LabelProbability[], error?: string): void {
    this.card?.node.remove();
    const layer = this.ensureLayer();
    const node = document.createElement('div');
    node.className = 'card';
    node.setAttribute('data-testid', 'classify-card');
    const title = document.createElement('h2');
    title.textContent = error ?? (labels[0] ? labels[0].label : 'No label');
    title.setAttribute('data-testid', 'classify-top-label');
    const list = document.createElement('ol');
    for (const { label, probability } of labels.slice(0, 5)) {
      const item = document.createElement('li');
      const name = document.createElement('span');
      name.textContent = label;
      const value = document.createElement('span');
      value.textContent = `${(probability * 100).toFixed(1)}%`;
      const bar = document.createElement('span');
      bar.className = 'bar';
      const fill = document.createElement('i');
      fill.style.width = `${Math.max(1, probability * 100)}%`;
      bar.append(fill);
      item.append(name, value, bar);
      list.append(item);
    }
    const close = document.createElement('button');
    close.textContent = '×';
    close.title = 'Close';
    close.addEventListener('click', () => {
      node.remove();
      this.card = null;
      this.mirrorForTests();
      this.removeIfEmpty();
    });
    node.append(close, title, list);
    layer.append(node);
    this.card = { element, node };
    this.position();
  }

  clearHighlights(): void {
    for (const h of this.highlights) h.box.remove();
    this.highlights = [];
    this.mirrorForTests();
  }

  destroy(): void {
    this.clearHighlights();
    this.clearReveal();
    clearInterval(this.followTimer);
    this.card = null;
    this.host?.remove();
    this.host = this.layer = null;
    removeEventListener('scroll', this.schedule, { capture: true });
    removeEventListener('resize', this.schedule);
  }

  private removeIfEmpty(): void {
    if (this.highlights.length === 0 && !this.card && !this.revealBox) this.destroy();
  }

  private schedule = (): void => {
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
    if (this.card) {
      const r = this.card.element.getBoundingClientRect();
      const left = Math.min(Math.max(8, r.left), innerWidth - 296);
      const below = r.bottom + 8;
      this.card.node.style.left = `${left}px`;
      this.card.node.style.top = `${below + 160 < innerHeight ? below : Math.max(8, r.top + 8)}px`;
    }
    this.mirrorForTests();
  }

  private mirrorForTests(): void {
    if (!__TEST_BUILD__ || !this.host || !this.layer) return;
    const boxes = [...this.layer.querySelectorAll<HTMLElement>('.box')].map((box) => ({
      testid: box.dataset.testid ?? '',
      rank: box.dataset.rank,
      classes: [...box.classList],
      left: parseFloat(box.style.left),
      top: parseFloat(box.style.top),
      width: parseFloat(box.style.width),
      height: parseFloat(box.style.height),
      shown: box.style.display !== 'none',
    }));
    const title = this.card?.node.querySelector('[data-testid=classify-top-label]');
    const mirror: OverlayMirror = { boxes, card: title ? { topLabel: title.textContent ?? '' } : null };
    this.host.setAttribute(TEST_MIRROR_ATTRIBUTE, JSON.stringify(mirror));
  }
}
