import { describe, expect, it, vi } from 'vitest';

vi.mock('webextension-polyfill', () => ({ default: {} }));
const { imageRequestFor, isSameSite } = await import('./image-request');

describe('which requests carry cookies', () => {
  it('judges same-site by scheme and host, ports aside, never across hosts', () => {
    expect(isSameSite('http://127.0.0.1:1/a', 'http://127.0.0.1:2/b')).toBe(true);
    expect(isSameSite('http://127.0.0.1:1/a', 'http://localhost:1/b')).toBe(false);
    expect(isSameSite('https://a.test/', 'http://a.test/')).toBe(false);
    expect(isSameSite('https://www.a.test/', 'https://cdn.a.test/')).toBe(false); // conservative: less than the page, never more
    expect(isSameSite('about:blank', 'about:blank')).toBe(false);
    expect(isSameSite(undefined, 'https://a.test/')).toBe(false);
  });

  it('sends cookies only for images of the page\'s own site, shown by a frame of that site, in a normal window', () => {
    const page = 'https://shop.test/item';
    expect(imageRequestFor('https://shop.test/a.png', { pageUrl: page, incognito: false })).toEqual({
      credentials: 'include',
      cache: 'force-cache',
      referrer: 'https://shop.test/item',
      frameMayHaveBytes: true,
    });
    // Cookies of the page's site, another origin (port): the bytes stay in the background.
    expect(imageRequestFor('https://shop.test:8443/a.svg', { pageUrl: page, incognito: false })).toMatchObject({ credentials: 'include', frameMayHaveBytes: false });
    expect(imageRequestFor('https://cdn.test/a.png', { pageUrl: page, incognito: false }).credentials).toBe('omit');
    // A cross-site frame on the page: its own request for a shop.test image would be cross-site.
    expect(imageRequestFor('https://shop.test/a.png', { pageUrl: page, frameUrl: 'https://ads.test/f', incognito: false }).credentials).toBe('omit');
    // A shop.test frame inside another site's page: cross-site to the top level.
    expect(imageRequestFor('https://shop.test/a.png', { pageUrl: 'https://evil.test/', frameUrl: 'https://shop.test/f', incognito: false }).credentials).toBe('omit');
    // No page at all (a stale menu click): no cookies.
    expect(imageRequestFor('https://shop.test/a.png', { incognito: false }).credentials).toBe('omit');
  });

  it('sends no cookies and keeps nothing in the HTTP cache in private windows', () => {
    expect(imageRequestFor('https://shop.test/a.png', { pageUrl: 'https://shop.test/', incognito: true })).toEqual({
      credentials: 'omit',
      cache: 'no-store',
      referrer: 'https://shop.test/',
      frameMayHaveBytes: true,
    });
  });

  it('takes the referrer from the frame showing the image under its policy; about:blank frames use the page', () => {
    const page = 'https://shop.test/item';
    expect(imageRequestFor('https://shop.test/a.png', { pageUrl: page, incognito: false, referrerPolicy: 'no-referrer' }).referrer).toBeNull();
    expect(imageRequestFor('https://cdn.test/a.png', { pageUrl: page, frameUrl: 'https://w.test/f?x', incognito: false }).referrer).toBe('https://w.test/');
    // Policies that would send more than the default cross-site send the default's origin there.
    expect(imageRequestFor('https://cdn.test/a.png', { pageUrl: page, incognito: false, referrerPolicy: 'unsafe-url' }).referrer).toBe('https://shop.test/');
    expect(imageRequestFor('http://cdn.test/a.png', { pageUrl: page, incognito: false, referrerPolicy: 'no-referrer-when-downgrade' }).referrer).toBeNull();
    expect(imageRequestFor('https://shop.test:8443/a.png', { pageUrl: page, incognito: false, referrerPolicy: 'unsafe-url' }).referrer).toBe('https://shop.test/item');
    expect(imageRequestFor('https://shop.test/a.png', { pageUrl: page, frameUrl: 'about:blank', incognito: false })).toMatchObject({
      credentials: 'include',
      referrer: 'https://shop.test/item',
    });
  });
});
