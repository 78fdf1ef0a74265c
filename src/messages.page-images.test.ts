import { describe, expect, it } from 'vitest';
import { MAX_PAGE_IMAGE_CHARS } from './messages';
import { parseCaptureResponse, parsePageCommand, parsePageImageResponse } from './message-validators';

describe('page image messages', () => {
  it('validate read-image and prepare-capture commands', () => {
    expect(parsePageCommand({ type: 'read-image', url: 'lens-local:abc/canvas/e1' })).not.toBeNull();
    expect(parsePageCommand({ type: 'read-image', url: 'blob:https://a.test/1', svg: '<svg/>' })).not.toBeNull();
    expect(parsePageCommand({ type: 'read-image', url: 'javascript:1' })).toBeNull();
    expect(parsePageCommand({ type: 'read-image', url: 'https://a.test/x.svg', svg: 7 })).toBeNull();
    expect(parsePageCommand({ type: 'prepare-capture', url: 'https://a.test/x.png' })).not.toBeNull();
  });

  it('accept only raster data: URLs within the size cap from a page', () => {
    expect(parsePageImageResponse({ ok: true, dataUrl: 'data:image/png;base64,AAAA' })).toEqual({ ok: true, dataUrl: 'data:image/png;base64,AAAA' });
    // SVG (scripts, external references) and HTML never come back from a page as image bytes.
    expect(parsePageImageResponse({ ok: true, dataUrl: 'data:image/svg+xml;base64,AAAA' })).toBeNull();
    expect(parsePageImageResponse({ ok: true, dataUrl: 'data:text/html;base64,AAAA' })).toBeNull();
    expect(parsePageImageResponse({ ok: true, dataUrl: `data:image/png;base64,${'A'.repeat(MAX_PAGE_IMAGE_CHARS)}` })).toBeNull();
    expect(parsePageImageResponse({ ok: false, error: 'tainted', capturable: true })).toEqual({ ok: false, error: 'tainted', capturable: true });
    expect(parsePageImageResponse({ ok: false, error: 'x'.repeat(1_001), capturable: false })).toBeNull();
    expect(parsePageImageResponse(undefined)).toBeNull();
  });

  it('accept capture rectangles with finite, positive sizes only', () => {
    const rect = { x: 10, y: 20, width: 160, height: 120, devicePixelRatio: 2 };
    expect(parseCaptureResponse({ ok: true, rect })).toEqual({ ok: true, rect });
    expect(parseCaptureResponse({ ok: true, rect: { ...rect, width: 0 } })).toBeNull();
    expect(parseCaptureResponse({ ok: true, rect: { ...rect, devicePixelRatio: NaN } })).toBeNull();
    expect(parseCaptureResponse({ ok: false, error: 'off screen' })).toEqual({ ok: false, error: 'off screen' });
  });
});
