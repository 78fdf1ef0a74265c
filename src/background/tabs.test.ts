import { describe, expect, it } from 'vitest';
import type { FoundImage } from '../messages';
import { counts, ensureTab, forgetTab, nextPending, updateFrame } from './tabs';
import { rank } from './search';

const img = (url: string, top: number, visible = true): FoundImage => ({ url, kind: 'img', width: 100, height: 100, top, visible, alt: '' });

describe('per-tab image state', () => {
  it('merges frames, drops images a frame no longer reports, and resets on navigation', () => {
    const tab = ensureTab(101, 'https://a.test/', false);
    expect(updateFrame(tab, 0, 'https://a.test/', [img('https://a.test/1.png', 0), img('https://a.test/2.png', 50)], 1)).toHaveLength(2);
    expect(updateFrame(tab, 7, 'https://a.test/', [img('https://b.test/3.png', 0)], 0)).toHaveLength(1);
    expect(counts(tab)).toMatchObject({ found: 3, hidden: 1, pending: 3 });
    // Re-reporting a known image adds nothing to index.
    expect(updateFrame(tab, 0, 'https://a.test/', [img('https://a.test/1.png', 0)], 0)).toHaveLength(0);
    expect(counts(tab).found).toBe(2);
    updateFrame(tab, 0, 'https://a.test/next', [img('https://a.test/9.png', 0)], 0);
    expect([...tab.entries.keys()]).toEqual(['https://a.test/9.png']);
    forgetTab(101);
  });

  it('indexes visible images first, then top to bottom', () => {
    const tab = ensureTab(102, 'https://a.test/', false);
    updateFrame(tab, 0, 'https://a.test/', [img('https://a.test/low.png', 900), img('https://a.test/hidden.png', 10, false), img('https://a.test/top.png', 5)], 0);
    expect(nextPending(tab, 10).map((e) => e.url)).toEqual(['https://a.test/top.png', 'https://a.test/low.png', 'https://a.test/hidden.png']);
    expect(nextPending(tab, 1)).toHaveLength(1);
    forgetTab(102);
  });
});

describe('rank', () => {
  /** An embedding whose cosine with the query [1, 0] is exactly `score`. */
  const withScore = (score: number) => Float32Array.from([score, Math.sqrt(1 - score * score)]);

  function tabWithScores(tabId: number, scores: number[]) {
    const tab = ensureTab(tabId, 'https://a.test/', false);
    const urls = scores.map((_, i) => `https://a.test/${i}.png`);
    updateFrame(tab, 0, 'https://a.test/', urls.map((u, i) => img(u, i)), 0);
    urls.forEach((u, i) => Object.assign(tab.entries.get(u)!, { status: 'indexed', embedding: withScore(scores[i]), modelId: 'm' }));
    return { tab, urls };
  }

  it('orders by cosine, numbers the ranks, and never compares another model', () => {
    const { tab, urls } = tabWithScores(103, [0.1, 0.3, 0.2]);
    const results = rank(tab, Float32Array.from([1, 0]), 'm');
    expect(results.map((r) => r.url)).toEqual([urls[1], urls[2], urls[0]]);
    expect(results.map((r) => r.rank)).toEqual([1, 2, 3]);
    expect(results[0].score).toBeCloseTo(0.3, 6);
    expect(rank(tab, Float32Array.from([1, 0]), 'other')).toEqual([]);
    forgetTab(103);
  });

  it('marks as matches the images that stand out from this page, at least the best one', () => {
    // Typical CLIP cosines: two clear hits among a flat background of unrelated images.
    const { tab, urls } = tabWithScores(104, [0.14, 0.29, 0.12, 0.3, 0.13, 0.15, 0.12]);
    const matches = rank(tab, Float32Array.from([1, 0]), 'm').filter((r) => r.match).map((r) => r.url);
    expect(matches).toEqual([urls[3], urls[1]]);
    forgetTab(104);
    // Nothing stands out: only the best counts.
    const flat = tabWithScores(105, [0.2, 0.2, 0.2, 0.21]);
    expect(rank(flat.tab, Float32Array.from([1, 0]), 'm').filter((r) => r.match).map((r) => r.url)).toEqual([flat.urls[3]]);
    forgetTab(105);
  });
});
