import { describe, expect, it } from 'vitest';
import { compareScores, isValidScale, judgeMatches, relevance, type RelevanceScale } from './relevance';
import { MODELS, relevanceOf } from './registry';

const fixtureText: RelevanceScale = { unrelated: 0, floor: 0.15, clear: 0.3 };
const clipText: RelevanceScale = { unrelated: 0.1, floor: 0.18, clear: 0.3 };

const matched = (scores: number[], scale: RelevanceScale) => judgeMatches(scores, scale).flatMap((m, i) => (m ? [i] : []));

describe('judgeMatches', () => {
  it('finds no match for a nonsense query: the best of bad scores is not promoted', () => {
    // "xyzzy" against the colours page with the fixture model (measured with the CLI).
    expect(matched([-0.044, -0.035, -0.006, -0.021, -0.033, -0.029], fixtureText)).toEqual([]);
    // Real-model-like: everything unrelated, one image a little less so.
    expect(matched([0.12, 0.11, 0.16, 0.13, 0.12], clipText)).toEqual([]);
  });

  it('marks the one clear hit among unrelated images', () => {
    expect(matched([0.308, 0, 0, 0, 0, -0], fixtureText)).toEqual([0]);
  });

  it('marks hits that stand out from the page, even below the clear point', () => {
    expect(matched([0.14, 0.29, 0.12, 0.27, 0.13, 0.15, 0.12], clipText)).toEqual([1, 3]);
    // Above the floor but not standing out (the page is full of such scores): not a match.
    expect(matched([0.2, 0.21, 0.2, 0.25, 0.2, 0.2, 0.2, 0.2], clipText)).toEqual([3]);
  });

  it('counts every clear match on a page full of them, and near-equal best scores alike', () => {
    expect(matched([0.31, 0.32, 0.3, 0.31, 0.33], clipText)).toEqual([0, 1, 2, 3, 4]);
    expect(matched([0.25, 0.245, 0.12, 0.11], clipText)).toEqual([0, 1]);
  });

  it('judges one or two results on the floor and closeness to the best only', () => {
    expect(matched([0.2], clipText)).toEqual([0]);
    expect(matched([0.17], clipText)).toEqual([]);
    expect(matched([0.26, 0.19], clipText)).toEqual([0]);
    expect(matched([], clipText)).toEqual([]);
  });
});

describe('relevance', () => {
  it('places a cosine linearly between unrelated (0) and clear (1), clamped', () => {
    expect(relevance(0.1, clipText)).toBe(0);
    expect(relevance(0.2, clipText)).toBeCloseTo(0.5, 6);
    expect(relevance(0.3, clipText)).toBe(1);
    expect(relevance(0.5, clipText)).toBe(1);
    expect(relevance(-0.2, clipText)).toBe(0);
    expect(relevance(0.308, fixtureText)).toBe(1);
  });
});

describe('compareScores', () => {
  it('orders best first and treats float noise as a tie, so a stable sort keeps page order', () => {
    const items = [
      { id: 'a', s: 0 },
      { id: 'b', s: 0.3 },
      { id: 'c', s: -2e-4 },
      { id: 'd', s: 3e-4 },
      { id: 'e', s: 0.3001 },
      { id: 'f', s: 0.302 },
    ];
    expect(items.sort((x, y) => compareScores(x.s, y.s)).map((x) => x.id)).toEqual(['f', 'b', 'e', 'a', 'c', 'd']);
  });
});

describe('registry scales', () => {
  it('every model has an ordered text and image scale', () => {
    for (const spec of MODELS) {
      const r = relevanceOf(spec);
      expect(spec.relevance, spec.id).toBeDefined();
      expect(isValidScale(r.text), spec.id).toBe(true);
      expect(isValidScale(r.image), spec.id).toBe(true);
    }
  });
});
