// The result grid. It keeps one element per image across views (thumbnails load once) and owns
// the order people see: while the pointer is over the grid or focus is in it, tiles already shown
// stay where they are and new arrivals only join at the end; the ranking settles once the person
// moves away. Non-matches hide behind "Show all" (see engine/relevance.ts for what matches).
import type { SearchResult, TabView } from '../messages';
import { showThumbnail } from './thumbnail';
import { formatNumber, formatPercent, t } from '../i18n';

/** How long after the pointer or focus left the grid the order settles to the ranking. */
const SETTLE_MS = 600;

export interface GridActions {
  reveal(url: string): void;
  similar(url: string): void;
  classify(url: string): Promise<string>;
  open(url: string): void;
  copyAddress(url: string): void;
  copyImage(url: string): void;
  download(url: string): void;
  /** The selection changed (checkboxes, "select all matches"). */
  selectionChanged(): void;
  /** The held order settled (the popup refreshes what depends on it). */
  settled(): void;
}

function button(testid: string, label: string, title: string): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.dataset.testid = testid;
  b.textContent = label;
  b.title = title;
  b.setAttribute('aria-label', title);
  return b;
}

export class ResultsGrid {
  private readonly tiles = new Map<string, HTMLLIElement>();
  private results = new Map<string, SearchResult>();
  private context = '';
  private pointerInside = false;
  private settleTimer: ReturnType<typeof setTimeout> | undefined;
  private latest: TabView | null = null;
  /** Whether the grid shows the order of an earlier view (the person is interacting). */
  held = false;
  showAll = false;
  readonly selected = new Set<string>();

  constructor(
    private readonly list: HTMLOListElement,
    private readonly tabId: number,
    private readonly actions: GridActions,
  ) {
    list.addEventListener('pointerenter', () => (this.pointerInside = true));
    list.addEventListener('pointerleave', () => {
      this.pointerInside = false;
      this.settleSoon();
    });
    // Settling re-checks where the focus is once it has landed: a window that lost focus (another
    // window or tab came forward) keeps its tile focused, and it comes back focused.
    list.addEventListener('focusout', (event) => {
      if (!list.contains(event.relatedTarget as Node | null)) this.settleSoon();
    });
  }

  /**
   * The focus is read where it is, not counted from focus events: Firefox moves the focus of a
   * window without system focus (no focusin) and fires focusout on a window blur.
   */
  get interacting(): boolean {
    return this.pointerInside || this.list.contains(document.activeElement);
  }

  /** Tiles as shown, in grid order (hidden ones excluded). */
  visibleTiles(): HTMLLIElement[] {
    return [...this.list.children].filter((el): el is HTMLLIElement => el instanceof HTMLLIElement && !el.hidden);
  }

  matches(): SearchResult[] {
    return [...this.results.values()].filter((r) => r.match);
  }

  setShowAll(on: boolean): void {
    this.showAll = on;
    if (this.latest) this.render(this.latest, true);
  }

  selectMatches(): void {
    for (const r of this.matches()) this.selected.add(r.url);
    for (const [url, tile] of this.tiles) tile.querySelector<HTMLInputElement>('[data-testid=select]')!.checked = this.selected.has(url);
    this.actions.selectionChanged();
  }

  /** Shows a view's results; `force` re-sorts even while the person interacts (their own toggle). */
  render(view: TabView, force = false): void {
    this.latest = view;
    const context = view.similarTo ? `similar\n${view.similarTo}` : `query\n${view.query}`;
    const fresh = context !== this.context;
    if (fresh) {
      this.context = context;
      this.showAll = false;
      this.selected.clear();
    }
    this.results = new Map(view.results.map((r) => [r.url, r]));
    for (const [url, tile] of this.tiles) {
      if (this.results.has(url)) continue;
      tile.remove();
      this.tiles.delete(url);
      this.selected.delete(url);
    }
    const hold = this.interacting && !fresh && !force;
    const order: HTMLLIElement[] = [];
    for (const r of view.results) {
      const known = this.tiles.get(r.url);
      const tile = known ?? this.createTile(r.url, !!r.preview);
      this.updateTile(tile, r, view.similarTo === r.url);
      // Held: a tile already there keeps its place and its visibility; new ones join at the end.
      if (!hold || !known) tile.hidden = !(r.match || this.showAll);
      order.push(tile);
    }
    if (hold) {
      for (const tile of order) if (!tile.isConnected) this.list.append(tile);
      this.held = order.some((tile, i) => this.list.children[i] !== tile);
    } else {
      // Fewest moves: a tile already in place is not touched.
      order.forEach((tile, i) => {
        if (this.list.children[i] !== tile) this.list.insertBefore(tile, this.list.children[i] ?? null);
      });
      this.held = false;
    }
  }

  private settleSoon(): void {
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => {
      if (this.interacting || !this.latest) return;
      this.render(this.latest);
      this.actions.settled();
    }, SETTLE_MS);
  }

  private createTile(url: string, preview: boolean): HTMLLIElement {
    const li = document.createElement('li');
    li.dataset.testid = 'result';
    li.tabIndex = 0;
    const img = document.createElement('img');
    img.alt = '';
    showThumbnail(img, this.tabId, url, preview);

    const pick = document.createElement('input');
    pick.type = 'checkbox';
    pick.className = 'pick';
    pick.dataset.testid = 'select';
    pick.title = t('popupSelectForDownload');
    pick.setAttribute('aria-label', t('popupSelectForDownload'));
    pick.addEventListener('change', () => {
      if (pick.checked) this.selected.add(url);
      else this.selected.delete(url);
      this.actions.selectionChanged();
    });

    const meta = document.createElement('div');
    meta.className = 'meta';
    const rank = document.createElement('span');
    rank.className = 'rank';
    const score = document.createElement('span');
    score.className = 'relevance';
    score.dataset.testid = 'relevance';
    const bar = document.createElement('span');
    bar.className = 'bar';
    const fill = document.createElement('span');
    bar.append(fill);
    const percent = document.createElement('span');
    percent.className = 'percent';
    score.append(bar, percent);
    meta.append(rank, score);

    const actions = document.createElement('div');
    actions.className = 'actions';
    const similar = button('similar', t('popupTileSimilar'), t('popupTileSimilarTitle'));
    const classify = button('classify-button', t('popupTileClassify'), t('popupTileClassifyTitle'));
    const open = button('open', t('popupTileOpen'), t('popupTileOpenTitle'));
    const copyUrl = button('copy-address', t('popupTileLink'), t('popupTileLinkTitle'));
    const copyImg = button('copy-image', t('popupTileCopy'), t('popupTileCopyTitle'));
    const download = button('download', t('popupTileSave'), t('popupTileSaveTitle'));
    actions.append(similar, classify, open, copyUrl, copyImg, download);
    const labels = document.createElement('div');
    labels.className = 'labels';
    labels.hidden = true;

    li.append(img, pick, meta, actions, labels);
    similar.addEventListener('click', () => this.actions.similar(url));
    open.addEventListener('click', () => this.actions.open(url));
    copyUrl.addEventListener('click', () => this.actions.copyAddress(url));
    copyImg.addEventListener('click', () => this.actions.copyImage(url));
    download.addEventListener('click', () => this.actions.download(url));
    classify.addEventListener('click', async () => {
      classify.disabled = true;
      classify.textContent = '…';
      labels.textContent = await this.actions.classify(url);
      labels.dataset.testid = 'classify-label';
      labels.hidden = false;
      classify.disabled = false;
      classify.textContent = t('popupTileClassify');
    });
    li.addEventListener('click', (event) => {
      if (!(event.target as Element).closest('button, input')) this.actions.reveal(url);
    });
    this.tiles.set(url, li);
    return li;
  }

  private updateTile(li: HTMLLIElement, r: SearchResult, isSource: boolean): void {
    const percent = Math.round(r.relevance * 100);
    li.dataset.src = r.url;
    li.dataset.score = r.score.toFixed(4);
    li.dataset.relevance = String(percent);
    li.dataset.rank = String(r.rank);
    li.dataset.match = String(r.match);
    if (isSource) li.dataset.source = 'true';
    else delete li.dataset.source;
    li.classList.toggle('match', r.match);
    li.classList.toggle('weak', !r.match);
    const relevance = t('popupRelevance', formatPercent(r.relevance), formatNumber(r.score, { minimumFractionDigits: 3, maximumFractionDigits: 3 }));
    const label = isSource ? `${t('popupSourceImage')} ${relevance}` : relevance;
    li.title = `${r.alt ? `${r.alt}\n` : ''}${label}\n${t('popupTileRevealHint')}`;
    li.setAttribute('aria-label', `#${formatNumber(r.rank)}${r.alt ? `, ${r.alt}` : ''}, ${label}`);
    (li.querySelector('img') as HTMLImageElement).alt = r.alt;
    li.querySelector('.rank')!.textContent = isSource ? t('popupSourceRank') : `#${formatNumber(r.rank)}`;
    li.querySelector('.percent')!.textContent = formatPercent(r.relevance);
    (li.querySelector('.bar > span') as HTMLElement).style.width = `${percent}%`;
    li.querySelector<HTMLInputElement>('[data-testid=select]')!.checked = this.selected.has(r.url);
  }
}
