// Text queries → the tab's ranked images, their highlights on the page, and live refresh of
// the results while more images get indexed.
import { hasPositiveTerm, parseQuery } from '../engine/query-syntax';
import { combineQueries, rankMatches } from '../engine/similarity';
import type { SearchResult } from '../messages';
import type { LoadedModel } from './engine-host';
import { sendToTab } from './page-commands';
import { embedTexts } from './text-embeddings';
import { getTab, type TabState } from './tabs';

/** How often results are recomputed while images index. */
const REFRESH_MS = 300;

/** The query as one vector; "a + b" and "a - b" combine the terms' embeddings (see query-syntax.ts). Null when nothing is looked for. */
export async function queryVector(model: LoadedModel, query: string, persist: boolean): Promise<Float32Array | null> {
  const terms = parseQuery(query);
  // Only subtractions ("- people") leave nothing to look for.
  if (!hasPositiveTerm(terms)) return null;
  const vectors = await embedTexts(model, terms.map((t) => t.text), persist);
  return combineQueries(terms.map((t, i) => ({ embedding: vectors[i], sign: t.sign })));
}

/** The tab's indexed images (of this model) ranked for the query; matches stand out from this page's scores. */
export function rank(tab: TabState, query: Float32Array, modelId: string): SearchResult[] {
  const items = [...tab.allEntries()].flatMap((entry) =>
    entry.status === 'indexed' && entry.embedding && entry.modelId === modelId ? [{ entry, embedding: entry.embedding }] : [],
  );
  return rankMatches(query, items).map(({ item: { entry }, score, match }, i) => ({
    url: entry.url,
    score,
    rank: i + 1,
    alt: entry.found.alt,
    width: entry.found.width,
    height: entry.found.height,
    match,
  }));
}

export class TabSearch {
  private readonly refreshTimers = new Map<number, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly model: () => Promise<LoadedModel>,
    /** The tab's results changed (the popup's view should follow). */
    private readonly onResults: (tabId: number) => void,
  ) {}

  /** Runs (or clears, for an empty query) the tab's search and lights up its matches on the page. */
  async run(tabId: number, query: string): Promise<void> {
    const tab = getTab(tabId);
    if (!tab) return;
    tab.query = query.trim();
    if (!tab.query) {
      tab.results = [];
      this.clearHighlights(tabId);
      this.onResults(tabId);
      return;
    }
    const model = await this.model();
    const vector = await queryVector(model, tab.query, !tab.incognito);
    if (tab.query !== query.trim()) return; // a newer query arrived meanwhile
    tab.results = vector ? rank(tab, vector, model.spec.id) : [];
    // A result stands for every copy of its bytes on the page: all light up.
    const matches = tab.results
      .filter((r) => r.match)
      .flatMap(({ url, rank: r, score }) => tab.copiesOf(url).map((copy) => ({ url: copy, rank: r, score })));
    const highlights = JSON.stringify(matches);
    if (highlights !== tab.sentHighlights) {
      tab.sentHighlights = highlights;
      sendToTab(tabId, { type: 'highlight', results: matches });
    }
    this.onResults(tabId);
  }

  /** Results cover whatever is indexed so far: recompute them soon after the tab changed. */
  refreshSoon(tab: TabState): void {
    if (!tab.query || this.refreshTimers.has(tab.tabId)) return;
    this.refreshTimers.set(
      tab.tabId,
      setTimeout(() => {
        this.refreshTimers.delete(tab.tabId);
        this.run(tab.tabId, tab.query).catch(() => undefined);
      }, REFRESH_MS),
    );
  }

  clearHighlights(tabId: number): void {
    const tab = getTab(tabId);
    if (tab) tab.sentHighlights = '';
    sendToTab(tabId, { type: 'clear-highlights' });
  }
}
