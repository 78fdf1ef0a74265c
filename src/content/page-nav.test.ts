import { describe, expect, it } from 'vitest';
import { labelsAsText, placeCard } from './classify-card';
import { imagesByElement, resolveContextTarget } from './context-target';
import { navMatches, rankAfter } from './page-nav';

const viewport = { width: 1000, height: 800 };
const card = { width: 260, height: 200 };
const overlaps = (p: { left: number; top: number }, t: { left: number; top: number; width: number; height: number }) =>
  p.left < t.left + t.width && p.left + card.width > t.left && p.top < t.top + t.height && p.top + card.height > t.top;

describe('the classification card stays off the image', () => {
  it('goes below when there is room, else right, above, left', () => {
    const high = { left: 100, top: 50, width: 160, height: 120 };
    expect(placeCard(high, card, viewport)).toEqual({ left: 100, top: 178 });
    const low = { left: 100, top: 600, width: 160, height: 120 };
    expect(placeCard(low, card, viewport)).toEqual({ left: 268, top: 592 });
    const lowRight = { left: 800, top: 600, width: 160, height: 120 };
    const above = placeCard(lowRight, card, viewport);
    expect(above.top).toBe(600 - 200 - 8);
    const tallRight = { left: 740, top: 10, width: 250, height: 780 };
    const left = placeCard(tallRight, card, viewport);
    expect(left.left).toBe(740 - 260 - 8);
    for (const t of [high, low, lowRight, tallRight]) expect(overlaps(placeCard(t, card, viewport), t)).toBe(false);
  });

  it('covers as little as it can when the image fills the viewport, and stays inside it', () => {
    const huge = { left: -50, top: -50, width: 1100, height: 900 };
    const p = placeCard(huge, card, viewport);
    expect(p.left).toBeGreaterThanOrEqual(8);
    expect(p.top).toBeGreaterThanOrEqual(8);
    expect(p.left + card.width).toBeLessThanOrEqual(viewport.width);
    expect(p.top + card.height).toBeLessThanOrEqual(viewport.height);
    const mostly = { left: 0, top: 0, width: 900, height: 700 };
    const q = placeCard(mostly, card, viewport);
    // The corner where the free strips at the right and the bottom meet.
    expect(q).toEqual({ left: 1000 - 260 - 8, top: 800 - 200 - 8 });
  });

  it('copies the labels as lines of text', () => {
    expect(labelsAsText([{ label: 'blue', probability: 0.9712 }, { label: 'navy <b>', probability: 0.012 }])).toBe('blue (97.1%)\nnavy <b> (1.2%)');
  });
});

describe('the navigation bar', () => {
  const results = [
    { url: 'b', rank: 2 },
    { url: 'a', rank: 1 },
    { url: 'a-copy', rank: 1 },
    { url: 'c', rank: 5 },
  ];
  it('has one stop per rank, best first (copies of one image share a stop)', () => {
    expect(navMatches(results)).toEqual([
      { rank: 1, url: 'a' },
      { rank: 2, url: 'b' },
      { rank: 5, url: 'c' },
    ]);
  });
  it('goes on from a clicked badge to the next match, wrapping around', () => {
    const matches = navMatches(results);
    expect(rankAfter(matches, 1)).toBe(2);
    expect(rankAfter(matches, 2)).toBe(5);
    expect(rankAfter(matches, 5)).toBe(1);
    expect(rankAfter([], 1)).toBeNull();
  });
});

describe('the image under the pointer', () => {
  it('is the topmost candidate showing an image, by the name discovery reported', () => {
    const overlay = {} as Element;
    const div = {} as Element;
    const body = {} as Element;
    const placements = new Map([
      ['https://x/bg.png', [{ element: div }]],
      ['lens-local:abc/canvas/e1', [{ element: body, pseudo: '::before' }]],
      ['https://x/layer2.png', [{ element: div }]],
    ]);
    const byElement = imagesByElement(placements);
    expect(resolveContextTarget([overlay, div, body], byElement)).toEqual({ url: 'https://x/bg.png', element: div });
    expect(resolveContextTarget([overlay, body], byElement)).toEqual({ url: 'lens-local:abc/canvas/e1', element: body });
    expect(resolveContextTarget([overlay], byElement)).toBeNull();
  });
});
