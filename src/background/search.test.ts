import { describe, expect, it, vi } from 'vitest';
import type { FoundImage } from '../messages';

vi.mock('webextension-polyfill', () => ({ default: {} }));
const { rank } = await import('./search');
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
    const results = rank(tab, Float32Array.from([1, 0]), 'm');
    expect(results.map((r) => [r.url, r.rank])).toEqual([[urls[1], 1], [urls[0], 2]]);
    expect(results[0]).toMatchObject({ alt: 'image 1', width: 100, height: 120, match: true });
    expect(results[0].score).toBeCloseTo(0.3, 6);
  });
});
