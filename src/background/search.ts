// Text queries → the tab's ranked images, their highlights on the page, and live refresh of
// the results while more images get indexed.
import { hasPositiveTerm, parseQuery } from '../engine/query-syntax';
import { relevanceOf } from '../engine/registry';
import { combineQueries, rankMatches } from '../engine/similarity';
import type { ModelSpec } from '../engine/types';
import type { SearchResult } from '../messages';
import type { LoadedModel } from './engine-host';
import type { EmbeddingPipeline } from './embedding-pipeline';
import { sendToTab } from './page-commands';
import { embedTexts } from './text-embeddings';
import { getTab, previewField, type TabState } from './tabs';
import { t } from '../i18n';
import { KeyedThrottle } from '../concurrency';

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

/**
 * The tab's indexed images (of this model) ranked against a query vector: a text query, or an
 * image's embedding (find similar), each judged on the model's scale for that kind (relevance.ts).
 * Images enter in page order (top to bottom, then document order), so equal scores keep the order people see.
 */
export function rank(tab: TabState, query: Float32Array, spec: ModelSpec, kind: 'text' | 'image'): SearchResult[] {
  const items = [...tab.allEntries()]
    .flatMap((entry) => (entry.status === 'indexed' && entry.embedding && entry.modelId === spec.id ? [{ entry, embedding: entry.embedding }] : []))
    // Stable sort: images on one row keep the order the page reported them in (document order).
    .sort((a, b) => a.entry.found.top - b.entry.found.top);
  return rankMatches(query, items, relevanceOf(spec)[kind]).map(({ item: { entry }, score, match, relevance }, i) => ({
    url: entry.url,
    score,
    relevance,
    rank: i + 1,
    alt: entry.found.alt,
    width: entry.found.width,
    height: entry.found.height,
    match,
    ...previewField(entry),
  }));
}

export class TabSearch {
  /** Recomputes each tab's results; see refreshSoon. */
  private readonly refreshes = new KeyedThrottle<number>(REFRESH_MS);
  /**
   * Queries asked of a tab whose page has not reported its images yet (a popup opened while the
   * page loads, or before its content script started): they run once it has, instead of being lost.
   */
  private readonly waiting = new Map<number, string>();

  constructor(
    private readonly pipeline: EmbeddingPipeline,
    /** The tab's results changed (the popup's view should follow). */
    private readonly onResults: (tabId: number) => void,
  ) {}

  /** Runs (or clears, for an empty query) the tab's search and lights up its matches on the page. */
  async run(tabId: number, query: string): Promise<void> {
    const tab = getTab(tabId);
    if (!tab) {
      if (query.trim()) this.waiting.set(tabId, query);
      else this.waiting.delete(tabId);
      return;
    }
    this.waiting.delete(tabId);
    tab.query = query.trim();
    tab.similarTo = null;
    if (!tab.query) {
      tab.results = [];
      this.clearHighlights(tabId);
      this.onResults(tabId);
      return;
    }
    const model = await this.pipeline.model();
    const vector = await queryVector(model, tab.query, !tab.incognito);
    if (tab.query !== query.trim() || tab.similarTo !== null) return; // a newer request arrived meanwhile
    this.publish(tab, vector ? rank(tab, vector, model.spec, 'text') : []);
  }

  /**
   * Ranks the tab's images by similarity to one image (find similar). The image's embedding
   * comes from the pipeline: stored when the image was indexed, so no inference then.
   */
  async similar(tabId: number, url: string, frameId?: number): Promise<void> {
    const tab = getTab(tabId);
    if (!tab) throw new Error(t('bgNoImagesIndexedYet'));
    tab.query = '';
    tab.similarTo = url;
    const source = await this.pipeline.embed({ url, tab, frameId, urgent: true });
    if (tab.similarTo !== url || tab.query) return; // a newer request arrived meanwhile
    const embedding = source.kind === 'embedding' ? source.embedding : tab.embeddingEntry(url)?.embedding;
    if (!embedding) throw new Error(t('bgNoEmbeddingYet'));
    const model = await this.pipeline.model();
    this.publish(tab, rank(tab, embedding, model.spec, 'image'));
  }

  /** The tab's page reported images: a query asked before it had any runs now (a newer one asked since wins). */
  tabAppeared(tab: TabState): void {
    const query = this.waiting.get(tab.tabId);
    if (query === undefined) return;
    this.waiting.delete(tab.tabId);
    if (tab.query || tab.similarTo) return;
    this.run(tab.tabId, query).catch(() => undefined);
  }

  tabClosed(tabId: number): void {
    this.refreshes.forget(tabId);
    this.waiting.delete(tabId);
  }

  /**
   * Results cover whatever is indexed so far: recompute them after the tab changed, at once when
   * the last refresh is REFRESH_MS old (a run's new embeddings show without waiting) or when no
   * image of the tab is left to index (the last answers of a burst show without waiting), else
   * when the interval is over (a burst of changes makes one refresh).
   */
  refreshSoon(tab: TabState): void {
    if (!tab.query && !tab.similarTo) return;
    this.refreshes.schedule(
      tab.tabId,
      () => {
        const again = tab.similarTo ? this.similar(tab.tabId, tab.similarTo) : this.run(tab.tabId, tab.query);
        again.catch(() => undefined);
      },
      tab.settled(),
    );
  }

  clearHighlights(tabId: number): void {
    const tab = getTab(tabId);
    if (tab) tab.sentHighlights = '';
    sendToTab(tabId, { type: 'clear-highlights' });
  }

  /** New results: the popup follows, and the page lights up every copy of each match (only when that changed). */
  private publish(tab: TabState, results: SearchResult[]): void {
    tab.results = results;
    const matches = results
      .filter((r) => r.match)
      .flatMap(({ url, rank: r, score, relevance }) => tab.copiesOf(url).map((copy) => ({ url: copy, rank: r, score, relevance })));
    const source = tab.similarTo ?? undefined;
    const highlights = JSON.stringify([matches, source]);
    // Highlights the person cleared (Esc, the popup closed) stay cleared until results are asked for again.
    if (highlights !== tab.sentHighlights && tab.pageHighlights.shown) {
      tab.sentHighlights = highlights;
      sendToTab(tab.tabId, { type: 'highlight', results: matches, source });
    }
    this.onResults(tab.tabId);
  }
}
