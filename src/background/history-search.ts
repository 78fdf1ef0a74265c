// Search beyond the page: scope 'tabs' ranks every open tab's indexed images, scope 'all' also
// the stored history (pages recorded by page-recorder.ts) through a VectorIndex of the current
// model's stored embeddings. The page's own results (search.ts) come first and are never held
// up: the history index loads chunk by chunk in the background and its results merge into the
// view when they are ready. Embeddings of another model are never mixed in.
//
//   memorySearch.search(tabId, query, scope)   after TabSearch.run: adds other pages' results
//   memorySearch.similar(tabId, url, scope)    after TabSearch.similar: the same, image → image
//   scopedView(view)                           the view with scope state and merged results
import { relevanceOf } from '../engine/registry';
import { compareScores, judgeMatches, relevance, type RelevanceScale } from '../engine/relevance';
import { dot } from '../engine/similarity';
import { VectorIndex } from '../engine/vector-index';
import type { MemoryView, ReembedView, SearchResult, SearchScope } from '../messages';
import type { LensStore } from '../store/lens-store';
import type { PageInput } from '../store/pages';
import type { PageRecord } from '../store/schema';
import type { LoadedModel } from './engine-host';
import type { EmbeddingPipeline } from './embedding-pipeline';
import { pagesWithout } from './reembed';
import { queryVector } from './search';
import { allTabs, getTab, type TabState } from './tabs';
import { t } from '../i18n';

/** Results from other pages shown with a page's own. */
export const MAX_OTHER_RESULTS = 60;
/** Pages counted for "not embedded with this model" (beyond this, the count says "at least"). */
const MAX_PAGES_COUNTED = 20_000;

/** One model's stored embeddings in one store, loading incrementally; searchable meanwhile. */
export class HistoryIndex {
  readonly index: VectorIndex;
  done = false;
  error: string | null = null;
  /** Stored pages with no image embedded by this model. */
  otherModelPages = 0;
  readonly loaded: Promise<void>;

  constructor(
    readonly store: LensStore,
    readonly modelId: string,
    dim: number,
  ) {
    this.index = new VectorIndex(dim);
    this.loaded = this.load();
  }

  private async load(): Promise<void> {
    try {
      await this.index.load(this.store.embeddingChunks(this.modelId));
      this.otherModelPages = (await pagesWithout(this.store, this.modelId, MAX_PAGES_COUNTED)).length;
    } catch (error) {
      this.error = t('historyReadFailed', (error as Error).message);
    } finally {
      this.done = true;
    }
  }
}

interface ScopeState {
  scope: SearchScope;
  /** Results from other pages, best first (ranks are given when merged). */
  others: SearchResult[];
  /** Each other-page result's picture, for thumbnails and find-similar. */
  pictures: Map<string, { sha256: string; incognito: boolean }>;
  loading: boolean;
  error: string | null;
  /** The model's scale for the last search's kind (text or image): other pages' matches are judged on it. */
  scale?: RelevanceScale;
  /** The history index the last 'all' search used (its size and other-model count are shown). */
  history?: HistoryIndex;
  /** Bumped by every request: an older computation that finishes late is dropped. */
  generation: number;
}

export interface MemorySearchDeps {
  pipeline: EmbeddingPipeline;
  storeFor(incognito: boolean): LensStore;
  historyEnabled(): boolean;
  /** The tab's title and favicon, as the browser shows them. */
  tabInfo(tabId: number): Promise<{ title: string; favicon: string | null }>;
  /** Other pages' results changed: push the tab's view. */
  onResults(tabId: number): void;
}

const states = new Map<number, ScopeState>();
const indexes = new Map<LensStore, HistoryIndex>();
let historyOn = false;
let currentModelId: string | null = null;
let reembedStatus: ReembedView | null = null;

function stateOf(tabId: number): ScopeState {
  let state = states.get(tabId);
  if (!state) {
    state = { scope: 'page', others: [], pictures: new Map(), loading: false, error: null, generation: 0 };
    states.set(tabId, state);
  }
  return state;
}

/** The history index of a store for a model (re-created after a model change or a reset). */
function historyIndex(store: LensStore, model: LoadedModel): HistoryIndex {
  let index = indexes.get(store);
  if (!index || index.modelId !== model.spec.id) {
    index = new HistoryIndex(store, model.spec.id, model.spec.embedDim);
    indexes.set(store, index);
  }
  return index;
}

export class MemorySearch {
  constructor(private readonly deps: MemorySearchDeps) {}

  /**
   * Adds other pages' results for the tab's current query (the page's own are already there).
   * Never rejects: a failure is the view's `memory.error`.
   */
  search(tabId: number, query: string, scope: SearchScope = 'page'): Promise<void> {
    return this.guarded(tabId, scope, () => this.searchOthers(tabId, query, scope));
  }

  /** Find-similar across scopes: the picture's embedding ranks other pages' images too. Never rejects. */
  similar(tabId: number, url: string, scope: SearchScope = 'page'): Promise<void> {
    return this.guarded(tabId, scope, () => this.similarOthers(tabId, url, scope));
  }

  private async guarded(tabId: number, scope: SearchScope, run: () => Promise<void>): Promise<void> {
    try {
      await run();
    } catch (error) {
      const state = stateOf(tabId);
      state.scope = scope;
      state.error = (error as Error).message;
      this.finish(tabId, state, []);
    }
  }

  private async searchOthers(tabId: number, query: string, scope: SearchScope): Promise<void> {
    const tab = getTab(tabId);
    if (!tab) return;
    const state = this.begin(tabId, scope);
    if (scope === 'page' || !query.trim()) return this.finish(tabId, state, []);
    const model = await this.deps.pipeline.model();
    const vector = await queryVector(model, query.trim(), !tab.incognito);
    if (!vector) return this.finish(tabId, state, []);
    state.scale = relevanceOf(model.spec).text;
    await this.rankOthers(tab, state, model, vector);
  }

  private async similarOthers(tabId: number, url: string, scope: SearchScope): Promise<void> {
    const tab = getTab(tabId);
    if (!tab) return;
    const picture = stateOf(tabId).pictures.get(url);
    const state = this.begin(tabId, scope);
    if (scope === 'page') return this.finish(tabId, state, []);
    const model = await this.deps.pipeline.model();
    const vector = picture
      ? await this.deps.storeFor(picture.incognito).getEmbedding(model.spec.id, picture.sha256)
      : await this.deps.pipeline.embed({ url, tab, urgent: true }).then((r) => (r.kind === 'embedding' ? r.embedding : tab.embeddingEntry(url)?.embedding));
    if (!vector) throw new Error(t('bgNoEmbeddingYet'));
    state.scale = relevanceOf(model.spec).image;
    await this.rankOthers(tab, state, model, vector);
  }

  /** The picture behind another page's result (find-similar from a result of another page). */
  picture(tabId: number, url: string): { sha256: string; incognito: boolean } | undefined {
    return states.get(tabId)?.pictures.get(url);
  }

  /** A page was recorded: its pictures join the history index already loaded. */
  recorded(page: PageInput, store: LensStore, embeddingOf: (sha256: string) => Float32Array | undefined): void {
    const index = indexes.get(store);
    if (!index || index.modelId !== page.modelId) return;
    for (const image of page.images) {
      const embedding = embeddingOf(image.sha256);
      if (embedding && !index.index.has(image.sha256)) index.index.add(image.sha256, embedding);
    }
  }

  /** A page of the history now has the current model's embeddings (re-embedded): it is searched from now on. */
  reembedded(page: PageInput, store: LensStore, embeddings: ReadonlyMap<string, Float32Array>): void {
    const index = indexes.get(store);
    if (!index || index.modelId !== page.modelId) return;
    this.recorded(page, store, (sha256) => embeddings.get(sha256));
    index.otherModelPages = Math.max(0, index.otherModelPages - 1);
  }

  /** The stored memory changed wholesale (cleared, imported, forgotten): indexes load again when next needed. */
  invalidate(): void {
    indexes.clear();
    for (const state of states.values()) {
      state.others = [];
      state.history = undefined;
    }
  }

  forgetTab(tabId: number): void {
    states.delete(tabId);
  }

  private begin(tabId: number, scope: SearchScope): ScopeState {
    const state = stateOf(tabId);
    state.scope = scope;
    state.generation++;
    state.error = null;
    return state;
  }

  private finish(tabId: number, state: ScopeState, others: SearchResult[]): void {
    state.others = others;
    state.loading = false;
    this.deps.onResults(tabId);
  }

  private async rankOthers(tab: TabState, state: ScopeState, model: LoadedModel, query: Float32Array): Promise<void> {
    const generation = state.generation;
    const onThisPage = new Set<string>();
    for (const entry of tab.allEntries()) if (entry.sha256) onThisPage.add(entry.sha256);
    const pictures = new Map<string, { sha256: string; incognito: boolean }>();
    const fromTabs = await this.openTabResults(tab, model.spec.id, query, onThisPage, pictures);
    if (generation !== state.generation) return;
    state.pictures = pictures;
    if (state.scope !== 'all') return this.finish(tab.tabId, state, fromTabs.slice(0, MAX_OTHER_RESULTS));
    if (!this.deps.historyEnabled()) {
      state.error = t('historyOffOpenTabs');
      return this.finish(tab.tabId, state, fromTabs.slice(0, MAX_OTHER_RESULTS));
    }
    // Open tabs first (instant), the history when its index has loaded.
    const index = historyIndex(this.deps.storeFor(tab.incognito), model);
    state.history = index;
    state.loading = !index.done;
    state.others = fromTabs.slice(0, MAX_OTHER_RESULTS);
    this.deps.onResults(tab.tabId);
    await index.loaded;
    if (generation !== state.generation) return;
    state.error = index.error;
    for (const image of fromTabs) onThisPage.add(pictures.get(image.url)!.sha256);
    const fromHistory = await this.historyResults(index, tab, query, onThisPage, pictures);
    if (generation !== state.generation) return;
    const merged = [...fromTabs, ...fromHistory].sort((a, b) => compareScores(a.score, b.score)).slice(0, MAX_OTHER_RESULTS);
    this.finish(tab.tabId, state, merged);
  }

  private async openTabResults(
    tab: TabState,
    modelId: string,
    query: Float32Array,
    skip: Set<string>,
    pictures: Map<string, { sha256: string; incognito: boolean }>,
  ): Promise<SearchResult[]> {
    const out: SearchResult[] = [];
    for (const other of allTabs()) {
      // Private windows and ordinary ones never see each other's pages.
      if (other === tab || other.incognito !== tab.incognito || other.pageUrl === tab.pageUrl || !/^https?:/i.test(other.pageUrl)) continue;
      let info: { title: string; favicon: string | null } | undefined;
      for (const entry of other.allEntries()) {
        if (entry.status !== 'indexed' || !entry.embedding || entry.modelId !== modelId || !entry.sha256 || skip.has(entry.sha256)) continue;
        if (pictures.has(entry.url)) continue;
        info ??= await this.deps.tabInfo(other.tabId).catch(() => ({ title: other.pageUrl, favicon: null }));
        const { alt, width, height } = entry.found;
        pictures.set(entry.url, { sha256: entry.sha256, incognito: other.incognito });
        out.push(otherResult(entry.url, dot(query, entry.embedding), { alt, width, height }, other.pageUrl, info, stateOf(tab.tabId).scale));
      }
    }
    return out.sort((a, b) => compareScores(a.score, b.score));
  }

  private async historyResults(
    history: HistoryIndex,
    tab: TabState,
    query: Float32Array,
    skip: Set<string>,
    pictures: Map<string, { sha256: string; incognito: boolean }>,
  ): Promise<SearchResult[]> {
    const out: SearchResult[] = [];
    const hits = history.index.search(query, MAX_OTHER_RESULTS + skip.size);
    for (const { id: sha256, score } of hits) {
      if (skip.has(sha256) || out.length >= MAX_OTHER_RESULTS) continue;
      const pages = await history.store.pagesWithImage(sha256);
      const page = newest(pages.filter((p) => p.url !== tab.pageUrl));
      const image = page?.images.find((i) => i.sha256 === sha256);
      if (!page || !image || pictures.has(image.src)) continue;
      pictures.set(image.src, { sha256, incognito: tab.incognito });
      out.push(otherResult(image.src, score, image, page.url, { title: page.title, favicon: page.favicon }, stateOf(tab.tabId).scale));
    }
    await history.store.touchEmbeddings(history.modelId, out.map((r) => pictures.get(r.url)!.sha256)).catch(() => undefined);
    return out;
  }
}

function newest(pages: PageRecord[]): PageRecord | undefined {
  return pages.reduce<PageRecord | undefined>((best, p) => (!best || p.visitedAt > best.visitedAt ? p : best), undefined);
}

function otherResult(
  url: string,
  score: number,
  { alt, width, height }: { alt: string; width: number; height: number },
  pageUrl: string,
  info: { title: string; favicon: string | null },
  scale: RelevanceScale | undefined,
): SearchResult {
  const relevant = scale ? relevance(score, scale) : 0;
  return { url, score, relevance: relevant, rank: 0, alt, width, height, match: false, pageUrl, pageTitle: info.title || pageUrl, favicon: info.favicon };
}

/**
 * The page's results and other pages', ranked together. The page keeps its own matches; other
 * pages' results are judged on the model's scale among all the scores (relevance.ts).
 */
export function mergeResults(page: readonly SearchResult[], others: readonly SearchResult[], scale: RelevanceScale | undefined): SearchResult[] {
  if (others.length === 0 || !scale) return [...page];
  const judged = judgeMatches([...page, ...others].map((r) => r.score), scale).slice(page.length);
  const marked = others.map((r, i) => ({ ...r, match: judged[i] }));
  return [...page, ...marked].sort((a, b) => compareScores(a.score, b.score)).map((r, i) => ({ ...r, rank: i + 1 }));
}

/** Whether history is on and which model is current: the view's memory fields read them (set by memory.ts). */
export function setMemoryStatus(status: { historyEnabled: boolean; modelId: string | null }): void {
  historyOn = status.historyEnabled;
  currentModelId = status.modelId;
}

/** The re-embedding job's latest progress (set by memory.ts), shown while its model is current. */
export function setReembedStatus(progress: ReembedView | null): void {
  reembedStatus = progress;
}

/** The tab's view with its scope, its history state, and other pages' results merged in. */
export function scopedResults(tabId: number, pageResults: readonly SearchResult[]): { results: SearchResult[]; memory: MemoryView } {
  const state = states.get(tabId);
  const tab = getTab(tabId);
  const current = state?.history?.modelId === currentModelId ? state?.history : undefined;
  const memory: MemoryView = {
    scope: state?.scope ?? 'page',
    historyEnabled: historyOn,
    loading: state?.loading ?? false,
    indexed: current?.index.size ?? 0,
    otherModelPages: current?.done ? current.otherModelPages : 0,
    error: state?.error ?? null,
    reembed: reembedStatus && reembedStatus.modelId === currentModelId ? { ...reembedStatus } : null,
  };
  const others = state && state.scope !== 'page' && tab && (tab.query || tab.similarTo) ? state.others : [];
  return { results: mergeResults(pageResults, others, state?.scale), memory };
}
