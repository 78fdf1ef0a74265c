import { describe, expect, it } from 'vitest';
import { cssImageUrls, splitTopLevel } from './css-images';

const BASE = 'https://site.test/page/';

describe('CSS image values', () => {
  it('splits on top-level separators only', () => {
    expect(splitTopLevel('url("a,b"), linear-gradient(red, blue), url(c)')).toEqual(['url("a,b")', 'linear-gradient(red, blue)', 'url(c)']);
  });

  it('reads every url() layer, top first, and skips gradients', () => {
    const value = 'url("https://site.test/top.png"), linear-gradient(rgba(0, 0, 0, 0), rgb(0, 0, 0)), url("https://cdn.test/photo.jpg")';
    expect(cssImageUrls(value, BASE, 1)).toEqual(['https://site.test/top.png', 'https://cdn.test/photo.jpg']);
    expect(cssImageUrls('none', BASE, 1)).toEqual([]);
    expect(cssImageUrls('linear-gradient(red, blue)', BASE, 1)).toEqual([]);
  });

  it('resolves escapes and relative URLs', () => {
    expect(cssImageUrls('url("a\\"b.png")', BASE, 1)).toEqual(['https://site.test/page/a%22b.png']);
    expect(cssImageUrls('url(img/x.png)', BASE, 1)).toEqual(['https://site.test/page/img/x.png']);
  });

  it('picks from image-set() like the browser: by resolution, skipping types it cannot show', () => {
    const set = 'image-set(url("https://s.test/1.png") 1x, url("https://s.test/2.png") 2x)';
    expect(cssImageUrls(set, BASE, 1)).toEqual(['https://s.test/1.png']);
    expect(cssImageUrls(set, BASE, 2)).toEqual(['https://s.test/2.png']);
    expect(cssImageUrls('-webkit-image-set(url("https://s.test/a.png") 1x, url("https://s.test/b.png") 192dpi)', BASE, 2)).toEqual(['https://s.test/b.png']);
    expect(cssImageUrls('image-set("https://s.test/q.jxl" type("image/jxl") 1x, "https://s.test/q.png" type("image/png") 1x)', BASE, 1)).toEqual([
      'https://s.test/q.png',
    ]);
    // A gradient layer over an image-set layer.
    expect(cssImageUrls(`linear-gradient(rgba(0, 0, 0, 0), rgba(0, 0, 0, 0)), ${set}`, BASE, 1)).toEqual(['https://s.test/1.png']);
  });

  it('reads url() items out of a content value', () => {
    expect(cssImageUrls('url("https://s.test/icon.png") " label"', BASE, 1)).toEqual(['https://s.test/icon.png']);
    expect(cssImageUrls('"just text"', BASE, 1)).toEqual([]);
    expect(cssImageUrls('normal', BASE, 1)).toEqual([]);
  });
});
