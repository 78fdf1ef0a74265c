import { describe, expect, it } from 'vitest';
import type { FoundImage } from '../messages';
import { setMergeDuplicates, TabState } from './tabs';

const img = (url: string): FoundImage => ({ url, kind: 'img', width: 100, height: 100, top: 0, visible: true, alt: '' });

function tabWith(...urls: string[]): TabState {
  const tab = new TabState(1, 'https://a.test/', false);
  tab.updateFrame(0, 'https://a.test/', urls.map(img), 0);
  return tab;
}

describe('identical bytes at different addresses', () => {
  it('count once, rank once, and light up together', () => {
    const tab = tabWith('https://a.test/1.png', 'https://cdn.test/1.png', 'https://a.test/2.png');
    const [first, copy, other] = tab.claim(3);
    expect(tab.recordBytes(first, 'aaa')).toBe(false);
    expect(tab.recordBytes(copy, 'aaa')).toBe(true);
    expect(tab.recordBytes(other, 'bbb')).toBe(false);
    expect(copy).toMatchObject({ duplicateOf: first.url, status: 'duplicate', embedding: undefined });
    expect(tab.counts()).toMatchObject({ found: 2 });
    expect(tab.copiesOf(first.url)).toEqual([first.url, copy.url]);
    expect(tab.copiesOf(other.url)).toEqual([other.url]);
  });

  it('a copy whose original leaves the page counts on its own again', () => {
    const tab = tabWith('https://a.test/1.png', 'https://cdn.test/1.png');
    const [first, copy] = tab.claim(2);
    tab.recordBytes(first, 'aaa');
    tab.recordBytes(copy, 'aaa');
    const requeued = tab.updateFrame(0, 'https://a.test/', [img('https://cdn.test/1.png')], 0);
    expect(requeued).toEqual([copy]);
    expect(copy).toMatchObject({ duplicateOf: undefined, status: 'pending', sha256: 'aaa' });
    expect(tab.counts()).toMatchObject({ found: 1, pending: 1 });
  });

  it('follows the setting: off separates copies, on merges indexed ones again', () => {
    const tab = tabWith('https://a.test/1.png', 'https://cdn.test/1.png');
    const [first, copy] = tab.claim(2);
    tab.recordBytes(first, 'aaa');
    tab.markIndexed(first, Float32Array.from([1]), 'm');
    tab.recordBytes(copy, 'aaa');
    try {
      expect(setMergeDuplicates(false)).toBe(true);
      expect(tab.regroupDuplicates()).toBe(true);
      expect(copy).toMatchObject({ duplicateOf: undefined, status: 'pending' });
      expect(tab.counts().found).toBe(2);
      // Off: new copies are not merged either.
      tab.claim(1);
      expect(tab.recordBytes(copy, 'aaa')).toBe(false);
      tab.markIndexed(copy, Float32Array.from([1]), 'm');
      expect(setMergeDuplicates(true)).toBe(true);
      expect(setMergeDuplicates(true)).toBe(false);
      expect(tab.regroupDuplicates()).toBe(true);
      expect(tab.counts().found).toBe(1);
    } finally {
      setMergeDuplicates(true);
    }
  });

  it('re-reads page-only images from a frame that still shows them', () => {
    const tab = new TabState(1, 'https://a.test/', false);
    tab.updateFrame(3, 'https://f.test/', [img('https://cdn.test/x.png')], 0);
    tab.updateFrame(5, 'https://g.test/', [img('https://cdn.test/x.png')], 0);
    expect(tab.entry('https://cdn.test/x.png')!.frameId).toBe(3);
    tab.updateFrame(3, 'https://f.test/', [], 0);
    expect(tab.entry('https://cdn.test/x.png')!.frameId).toBe(5);
    expect(tab.frameUrl(5)).toBe('https://g.test/');
  });
});
