import { describe, expect, it } from 'vitest';
import { chooseCandidate, parseSrcset } from './srcset';

describe('srcset', () => {
  it('parses width and density descriptors, and URLs that contain commas', () => {
    expect(parseSrcset('a.jpg 320w, b.jpg 640w', 320)).toEqual([
      { url: 'a.jpg', density: 1 },
      { url: 'b.jpg', density: 2 },
    ]);
    expect(parseSrcset('a.jpg, b.jpg 2x,c.jpg 1.5x', 0)).toEqual([
      { url: 'a.jpg', density: 1 },
      { url: 'b.jpg', density: 2 },
      { url: 'c.jpg', density: 1.5 },
    ]);
    // CDN transform URLs: the comma inside the URL is not a separator.
    expect(parseSrcset('https://cdn.test/w_400,h_300/x.jpg 400w, https://cdn.test/w_800,h_600/x.jpg 800w', 400).map((c) => c.url)).toEqual([
      'https://cdn.test/w_400,h_300/x.jpg',
      'https://cdn.test/w_800,h_600/x.jpg',
    ]);
    expect(parseSrcset('  ', 100)).toEqual([]);
  });

  it('chooses the smallest candidate dense enough for the screen, else the densest', () => {
    const candidates = parseSrcset('s.jpg 160w, m.jpg 320w, l.jpg 640w', 160);
    expect(chooseCandidate(candidates, 1)).toBe('s.jpg');
    expect(chooseCandidate(candidates, 2)).toBe('m.jpg');
    expect(chooseCandidate(candidates, 3)).toBe('l.jpg');
    expect(chooseCandidate(candidates, 8)).toBe('l.jpg');
    expect(chooseCandidate([], 1)).toBeNull();
  });
});
