import { describe, expect, it, vi } from 'vitest';

vi.mock('webextension-polyfill', () => ({ default: {} }));
const { dataUrlToImage, isSvg, ImageFetchError } = await import('./image-bytes');

describe('data: URLs and SVG sniffing', () => {
  it('decodes base64 and percent-encoded data: URLs', () => {
    const png = dataUrlToImage('data:image/png;base64,iVBORw0K');
    expect([...png.bytes.slice(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    expect(png.blob.type).toBe('image/png');
    const svg = dataUrlToImage('data:image/svg+xml;charset=utf-8,%3Csvg%3E%3C%2Fsvg%3E');
    expect(new TextDecoder().decode(svg.bytes)).toBe('<svg></svg>');
    expect(svg.blob.type).toBe('image/svg+xml');
  });

  it('refuses malformed and empty data: URLs with a reason', () => {
    expect(() => dataUrlToImage('data:image/png;base64,@@@')).toThrow(ImageFetchError);
    expect(() => dataUrlToImage('data:image/png,')).toThrow('empty image');
    expect(() => dataUrlToImage('https://a.test/x.png')).toThrow('malformed');
    expect(() => dataUrlToImage('data:image/svg+xml,%E0%A4%A')).toThrow('malformed');
  });

  it('recognises SVG by type or by its first bytes', () => {
    const bytes = (text: string, type = '') => {
      const b = new TextEncoder().encode(text);
      return { blob: new Blob([b], { type }), bytes: b, etag: null, lastModified: null };
    };
    expect(isSvg(bytes('whatever', 'image/svg+xml'))).toBe(true);
    expect(isSvg(bytes('  <svg xmlns="http://www.w3.org/2000/svg"/>', 'text/plain'))).toBe(true);
    expect(isSvg(bytes('<?xml version="1.0"?>\n<svg/>'))).toBe(true);
    expect(isSvg(bytes('\x89PNG....', 'image/png'))).toBe(false);
  });
});
