// The card "Classify image" shows next to the image: at once in a "classifying…" state, then the
// top labels with their probabilities, a copy button and a close button. It closes with Esc (see
// page-nav.ts, which owns the page's keys), a click elsewhere, or ×, and sits beside the image
// rather than over it whenever the viewport has room. Labels are only ever set as textContent.
import type { LabelProbability } from '../messages';
import { describe } from '../errors';
import { formatPercent, t } from '../i18n';

export type CardState = { kind: 'pending' } | { kind: 'labels'; labels: LabelProbability[] } | { kind: 'error'; /** The technical detail; the card words the sentence. */ message: string };

/** Labels shown on the card. */
export const CARD_LABELS = 5;
const GAP = 8;

export const CARD_STYLE = `
.card { position: fixed; pointer-events: auto; box-sizing: border-box; width: 260px; background: #fff; color: #1b1b1f;
  font: 13px/1.35 system-ui, sans-serif; border-radius: 10px; box-shadow: 0 6px 24px rgba(0,0,0,.3); padding: 10px 12px;
  border: 1px solid #c9ccd6; outline: none; }
.card h2 { font-size: 14px; margin: 0 28px 6px 0; overflow-wrap: anywhere; }
.card ol { margin: 0; padding: 0; list-style: none; }
.card li { display: grid; grid-template-columns: 1fr auto; gap: 2px 8px; margin: 4px 0; }
.card li span:first-child { overflow-wrap: anywhere; }
.card .bar { grid-column: 1 / 3; height: 4px; background: #e7e9f0; border-radius: 2px; overflow: hidden; }
.card .bar i { display: block; height: 100%; background: #2456d6; }
.card .pending { color: #4a4d57; margin: 2px 0; }
.card .pending::before { content: ""; display: inline-block; width: 10px; height: 10px; margin-right: 6px; border-radius: 50%;
  border: 2px solid #2456d6; border-right-color: transparent; animation: spin 1s linear infinite; vertical-align: -1px; }
.card .error { color: #a4161a; }
.card .actions { display: flex; gap: 8px; align-items: center; margin-top: 8px; }
.card button { font: inherit; cursor: pointer; border-radius: 6px; }
.card .copy { border: 1px solid #2456d6; background: #fff; color: #1d46ad; padding: 3px 10px; }
.card .close { position: absolute; top: 6px; right: 6px; width: 26px; height: 26px; border: 0; background: none; font-size: 18px; line-height: 1; color: #4a4d57; }
.card button:focus-visible, .card:focus-visible { outline: 2px solid #2456d6; outline-offset: 2px; }
.card .status { color: #4a4d57; font-size: 12px; }
@keyframes spin { to { transform: rotate(360deg); } }
@media (prefers-reduced-motion: reduce) { .card .pending::before { animation: none; } }
@media (prefers-color-scheme: dark) {
  .card { background: #23252b; color: #eceef3; border-color: #4a4d57; }
  .card .pending, .card .close, .card .status { color: #c4c7d0; }
  .card .bar { background: #3a3d46; }
  .card .bar i, .card .pending::before { background: #8fb0ff; border-color: #8fb0ff; border-right-color: transparent; }
  .card .bar i { background: #8fb0ff; }
  .card .copy { background: #23252b; color: #b5c9ff; border-color: #8fb0ff; }
  .card .error { color: #ff9a9d; }
  .card button:focus-visible, .card:focus-visible { outline-color: #8fb0ff; }
}
`;

interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

const overlap = (a: Rect, b: Rect): number =>
  Math.max(0, Math.min(a.left + a.width, b.left + b.width) - Math.max(a.left, b.left)) *
  Math.max(0, Math.min(a.top + a.height, b.top + b.height) - Math.max(a.top, b.top));

const clamp = (value: number, min: number, max: number): number => Math.max(min, Math.min(value, Math.max(min, max)));

/**
 * Where the card goes: below, right of, above or left of the image (the first side with room),
 * kept inside the viewport; when no side has room, wherever it covers the least of the image.
 */
export function placeCard(target: Rect, card: { width: number; height: number }, viewport: { width: number; height: number }): { left: number; top: number } {
  const maxLeft = viewport.width - card.width - GAP;
  const maxTop = viewport.height - card.height - GAP;
  const alignedLeft = clamp(target.left, GAP, maxLeft);
  const alignedTop = clamp(target.top, GAP, maxTop);
  const sides = [
    { left: alignedLeft, top: target.top + target.height + GAP, fits: target.top + target.height + GAP <= maxTop },
    { left: target.left + target.width + GAP, top: alignedTop, fits: target.left + target.width + GAP <= maxLeft },
    { left: alignedLeft, top: target.top - card.height - GAP, fits: target.top - card.height - GAP >= GAP },
    { left: target.left - card.width - GAP, top: alignedTop, fits: target.left - card.width - GAP >= GAP },
  ];
  const free = sides.find((s) => s.fits);
  if (free) return { left: free.left, top: free.top };
  const corners = [GAP, maxLeft].flatMap((left) => [GAP, maxTop].map((top) => ({ left, top })));
  const inside = [...sides.map((s) => ({ left: clamp(s.left, GAP, maxLeft), top: clamp(s.top, GAP, maxTop) })), ...corners];
  return inside.reduce((best, s) => (overlap({ ...s, ...card }, target) < overlap({ ...best, ...card }, target) ? s : best));
}

/** The labels as plain text, one per line, for the clipboard. */
export function labelsAsText(labels: LabelProbability[]): string {
  return labels.map(({ label, probability }) => `${label} (${formatPercent(probability, 1)})`).join('\n');
}

async function copyText(text: string, root: Node): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    return;
  } catch (error) {
    // Pages can deny the async clipboard (permissions policy, an unfocused document): the
    // selection-based copy still works during the click.
    const area = document.createElement('textarea');
    area.value = text;
    area.style.cssText = 'position:fixed;opacity:0;pointer-events:none';
    root.appendChild(area);
    area.select();
    const copied = document.execCommand('copy');
    area.remove();
    if (!copied) throw error;
  }
}

export class ClassifyCard {
  readonly node = document.createElement('div');
  private state: CardState = { kind: 'pending' };
  private readonly onPointerDown = (event: PointerEvent): void => {
    // Clicks on our overlay (the card itself, the bar, a badge) keep it; anything else closes it.
    const host = (this.node.getRootNode() as ShadowRoot).host;
    if (!event.composedPath().includes(host)) this.close();
  };

  constructor(
    readonly element: Element,
    private readonly onClosed: (card: ClassifyCard) => void,
  ) {
    this.node.className = 'card';
    this.node.tabIndex = -1;
    this.node.setAttribute('role', 'dialog');
    this.node.setAttribute('aria-label', t('cardLabel'));
    this.node.setAttribute('data-testid', 'classify-card');
    addEventListener('pointerdown', this.onPointerDown, { capture: true });
  }

  render(state: CardState): void {
    this.state = state;
    this.node.dataset.state = state.kind;
    const title = document.createElement('h2');
    const body: Node[] = [];
    if (state.kind === 'pending') {
      title.textContent = t('cardTitle');
      const pending = document.createElement('p');
      pending.className = 'pending';
      pending.setAttribute('data-testid', 'classify-pending');
      pending.setAttribute('role', 'status');
      pending.textContent = t('cardPending');
      body.push(pending);
    } else if (state.kind === 'error') {
      title.setAttribute('data-testid', 'classify-top-label');
      title.textContent = t('cardFailed', state.message);
      title.className = 'error';
    } else {
      const shown = state.labels.slice(0, CARD_LABELS);
      title.setAttribute('data-testid', 'classify-top-label');
      title.textContent = shown[0]?.label ?? t('cardNoLabel');
      body.push(this.labelList(shown), this.actions(shown));
    }
    const close = document.createElement('button');
    close.className = 'close';
    close.textContent = '×';
    close.setAttribute('aria-label', t('cardClose'));
    close.title = t('cardCloseTitle');
    close.setAttribute('data-testid', 'classify-close');
    close.addEventListener('click', () => this.close());
    this.node.replaceChildren(close, title, ...body);
  }

  /** Moves keyboard focus to the card (when the person is on the page, not in the popup). */
  focus(): void {
    this.node.focus({ preventScroll: true });
  }

  position(): void {
    const r = this.element.getBoundingClientRect();
    const size = this.node.getBoundingClientRect();
    const { left, top } = placeCard(r, { width: size.width, height: size.height }, { width: innerWidth, height: innerHeight });
    this.node.style.left = `${Math.round(left)}px`;
    this.node.style.top = `${Math.round(top)}px`;
  }

  close(): void {
    removeEventListener('pointerdown', this.onPointerDown, { capture: true });
    this.node.remove();
    this.onClosed(this);
  }

  get pending(): boolean {
    return this.state.kind === 'pending';
  }

  private labelList(labels: LabelProbability[]): HTMLOListElement {
    const list = document.createElement('ol');
    list.setAttribute('data-testid', 'classify-labels');
    for (const { label, probability } of labels) {
      const item = document.createElement('li');
      item.setAttribute('data-testid', 'classify-label-row');
      const name = document.createElement('span');
      name.textContent = label;
      const value = document.createElement('span');
      value.textContent = formatPercent(probability, 1);
      const bar = document.createElement('span');
      bar.className = 'bar';
      bar.setAttribute('aria-hidden', 'true');
      const fill = document.createElement('i');
      fill.style.width = `${Math.max(1, probability * 100)}%`;
      bar.append(fill);
      item.append(name, value, bar);
      list.append(item);
    }
    return list;
  }

  private actions(labels: LabelProbability[]): HTMLDivElement {
    const row = document.createElement('div');
    row.className = 'actions';
    const copy = document.createElement('button');
    copy.className = 'copy';
    copy.textContent = t('cardCopy');
    copy.setAttribute('data-testid', 'classify-copy');
    const status = document.createElement('span');
    status.className = 'status';
    status.setAttribute('role', 'status');
    status.setAttribute('data-testid', 'classify-copy-status');
    copy.addEventListener('click', () => {
      copyText(labelsAsText(labels), this.node).then(
        () => (status.textContent = t('cardCopied')),
        (error: unknown) => (status.textContent = t('cardCopyFailed', describe(error))),
      );
    });
    row.append(copy, status);
    return row;
  }
}
