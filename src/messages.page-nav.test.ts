import { describe, expect, it } from 'vitest';
import { parseContentMessage, parseContextTargetResponse, parsePageCommand } from './message-validators';

describe('page navigation, context menu and card messages', () => {
  it('validates what the page sends about its highlights', () => {
    expect(parseContentMessage({ type: 'pin-highlights', pinned: true, extra: 1 })).toEqual({ type: 'pin-highlights', pinned: true });
    expect(parseContentMessage({ type: 'pin-highlights', pinned: 'yes' })).toBeNull();
    expect(parseContentMessage({ type: 'dismiss-highlights', tabId: 9 })).toEqual({ type: 'dismiss-highlights' });
    expect(parseContentMessage({ type: 'reveal-match', url: 'lens-local:abc/canvas/e1' })).toEqual({ type: 'reveal-match', url: 'lens-local:abc/canvas/e1' });
    expect(parseContentMessage({ type: 'reveal-match', url: 'javascript:alert(1)' })).toBeNull();
    expect(parseContentMessage({ type: 'nav-to', rank: 3 })).toEqual({ type: 'nav-to', rank: 3 });
    for (const rank of [0, -1, 1.5, '2', NaN]) expect(parseContentMessage({ type: 'nav-to', rank })).toBeNull();
  });

  it('validates the context target answer', () => {
    expect(parseContextTargetResponse({ url: null })).toEqual({ url: null });
    expect(parseContextTargetResponse({ url: 'https://a.b/c.png' })).toEqual({ url: 'https://a.b/c.png' });
    expect(parseContextTargetResponse({ url: 'file:///etc/passwd' })).toBeNull();
    expect(parseContextTargetResponse({})).toBeNull();
    expect(parseContextTargetResponse(undefined)).toBeNull();
  });

  it('validates the page commands of the bar, the card and the menu', () => {
    const results = [{ url: 'https://a.b/c.png', rank: 1, score: 1, relevance: 1 }];
    expect(parsePageCommand({ type: 'highlight', results, source: 'https://a.b/c.png' })).not.toBeNull();
    expect(parsePageCommand({ type: 'highlight', results, source: 'javascript:x' })).toBeNull();
    expect(parsePageCommand({ type: 'show-classification', url: 'https://a.b/c.png', labels: [], pending: true })).not.toBeNull();
    expect(parsePageCommand({ type: 'show-classification', url: 'https://a.b/c.png', labels: [], pending: 'soon' })).toBeNull();
    expect(parsePageCommand({ type: 'context-target', url: 'x' })).toEqual({ type: 'context-target' });
    expect(parsePageCommand({ type: 'notice', kind: 'no-image' })).toEqual({ type: 'notice', kind: 'no-image' });
    expect(parsePageCommand({ type: 'notice', kind: 'similar-failed', detail: 'HTTP 404' })).toEqual({ type: 'notice', kind: 'similar-failed', detail: 'HTTP 404' });
    expect(parsePageCommand({ type: 'notice', kind: 'similar-failed', detail: 'x'.repeat(1_001) })).toBeNull();
    // Pages word notices themselves: a sentence from elsewhere is not taken.
    expect(parsePageCommand({ type: 'notice', text: 'No image here' })).toBeNull();
    expect(parsePageCommand({ type: 'nav-to', rank: 2 })).toEqual({ type: 'nav-to', rank: 2 });
    expect(parsePageCommand({ type: 'nav-to', rank: 0 })).toBeNull();
  });
});
