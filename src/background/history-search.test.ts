import 'fake-indexeddb/auto';
import { describe, expect, it, vi } from 'vitest';

vi.mock('webextension-polyfill', () => ({ default: {} }));
const { HistoryIndex, MemorySearch, mergeResults, scopedResults, setMemoryStatus, setReembedStatus } = await import('./history-search');
const { isExcluded, keptFavicon, pageInputOf, PageRecorder } = await import('./page-recorder');
const { ensureTab, forgetTab } = await import('./tabs');
const { createMemoryStore } = await import('../store/memory-store');
const { getModel } = await import('../engine/registry');
import { l2normalize } from '../engine/similarity';
import type { SearchResult } from '../messages';
import type { LoadedModel } from './engine-host';
import type { EmbeddingPipeline } from './embedding-pipeline';
import type { TabState } from './tabs';

const spec = getModel('fixture')!;
const sha = (n: number) => n.toString(16).padStart(64, '0');
/** A unit vector pointing mostly along axis `axis`. */
const along = (axis: number) => l2normalize(Float32Array.from({ length: spec.embedDim }, (_, d) => (d === axis ? 1 : 0.05)));

/** A tab whose images are indexed: image i has hash sha(base + i) and points along axis axes[i]. */
function indexedTab(tabId: number, pageUrl: string, axes: number[], base: number, incognito = false): TabState {
  forgetTab(tabId);
  const tab = ensureTab(tabId, pageUrl, incognito);
  const urls = axes.map((_, i) => `${pageUrl}img${i}.png`);
  tab.updateFrame(0, pageUrl, urls.map((url, top) => ({ url, kind: 'img', width: 100, height: 80, top, visible: true, alt: `alt ${top}` })), 0);
  const entries = tab.claim(Infinity);
  entries.forEach((entry, i) => {
    tab.recordBytes(entry, sha(base + i));
    tab.markIndexed(entry, along(axes[i]), spec.id);
  });
  return tab;
}

const result = (url: string, score: number, match: boolean, pageUrl?: string): SearchResult => ({
  url, score, relevance: 0, rank: 0, alt: '', width: 1, height: 1, match, ...(pageUrl ? { pageUrl, pageTitle: 't', favicon: null } : {}),
});
const scale = { unrelated: 0.1, floor: 0.15, clear: 0.3 };

describe('merging results of other pages', () => {
  it('ranks all together, and judges other pages\' results on the model\'s scale', () => {
    const merged = mergeResults([result('https://p/1', 0.3, true), result('https://p/2', 0.1, false)], [result('https://o/1', 0.35, false, 'https://o/'), result('https://o/2', 0.2, false, 'https://o/')], scale);
    expect(merged.map((r) => [r.url, r.rank, r.match])).toEqual([
      ['https://o/1', 1, true],
      ['https://p/1', 2, true],
      ['https://o/2', 3, false],
      ['https://p/2', 4, false],
    ]);
    expect(mergeResults([], [result('https://o/1', 0.2, false, 'https://o/')], scale)[0].match).toBe(true);
    expect(mergeResults([], [result('https://o/1', 0.12, false, 'https://o/')], scale)[0].match).toBe(false); // under the floor
  });
});

describe('recording pages', () => {
  it('takes the indexed pictures of the current model, one per picture, and respects exclusions', () => {
    const tab = indexedTab(1, 'https://news.test/a/', [0, 1], 10);
    const input = pageInputOf(tab, { title: 'News', favicon: null, modelId: spec.id, visitedAt: 5 });
    expect(input.images.map((i) => i.sha256)).toEqual([sha(10), sha(11)]);
    expect(pageInputOf(tab, { title: 'News', favicon: null, modelId: 'other', visitedAt: 5 }).images).toEqual([]);
    expect(isExcluded('https://www.bank.test/x', ['bank.test'])).toBe(true);
    expect(isExcluded('https://notbank.test/x', ['bank.test'])).toBe(false);
    expect(keptFavicon('chrome://favicon/x')).toBeNull();
    expect(keptFavicon('https://a.test/favicon.ico')).toBe('https://a.test/favicon.ico');
  });

  it('writes a page only when on, never for private tabs or excluded sites, and only new pictures', async () => {
    const store = createMemoryStore();
    let enabled = false;
    const recorded: string[] = [];
    const recorder = new PageRecorder({
      enabled: () => enabled,
      excludedSites: () => ['secret.test'],
      store: () => store,
      tabInfo: async () => ({ title: 'A page', favicon: null }),
      modelId: () => spec.id,
      thumbnail: async () => undefined,
      recorded: (page) => recorded.push(page.url),
    });
    const tab = indexedTab(2, 'https://seen.test/', [0], 20);
    expect(await recorder.record(tab)).toBeNull();
    enabled = true;
    expect(await recorder.record(indexedTab(3, 'https://private.test/', [0], 30, true))).toBeNull();
    expect(await recorder.record(indexedTab(4, 'https://www.secret.test/', [0], 40))).toBeNull();
    expect(await recorder.record(tab)).not.toBeNull();
    expect(await recorder.record(tab)).toBeNull(); // nothing new
    expect(recorded).toEqual(['https://seen.test/']);
    expect((await store.getPage('https://seen.test/'))?.hashes).toEqual([sha(20)]);
    expect(await store.getPage('https://private.test/')).toBeUndefined();
  });
});

describe('searching other pages', () => {
  it('finds an open tab\'s picture and a stored page\'s picture, never mixing in another model', async () => {
    for (const id of [1, 2, 3, 4]) forgetTab(id); // tabs of the tests above
    const store = createMemoryStore();
    // A page seen earlier (not open): its picture points along axis 2.
    await store.putPage({ url: 'https://old.test/', title: 'Old page', favicon: null, visitedAt: 1, modelId: spec.id, images: [{ sha256: sha(90), src: 'https://old.test/pic.png', alt: 'old', width: 10, height: 10 }] });
    await store.putEmbedding(spec.id, sha(90), along(2));
    await store.putEmbedding('another-model', sha(91), along(2));
    await store.putPage({ url: 'https://older.test/', title: 'Older', favicon: null, visitedAt: 0, modelId: 'another-model', images: [{ sha256: sha(91), src: 'https://older.test/x.png', alt: '', width: 1, height: 1 }] });

    const here = indexedTab(10, 'https://here.test/', [0], 100);
    indexedTab(11, 'https://other-tab.test/', [1], 110);
    indexedTab(12, 'https://private-tab.test/', [1], 120, true);
    const model = { spec, engine: { embedTexts: async () => [along(1)] } } as unknown as LoadedModel;
    const pushed: number[] = [];
    setMemoryStatus({ historyEnabled: true, modelId: spec.id });
    const search = new MemorySearch({
      pipeline: { model: async () => model } as unknown as EmbeddingPipeline,
      storeFor: () => store,
      historyEnabled: () => true,
      tabInfo: async (tabId) => ({ title: `Tab ${tabId}`, favicon: null }),
      onResults: (tabId) => pushed.push(tabId),
    });
    here.query = 'query';
    await search.search(10, 'query', 'tabs');
    let { results, memory } = scopedResults(10, []);
    expect(results.map((r) => [r.url, r.pageUrl, r.pageTitle])).toEqual([['https://other-tab.test/img0.png', 'https://other-tab.test/', 'Tab 11']]);
    expect(memory.scope).toBe('tabs');

    await search.search(10, 'query', 'all');
    ({ results, memory } = scopedResults(10, []));
    expect(results.map((r) => r.pageUrl)).toEqual(['https://other-tab.test/', 'https://old.test/']);
    expect(results[1]).toMatchObject({ url: 'https://old.test/pic.png', pageTitle: 'Old page' });
    expect(memory).toMatchObject({ scope: 'all', loading: false, indexed: 1, otherModelPages: 1 });
    expect(search.picture(10, 'https://old.test/pic.png')).toEqual({ sha256: sha(90), incognito: false });
    expect(pushed.length).toBeGreaterThan(0);

    // The other model's page, re-embedded (reembed.ts): searched from now on, no longer counted.
    const reembedded = { url: 'https://older.test/', title: 'Older', favicon: null, visitedAt: 0, modelId: spec.id, images: [{ sha256: sha(91), src: 'https://older.test/x.png', alt: '', width: 1, height: 1 }] };
    await store.putPage(reembedded);
    search.reembedded(reembedded, store, new Map([[sha(91), along(1)]]));
    setReembedStatus({ modelId: spec.id, state: 'done', pagesDone: 1, pagesTotal: 1, imagesEmbedded: 1, unreachable: 0, error: null });
    await search.search(10, 'query', 'all');
    ({ results, memory } = scopedResults(10, []));
    expect(results.map((r) => r.pageUrl)).toContain('https://older.test/');
    expect(memory).toMatchObject({ indexed: 2, otherModelPages: 0, reembed: { state: 'done', pagesDone: 1 } });
    // Progress of a job for another model is not this model's.
    setReembedStatus({ modelId: 'another-model', state: 'running', pagesDone: 0, pagesTotal: 1, imagesEmbedded: 0, unreachable: 0, error: null });
    expect(scopedResults(10, []).memory.reembed).toBeNull();
    setReembedStatus(null);

    await search.search(10, 'query', 'page');
    expect(scopedResults(10, []).results).toEqual([]);
  });

  it('loads the history incrementally and counts pages of other models', async () => {
    const store = createMemoryStore();
    for (let i = 0; i < 5; i++) await store.putEmbedding(spec.id, sha(i), along(i));
    const index = new HistoryIndex(store, spec.id, spec.embedDim);
    await index.loaded;
    expect(index.index.size).toBe(5);
    expect(index.done).toBe(true);
    expect(index.index.search(along(3), 1)[0].id).toBe(sha(3));
  });
});
