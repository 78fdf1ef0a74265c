import { describe, expect, it } from 'vitest';
import { PageHighlights, handlePageMessage } from './page-highlights';

describe('PageHighlights', () => {
  it('go when the popup closes, unless pinned', () => {
    const h = new PageHighlights();
    expect(h.shown).toBe(true);
    expect(h.popupClosed()).toBe(true);
    expect(h.shown).toBe(false);
    h.show();
    h.pin(true);
    expect(h.popupClosed()).toBe(false);
    expect(h.shown).toBe(true);
    h.pin(false);
    expect(h.popupClosed()).toBe(true);
  });

  it('stay gone after Esc until asked for again, and Esc drops the pin', () => {
    const h = new PageHighlights();
    h.pin(true);
    h.dismiss();
    expect(h.shown).toBe(false);
    expect(h.isPinned).toBe(false);
    h.show();
    expect(h.shown).toBe(true);
    expect(h.popupClosed()).toBe(true);
  });
});

describe('handlePageMessage', () => {
  it('routes the page bar and badges to the right frames', () => {
    const sent: [number, unknown, number | undefined][] = [];
    const cleared: number[] = [];
    const deps = { send: (tabId: number, command: unknown, frameId?: number) => void sent.push([tabId, command, frameId]), clearHighlights: (tabId: number) => void cleared.push(tabId) };
    const h = new PageHighlights();
    handlePageMessage(7, h, { type: 'pin-highlights', pinned: true }, deps);
    expect(h.isPinned).toBe(true);
    handlePageMessage(7, h, { type: 'reveal-match', url: 'https://a.b/c.png' }, deps);
    handlePageMessage(7, h, { type: 'nav-to', rank: 3 }, deps);
    expect(sent).toEqual([
      [7, { type: 'reveal', url: 'https://a.b/c.png' }, undefined],
      [7, { type: 'nav-to', rank: 3 }, 0],
    ]);
    handlePageMessage(7, h, { type: 'dismiss-highlights' }, deps);
    expect(cleared).toEqual([7]);
    expect(h.shown).toBe(false);
  });
});
