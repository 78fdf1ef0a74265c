import { describe, expect, it, vi } from 'vitest';
import type { FoundImage } from '../messages';

const sent: unknown[] = [];
vi.mock('webextension-polyfill', () => ({ default: { tabs: { sendMessage: async (_tab: number, command: unknown) => void sent.push(command) } } }));
// A text's embedding: [1, 0] for "red", [0, 1] otherwise.
vi.mock('./text-embeddings', () => ({ embedTexts: async (_model: unknown, texts: string[]) => texts.map((t) => Float32Array.from(t === 'red' ? [1, 0] : [0, 1])) }));
const { rank, TabSearch } = await import('./search');
const { ensureTab } = await import('./tabs');
const { TabState } = await import('./tabs');

const img = (url: string, top: number): FoundImage => ({ url, kind: 'img', width: 100, height: 120, top, visible: true, alt: `image ${top}` });

describe('rank', () => {
  it('ranks the indexed images of this model only, numbered, with the page facts', () => {
    const tab = new TabState(1, 'https://a.test/', false);
    const urls = ['https://a.test/0.png', 'https://a.test/1.png', 'https://a.test/2.png', 'https://a.test/3.png'];
    tab.updateFrame(0, 'https://a.test/', urls.map((u, i) => img(u, i)), 0);
    const [a, b, c] = tab.claim(3);
    tab.markIndexed(a, Float32Array.from([0.1, Math.sqrt(0.99)]), 'm');
    tab.markIndexed(b, Float32Array.from([0.3, Math.sqrt(0.91)]), 'm');
    tab.markIndexed(c, Float32Array.from([0.9, Math.sqrt(0.19)]), 'other');
    const spec = { id: 'm', relevance: { text: { unrelated: 0.1, floor: 0.18, clear: 0.3 }, image: { unrelated: 0.5, floor: 0.7, clear: 0.9 } } };
    const results = rank(tab, Float32Array.from([1, 0]), spec as never, 'text');
    expect(results.map((r) => [r.url, r.rank])).toEqual([[urls[1], 1], [urls[0], 2]]);
    expect(results[0]).toMatchObject({ alt: 'image 1', width: 100, height: 120, match: true, relevance: 1 });
    expect(results[1].match).toBe(false);
    expect(results[1].relevance).toBeCloseTo(0, 6);
    expect(results[0].score).toBeCloseTo(0.3, 6);
  });

  it('says which results have a preview made from the decode the model needed', () => {
    const tab = new TabState(1, 'https://a.test/', false);
    const urls = ['https://a.test/0.png', 'https://a.test/1.png'];
    tab.updateFrame(0, 'https://a.test/', urls.map((u, i) => img(u, i)), 0);
    const [a, b] = tab.claim(2);
    tab.setThumbnail(urls[0], 'data:image/jpeg;base64,AAAA');
    tab.markIndexed(a, Float32Array.from([1, 0]), 'm');
    tab.markIndexed(b, Float32Array.from([0, 1]), 'm');
    const spec = { id: 'm', relevance: { text: { unrelated: 0.1, floor: 0.18, clear: 0.3 }, image: { unrelated: 0.5, floor: 0.7, clear: 0.9 } } };
    const results = rank(tab, Float32Array.from([1, 0]), spec as never, 'text');
    expect(results.map((r) => [r.url, r.preview])).toEqual([
      [urls[0], true],
      [urls[1], undefined],
    ]);
  });
});

describe('find similar', () => {
  it('ranks the page against one of its images from the stored embedding, source first, and a text search ends it', async () => {
    const tab = ensureTab(7, 'https://a.test/', false);
    const urls = ['https://a.test/red.png', 'https://a.test/pink.png', 'https://a.test/blue.png'];
    tab.updateFrame(0, 'https://a.test/', urls.map((u, i) => img(u, i)), 0);
    const vectors = [Float32Array.from([1, 0]), Float32Array.from([0.8, 0.6]), Float32Array.from([0, 1])];
    tab.claim(3).forEach((entry, i) => tab.markIndexed(entry, vectors[i], 'm'));
    let embedCalls = 0;
    const pipeline = {
      model: async () => ({ spec: { id: 'm', relevance: { text: { unrelated: 0, floor: 0.15, clear: 0.3 }, image: { unrelated: 0.5, floor: 0.7, clear: 0.78 } } } }),
      embed: async ({ url, urgent }: { url: string; urgent?: boolean }) => {
        embedCalls++;
        // The person waits for this one image: it goes before the page's images still to index.
        expect(urgent).toBe(true);
        const entry = tab.embeddingEntry(url)!;
        return { kind: 'embedding', embedding: entry.embedding!, modelId: 'm', source: 'cache' };
      },
    };
    const changed: number[] = [];
    const search = new TabSearch(pipeline as never, (id) => changed.push(id));
    sent.length = 0;
    await search.similar(7, urls[0]);
    expect(embedCalls).toBe(1);
    expect(tab.similarTo).toBe(urls[0]);
    expect(tab.query).toBe('');
    expect(tab.results.map((r) => r.url)).toEqual(urls);
    expect(tab.results[0].score).toBeCloseTo(1, 6);
    // Judged on the image scale: the source and the pink (a clear match on that scale) match, the blue does not.
    expect(tab.results.map((r) => r.match)).toEqual([true, true, false]);
    expect(changed).toEqual([7]);
    expect(sent).toHaveLength(1);
    // A text query replaces the similarity ranking.
    await search.run(7, '');
    expect(tab.similarTo).toBeNull();
  });

  it('says why when the tab has no images yet', async () => {
    const search = new TabSearch({} as never, () => undefined);
    await expect(search.similar(999, 'https://a.test/x.png')).rejects.toThrow(/no images/);
  });

  it('a query asked before the page has reported its images is kept, and runs once they are there', async () => {
    const model = { spec: { id: 'm', relevance: { text: { unrelated: 0, floor: 0.15, clear: 0.3 }, image: { unrelated: 0.5, floor: 0.7, clear: 0.78 } } } };
    const search = new TabSearch({ model: async () => model } as never, () => undefined);
    await search.run(31, 'red');
    const tab = ensureTab(31, 'https://b.test/', false);
    const urls = ['https://b.test/blue.png', 'https://b.test/red.png'];
    tab.updateFrame(0, 'https://b.test/', urls.map((u, i) => img(u, i)), 0);
    tab.claim(2).forEach((entry, i) => tab.markIndexed(entry, Float32Array.from(i === 1 ? [1, 0] : [0, 1]), 'm'));
    search.tabAppeared(tab);
    await vi.waitFor(() => expect(tab.results.map((r) => r.url)).toEqual([urls[1], urls[0]]));
    expect(tab.query).toBe('red');
    // Cleared before the page reported: nothing waits.
    await search.run(32, 'red');
    await search.run(32, '');
    const other = ensureTab(32, 'https://c.test/', false);
    search.tabAppeared(other);
    expect(other.query).toBe('');
  });

  it('refreshes results at once after a quiet spell, and at most once per interval while images keep coming', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'Date'] });
    try {
      const { tab, search, runs } = askedTabCountingRuns(41, 2);
      search.refreshSoon(tab);
      await vi.advanceTimersByTimeAsync(0);
      expect(runs()).toBe(1);
      search.refreshSoon(tab);
      search.refreshSoon(tab);
      await vi.advanceTimersByTimeAsync(299);
      expect(runs()).toBe(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(runs()).toBe(2);
      await vi.advanceTimersByTimeAsync(5_000);
      search.refreshSoon(tab);
      await vi.advanceTimersByTimeAsync(0);
      expect(runs()).toBe(3);
      // Within the interval, but nothing is left to index: the last answers show at once.
      search.refreshSoon(tab);
      await vi.advanceTimersByTimeAsync(10);
      expect(runs()).toBe(3);
      tab.claim(2).forEach((entry) => tab.markIndexed(entry, Float32Array.from([1, 0]), 'm'));
      search.refreshSoon(tab);
      await vi.advanceTimersByTimeAsync(0);
      expect(runs()).toBe(4);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a closed tab\'s pending refresh does not run', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      const { tab, search, runs } = askedTabCountingRuns(42, 1);
      search.refreshSoon(tab);
      await vi.advanceTimersByTimeAsync(0);
      search.refreshSoon(tab);
      search.tabClosed(42);
      await vi.advanceTimersByTimeAsync(1_000);
      expect(runs()).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });
});

/** A tab showing `images` images and asked 'red', and a TabSearch whose runs are only counted. */
function askedTabCountingRuns(tabId: number, images: number) {
  const page = `https://t${tabId}.test/`;
  const tab = ensureTab(tabId, page, false);
  tab.updateFrame(0, page, Array.from({ length: images }, (_, i) => img(`${page}${i}.png`, i)), 0);
  tab.query = 'red';
  let runs = 0;
  const search = new TabSearch({} as never, () => undefined);
  search.run = async () => void runs++;
  return { tab, search, runs: () => runs };
}
