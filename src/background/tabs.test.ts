import { describe, expect, it } from 'vitest';
import type { FoundImage } from '../messages';
import { ensureTab, forgetTab, TabState } from './tabs';

const img = (url: string, top: number, visible = true): FoundImage => ({ url, kind: 'img', width: 100, height: 100, top, visible, alt: '' });
const vec = Float32Array.from([1, 0]);

describe('per-tab image state', () => {
  it('merges frames, drops images a frame no longer reports, and resets on navigation', () => {
    const tab = ensureTab(101, 'https://a.test/', false);
    expect(tab.updateFrame(0, 'https://a.test/', [img('https://a.test/1.png', 0), img('https://a.test/2.png', 50)], 1)).toHaveLength(2);
    expect(tab.updateFrame(7, 'https://a.test/', [img('https://b.test/3.png', 0)], 0)).toHaveLength(1);
    expect(tab.counts()).toMatchObject({ found: 3, hidden: 1, pending: 3 });
    // Re-reporting a known image adds nothing to index.
    expect(tab.updateFrame(0, 'https://a.test/', [img('https://a.test/1.png', 0)], 0)).toHaveLength(0);
    expect(tab.counts().found).toBe(2);
    tab.countEmbedding('model');
    tab.updateFrame(0, 'https://a.test/next', [img('https://a.test/9.png', 0)], 0);
    expect([...tab.allEntries()].map((e) => e.url)).toEqual(['https://a.test/9.png']);
    // A new page starts its stats afresh.
    expect(tab.stats).toEqual({ embedded: 0, fromCache: 0 });
    forgetTab(101);
  });

  it('counts hidden and omitted images over frames, each report replacing its frame\'s, and forgets them on navigation', () => {
    const tab = new TabState(103, 'https://a.test/', false);
    tab.updateFrame(0, 'https://a.test/', [img('https://a.test/1.png', 0)], 2, 5);
    tab.updateFrame(3, 'https://f.test/frame', [img('https://f.test/2.png', 0)], 1, 4);
    expect(tab.counts()).toMatchObject({ found: 2, hidden: 3, omitted: 9 });
    expect(tab.frameUrl(3)).toBe('https://f.test/frame');
    tab.updateFrame(3, 'https://f.test/frame', [img('https://f.test/2.png', 0)], 0);
    expect(tab.counts()).toMatchObject({ found: 2, hidden: 2, omitted: 5 });
    tab.updateFrame(0, 'https://a.test/next', [img('https://a.test/9.png', 0)], 0);
    expect(tab.counts()).toMatchObject({ found: 1, hidden: 0, omitted: 0 });
    expect(tab.frameUrl(3)).toBeUndefined();
    expect(tab.frameUrl(0)).toBe('https://a.test/next');
  });

  it('claims visible images first, then top to bottom, and only pending ones', () => {
    const tab = new TabState(102, 'https://a.test/', false);
    tab.updateFrame(0, 'https://a.test/', [img('https://a.test/low.png', 900), img('https://a.test/hidden.png', 10, false), img('https://a.test/top.png', 5)], 0);
    const first = tab.claim(1);
    expect(first.map((e) => e.url)).toEqual(['https://a.test/top.png']);
    expect(first[0].status).toBe('working');
    expect(tab.claim(10).map((e) => e.url)).toEqual(['https://a.test/low.png', 'https://a.test/hidden.png']);
    expect(tab.claim(10)).toEqual([]);
    expect(tab.hasPending()).toBe(false);
    // Working entries still count as waiting.
    expect(tab.counts()).toMatchObject({ found: 3, pending: 3, indexed: 0 });
  });
  it('after the page scrolls, claims what is on screen, then what is near it, then the rest; a new page forgets the scroll', () => {
    const tab = new TabState(103, 'https://a.test/', false);
    const urls = ['first-screen', 'far', 'near', 'on-screen'].map((n) => `https://a.test/${n}.png`);
    tab.updateFrame(0, 'https://a.test/', [img(urls[0], 0), img(urls[1], 9000, false), img(urls[2], 5000, false), img(urls[3], 4100, false)], 0);
    tab.setViewport({ top: 4000, height: 800 });
    expect(tab.claim(10).map((e) => e.url)).toEqual([urls[3], urls[2], urls[0], urls[1]]);
    tab.updateFrame(0, 'https://a.test/next', [img(urls[0], 0), img(urls[3], 4100, false)], 0);
    expect(tab.claim(10).map((e) => e.url)).toEqual([urls[0], urls[3]]);
  });
});

describe('entry lifecycle', () => {
  function tabWith(...urls: string[]) {
    const tab = new TabState(1, 'https://a.test/', false);
    tab.updateFrame(0, 'https://a.test/', urls.map((u, i) => img(u, i)), 0);
    return tab;
  }

  it('working → indexed keeps the embedding and its model', () => {
    const tab = tabWith('https://a.test/1.png');
    const [entry] = tab.claim(1);
    expect(tab.markIndexed(entry, vec, 'm')).toBe(true);
    expect(tab.entry(entry.url)).toMatchObject({ status: 'indexed', embedding: vec, modelId: 'm' });
    expect(tab.counts()).toMatchObject({ indexed: 1, pending: 0 });
  });

  it('only working entries take a result: one requeued meanwhile drops the stale answer', () => {
    const tab = tabWith('https://a.test/1.png');
    const entry = tab.entry('https://a.test/1.png')!;
    expect(tab.markIndexed(entry, vec, 'm')).toBe(false); // still pending: never claimed
    tab.claim(1);
    expect(tab.requeue(() => true)).toBe(true);
    expect(tab.markIndexed(entry, vec, 'm')).toBe(false);
    expect(entry.status).toBe('pending');
  });

  it('fails with a typed reason, from working or (model unavailable) from pending', () => {
    const tab = tabWith('https://a.test/1.png', 'https://a.test/2.png');
    const [working] = tab.claim(1);
    expect(tab.markFailed(working, { reason: 'fetch', detail: 'HTTP 403' })).toBe(true);
    const waiting = tab.entry('https://a.test/2.png')!;
    expect(tab.markFailed(waiting, { reason: 'model', detail: 'model unavailable: offline' })).toBe(true);
    expect(tab.counts()).toMatchObject({ failed: 2, pending: 0 });
    expect(tab.failures(10)).toEqual([
      { url: working.url, failure: { reason: 'fetch', detail: 'HTTP 403' } },
      { url: waiting.url, failure: { reason: 'model', detail: 'model unavailable: offline' } },
    ]);
    // A failed entry cannot fail again or be indexed without being requeued first.
    expect(tab.markFailed(working, { reason: 'decode', detail: 'x' })).toBe(false);
    expect(tab.markIndexed(working, vec, 'm')).toBe(false);
  });

  it('requeues by typed reason and says whether anything changed', () => {
    const tab = tabWith('https://a.test/1.png', 'https://a.test/2.png', 'https://a.test/3.png');
    const [a, b, c] = tab.claim(3);
    tab.markFailed(a, { reason: 'needs-visible-tab', detail: 'it can only be read from the screen while its tab is shown' });
    tab.markFailed(b, { reason: 'model', detail: 'model unavailable' });
    tab.markIndexed(c, vec, 'm');
    expect(tab.requeue((e) => e.failure?.reason === 'needs-visible-tab')).toBe(true);
    expect(tab.entry(a.url)).toMatchObject({ status: 'pending', failure: undefined });
    expect(tab.entry(b.url)!.status).toBe('failed');
    expect(tab.requeue((e) => e.failure?.reason === 'needs-visible-tab')).toBe(false);
    // Everything (a model switch): results are forgotten.
    expect(tab.requeue(() => true)).toBe(true);
    expect(tab.entry(c.url)).toMatchObject({ status: 'pending', embedding: undefined, modelId: undefined });
    expect(tab.counts()).toMatchObject({ pending: 3, failed: 0, indexed: 0 });
  });

  it('working → duplicate when another entry already has the bytes', () => {
    const tab = tabWith('https://a.test/1.png', 'https://cdn.test/1.png');
    const [first, copy] = tab.claim(2);
    expect(tab.recordBytes(first, 'aaa')).toBe(false);
    expect(tab.recordBytes(copy, 'aaa')).toBe(true);
    expect(tab.entry(copy.url)).toMatchObject({ status: 'duplicate', duplicateOf: first.url, sha256: 'aaa' });
    tab.markIndexed(first, vec, 'm');
    // A duplicate is answered by its original's embedding.
    expect(tab.embeddingEntry(copy.url)).toBe(first);
    expect(tab.counts()).toMatchObject({ found: 1, indexed: 1, pending: 0 });
    // A duplicate takes no embedding of its own.
    expect(tab.markIndexed(copy, vec, 'm')).toBe(false);
  });

  it('duplicate → failed with its original: the same bytes fail the same way, each listed', () => {
    const tab = tabWith('https://a.test/bomb.png?n=1', 'https://a.test/bomb.png?n=2');
    const [first, copy] = tab.claim(2);
    tab.recordBytes(first, 'bbb');
    expect(tab.recordBytes(copy, 'bbb')).toBe(true);
    tab.markFailed(first, { reason: 'decode', detail: 'too many pixels' });
    expect(tab.entry(copy.url)).toMatchObject({ status: 'failed', failure: { reason: 'decode', detail: 'too many pixels' } });
    expect(tab.failures(10).map((f) => f.url).sort()).toEqual([copy.url, first.url].sort());
    expect(tab.counts()).toMatchObject({ found: 2, failed: 2 });
  });

  it('counts embeddings by where they came from', () => {
    const tab = tabWith();
    tab.countEmbedding('model');
    tab.countEmbedding('cache');
    tab.countEmbedding('cache');
    expect(tab.stats).toEqual({ embedded: 1, fromCache: 2 });
  });
});
