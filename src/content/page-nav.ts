// The small bar the top frame shows while matches are highlighted: "3 of 10", previous / next
// (scroll to the match and pulse it), a pin that keeps the highlights when the popup closes,
// and close. It counts the matches of every frame (the highlight command lists them all); a
// match another frame shows is revealed through the background (see content/main.ts).
import { formatNumber, t } from '../i18n';

export interface NavMatch {
  rank: number;
  url: string;
}

export interface PageNavHooks {
  /** Scroll to the match and pulse it, wherever it is. */
  reveal(match: NavMatch): void;
  /** The bar's close: clear the highlights (every frame's). */
  dismiss(): void;
  /** The pin changed: the background keeps the highlights when the popup closes while pinned. */
  pin(pinned: boolean): void;
}

export const NAV_STYLE = `
.nav { position: fixed; left: 50%; bottom: 16px; transform: translateX(-50%); pointer-events: auto; display: flex; align-items: center;
  gap: 2px; padding: 4px; background: #fff; color: #1b1b1f; border: 1px solid #c9ccd6; border-radius: 10px;
  box-shadow: 0 4px 18px rgba(0,0,0,.28); font: 600 13px/1 system-ui, sans-serif; }
.nav .position { min-width: 64px; text-align: center; padding: 0 6px; font-variant-numeric: tabular-nums; }
.nav button { display: inline-grid; place-items: center; width: 30px; height: 30px; padding: 0; border: 0; border-radius: 7px;
  background: none; color: inherit; cursor: pointer; }
.nav button:hover { background: #eceef3; }
.nav button:focus-visible { outline: 2px solid #2456d6; outline-offset: 1px; }
.nav button[aria-pressed=true] { background: #dbe4ff; color: #1d46ad; }
.nav svg { width: 16px; height: 16px; fill: none; stroke: currentColor; stroke-width: 2; stroke-linecap: round; stroke-linejoin: round; }
.nav .sep { width: 1px; height: 20px; background: #c9ccd6; margin: 0 2px; }
@media (prefers-color-scheme: dark) {
  .nav { background: #23252b; color: #eceef3; border-color: #4a4d57; }
  .nav button:hover { background: #34373f; }
  .nav button[aria-pressed=true] { background: #2e3b63; color: #c9d7ff; }
  .nav button:focus-visible { outline-color: #8fb0ff; }
  .nav .sep { background: #4a4d57; }
}
`;

/** Icons as paths: the bar's text is only "i of n" (buttons are named by aria-label). */
const ICONS = {
  previous: 'M15 18l-6-6 6-6',
  next: 'M9 18l6-6-6-6',
  pin: 'M12 17v5M8 3h8l-1 6 3 4H6l3-4-1-6z',
  close: 'M6 6l12 12M18 6L6 18',
} as const;

const SVG_NS = 'http://www.w3.org/2000/svg';

function iconButton(icon: keyof typeof ICONS, label: string, testid: string, onClick: () => void): HTMLButtonElement {
  const button = document.createElement('button');
  button.type = 'button';
  button.setAttribute('aria-label', label);
  button.title = label;
  button.setAttribute('data-testid', testid);
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS(SVG_NS, 'path');
  path.setAttribute('d', ICONS[icon]);
  svg.append(path);
  button.append(svg);
  button.addEventListener('click', onClick);
  return button;
}

/** One entry per rank (copies of one image share it), best first. */
export function navMatches(results: { url: string; rank: number }[]): NavMatch[] {
  const byRank = new Map<number, NavMatch>();
  for (const { url, rank } of results) if (!byRank.has(rank)) byRank.set(rank, { rank, url });
  return [...byRank.values()].sort((a, b) => a.rank - b.rank);
}

/** The rank after `rank` among `matches`, wrapping around (a badge click and "next" both go there). */
export function rankAfter(matches: NavMatch[], rank: number): number | null {
  if (matches.length === 0) return null;
  const next = matches.find((m) => m.rank > rank);
  return (next ?? matches[0]).rank;
}

export class PageNav {
  readonly node = document.createElement('div');
  private readonly position = document.createElement('span');
  private readonly pinButton: HTMLButtonElement;
  private matches: NavMatch[] = [];
  private index = 0;
  private pinned = false;

  constructor(private readonly hooks: PageNavHooks) {
    this.node.className = 'nav';
    this.node.setAttribute('role', 'toolbar');
    this.node.setAttribute('aria-label', t('navLabel'));
    this.node.setAttribute('data-testid', 'page-nav');
    this.position.className = 'position';
    this.position.setAttribute('role', 'status');
    this.position.setAttribute('data-testid', 'page-nav-position');
    this.pinButton = iconButton('pin', t('navPin'), 'page-nav-pin', () => this.setPinned(!this.pinned, true));
    this.pinButton.setAttribute('aria-pressed', 'false');
    const separator = document.createElement('span');
    separator.className = 'sep';
    this.node.append(
      iconButton('previous', t('navPrevious'), 'page-nav-previous', () => this.step(-1)),
      this.position,
      iconButton('next', t('navNext'), 'page-nav-next', () => this.step(1)),
      separator,
      this.pinButton,
      iconButton('close', t('navClose'), 'page-nav-close', () => this.hooks.dismiss()),
    );
  }

  /** New highlights: the current match stays current when it is still among them. */
  update(results: { url: string; rank: number }[]): void {
    const current = this.matches[this.index]?.url;
    this.matches = navMatches(results);
    const kept = this.matches.findIndex((m) => m.url === current);
    this.index = kept >= 0 ? kept : 0;
    this.render();
  }

  get size(): number {
    return this.matches.length;
  }

  step(delta: number): void {
    if (this.matches.length === 0) return;
    this.index = (this.index + delta + this.matches.length) % this.matches.length;
    this.show();
  }

  /** Goes to the match of this rank (a badge click, here or in another frame). */
  goToRank(rank: number): void {
    const index = this.matches.findIndex((m) => m.rank === rank);
    if (index < 0) return;
    this.index = index;
    this.show();
  }

  rankAfter(rank: number): number | null {
    return rankAfter(this.matches, rank);
  }

  /** `tell`: the person changed it here (the background must know); otherwise the state is only shown. */
  setPinned(pinned: boolean, tell = false): void {
    this.pinned = pinned;
    this.pinButton.setAttribute('aria-pressed', String(pinned));
    if (tell) this.hooks.pin(pinned);
  }

  private show(): void {
    this.render();
    this.hooks.reveal(this.matches[this.index]);
  }

  private render(): void {
    this.position.textContent = t('navPosition', formatNumber(this.matches.length ? this.index + 1 : 0), formatNumber(this.matches.length));
  }
}
