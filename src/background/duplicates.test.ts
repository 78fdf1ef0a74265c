import { describe, expect, it } from 'vitest';
import type { FoundImage } from '../messages';
import { copiesOf, markIfDuplicate, regroupDuplicates, setMergeDuplicates } from './duplicates';
import { counts, ensureTab, forgetTab, updateFrame } from './tabs';

const img = (url: string): FoundImage => ({ url, kind: 'img', width: 100, height: 100, top: 0, visible: true, alt: '' });

describe('identical bytes at different addresses', () => {
  it('count once, rank once, and light up together', () => {
    const tab = ensureTab(201, 'https://a.test/', false);
    updateFrame(tab, 0, 'https://a.test/', [img('https://a.test/1.png'), img('https://cdn.test/1.png'), img('https://a.test/2.png')], 0);
    const [first, copy, other] = tab.entries.values();
    expect(markIfDuplicate(tab, first, 'aaa')).toBe(false);
    expect(markIfDuplicate(tab, copy, 'aaa')).toBe(true);
    expect(markIfDuplicate(tab, other, 'bbb')).toBe(false);
    expect(copy).toMatchObject({ duplicateOf: first.url, status: 'indexed', embedding: undefined });
    expect(counts(tab)).toMatchObject({ found: 2 });
    expect(copiesOf(tab, first.url)).toEqual([first.url, copy.url]);
    expect(copiesOf(tab, other.url)).toEqual([other.url]);
    forgetTab(201);
  });

  it('a copy whose original leaves the page counts on its own again', () => {
    const tab = ensureTab(202, 'https://a.test/', false);
    updateFrame(tab, 0, 'https://a.test/', [img('https://a.test/1.png'), img('https://cdn.test/1.png')], 0);
    const [first, copy] = tab.entries.values();
    markIfDuplicate(tab, first, 'aaa');
    markIfDuplicate(tab, copy, 'aaa');
    const requeued = updateFrame(tab, 0, 'https://a.test/', [img('https://cdn.test/1.png')], 0);
    expect(requeued).toEqual([copy]);
    expect(copy).toMatchObject({ duplicateOf: undefined, status: 'pending' });
    expect(counts(tab)).toMatchObject({ found: 1, pending: 1 });
    forgetTab(202);
  });

  it('follows the setting: off separates copies, on merges indexed ones again', () => {
    const tab = ensureTab(203, 'https://a.test/', false);
    updateFrame(tab, 0, 'https://a.test/', [img('https://a.test/1.png'), img('https://cdn.test/1.png')], 0);
    const [first, copy] = tab.entries.values();
    markIfDuplicate(tab, first, 'aaa');
    first.status = 'indexed';
    markIfDuplicate(tab, copy, 'aaa');
    expect(setMergeDuplicates(false)).toBe(true);
    regroupDuplicates(tab);
    expect(copy).toMatchObject({ duplicateOf: undefined, status: 'pending' });
    expect(counts(tab).found).toBe(2);
    // Off: new copies are not merged either.
    expect(markIfDuplicate(tab, copy, 'aaa')).toBe(false);
    copy.status = 'indexed';
    expect(setMergeDuplicates(true)).toBe(true);
    expect(setMergeDuplicates(true)).toBe(false);
    regroupDuplicates(tab);
    expect(counts(tab).found).toBe(1);
    forgetTab(203);
  });

  it('re-reads page-only images from a frame that still shows them', () => {
    const tab = ensureTab(204, 'https://a.test/', false);
    updateFrame(tab, 3, 'https://f.test/', [img('https://cdn.test/x.png')], 0);
    updateFrame(tab, 5, 'https://g.test/', [img('https://cdn.test/x.png')], 0);
    expect(tab.entries.get('https://cdn.test/x.png')!.frameId).toBe(3);
    updateFrame(tab, 3, 'https://f.test/', [], 0);
    expect(tab.entries.get('https://cdn.test/x.png')!.frameId).toBe(5);
    expect(tab.frameUrls.get(5)).toBe('https://g.test/');
    forgetTab(204);
  });
});
