import { describe, expect, it } from 'vitest';
import { MAX_IMAGES_PER_MESSAGE, REPORT_PART_IMAGES } from './messages';
import { isImageUrl, parseBackgroundPortMessage, parseContentMessage, parsePageCommand, parsePopupPortMessage, parseRequestMessage, parseResponse } from './message-validators';

const image = { url: 'https://example.com/a.jpg', kind: 'img', width: 100, height: 80, top: 10, visible: true, alt: 'a cat' };

describe('message validators', () => {
  it('accepts well-formed content reports and rejects malformed ones', () => {
    expect(parseContentMessage({ type: 'images-found', pageUrl: 'https://example.com/', images: [image], hidden: 2 })).not.toBeNull();
    expect(parseContentMessage({ type: 'images-found', pageUrl: 'https://example.com/', images: [{ ...image, url: 'javascript:alert(1)' }], hidden: 0 })).toBeNull();
    expect(parseContentMessage({ type: 'images-found', pageUrl: 'https://example.com/', images: [{ ...image, kind: 'script' }], hidden: 0 })).toBeNull();
    expect(parseContentMessage({ type: 'images-found', pageUrl: 'https://example.com/', images: [{ ...image, width: Infinity }], hidden: 0 })).toBeNull();
    expect(parseContentMessage({ type: 'images-found', pageUrl: 'https://example.com/', images: 'nope', hidden: 0 })).toBeNull();
    // A report in parts: part `index` of `count`, each within the part size, never more parts than a whole report needs.
    const found = (part: unknown, images = [image]) => parseContentMessage({ type: 'images-found', pageUrl: 'https://example.com/', images, hidden: 0, part });
    expect(found({ scan: 7, index: 1, count: 3 })).not.toBeNull();
    expect(found({ scan: 7, index: 3, count: 3 })).toBeNull();
    expect(found({ scan: -1, index: 0, count: 3 })).toBeNull();
    expect(found({ scan: 7, index: 0, count: Math.ceil(MAX_IMAGES_PER_MESSAGE / REPORT_PART_IMAGES) + 1 })).toBeNull();
    expect(found({ scan: 7, index: 0, count: 2 }, new Array(REPORT_PART_IMAGES + 1).fill(image))).toBeNull();
    expect(found('part')).toBeNull();
    expect(parseContentMessage({ type: 'images-found', pageUrl: 'x', images: new Array(MAX_IMAGES_PER_MESSAGE).fill(image), hidden: 0 })).not.toBeNull();
    expect(parseContentMessage({ type: 'images-found', pageUrl: 'x', images: new Array(MAX_IMAGES_PER_MESSAGE + 1).fill(image), hidden: 0 })).toBeNull();
    expect(parseContentMessage({ type: 'search', tabId: 1, query: 'x' })).toBeNull();
    expect(parseContentMessage(null)).toBeNull();
  });

  it('takes a referrer policy token per image and a count of images left out, nothing else', () => {
    const report = (extra: object, imageExtra: object = {}) => parseContentMessage({ type: 'images-found', pageUrl: 'x', images: [{ ...image, ...imageExtra }], hidden: 0, ...extra });
    expect(report({}, { referrerPolicy: 'no-referrer' })).not.toBeNull();
    expect(report({}, { referrerPolicy: 'strict-origin-when-cross-origin' })).not.toBeNull();
    expect(report({}, { referrerPolicy: 'never' })).toBeNull(); // legacy keywords are mapped in the page, not here
    expect(report({}, { referrerPolicy: '' })).toBeNull();
    expect(report({}, { referrerPolicy: 3 })).toBeNull();
    expect(report({ omitted: 5 })).not.toBeNull();
    expect(report({ omitted: -1 })).toBeNull();
    expect(report({ omitted: 1.5 })).toBeNull();
    expect(report({ omitted: '5' })).toBeNull();
  });

  it('accepts only image URLs of safe schemes', () => {
    expect(isImageUrl('https://a.b/c.png')).toBe(true);
    expect(isImageUrl('data:image/png;base64,AAAA')).toBe(true);
    expect(isImageUrl('blob:https://a.b/123')).toBe(true);
    expect(isImageUrl('data:text/html,<script>')).toBe(false);
    expect(isImageUrl('file:///etc/passwd')).toBe(false);
    expect(isImageUrl('')).toBe(false);
    expect(isImageUrl('https://a.b/' + 'x'.repeat(20_000))).toBe(false);
  });

  it('validates popup requests', () => {
    expect(parseRequestMessage({ type: 'search', tabId: 3, query: 'red sneakers' })).toEqual({ type: 'search', tabId: 3, query: 'red sneakers' });
    expect(parseRequestMessage({ type: 'search', tabId: -1, query: 'x' })).toBeNull();
    expect(parseRequestMessage({ type: 'similar', tabId: 3, url: 'https://a.b/c.png' })).toEqual({ type: 'similar', tabId: 3, url: 'https://a.b/c.png' });
    expect(parseRequestMessage({ type: 'similar', tabId: 3, url: 'https://a.b/c.png', frameId: 2 })).not.toBeNull();
    expect(parseRequestMessage({ type: 'similar', tabId: 3, url: 'file:///etc/passwd' })).toBeNull();
    expect(parseRequestMessage({ type: 'similar', tabId: 3, url: 'https://a.b/c.png', frameId: 'x' })).toBeNull();
    expect(parseRequestMessage({ type: 'search', tabId: 1.5, query: 'x' })).toBeNull();
    expect(parseRequestMessage({ type: 'search', tabId: 1, query: 'x'.repeat(501) })).toBeNull();
    expect(parseRequestMessage({ type: 'classify', tabId: null, url: 'https://a.b/c.png' })).not.toBeNull();
    expect(parseRequestMessage({ type: 'classify', tabId: 1, url: 'https://a.b/c.png', labels: [] })).toBeNull();
    expect(parseRequestMessage({ type: 'classify', tabId: 1, url: 'https://a.b/c.png', labels: ['cat', 7] })).toBeNull();
    // Extra fields of parameterless messages are dropped, not passed on.
    expect(parseRequestMessage({ type: 'clear-cache', evil: true })).toEqual({ type: 'clear-cache' });
    expect(parseRequestMessage({ type: 'unknown' })).toBeNull();
  });

  it('validates page commands and port messages', () => {
    expect(parsePageCommand({ type: 'highlight', results: [{ url: 'https://a.b/c.png', rank: 1, score: 0.3, relevance: 0.5 }] })).not.toBeNull();
    expect(parsePageCommand({ type: 'highlight', results: [{ url: 'https://a.b/c.png', rank: 1, score: 0.3, relevance: 2 }] })).toBeNull();
    expect(parsePageCommand({ type: 'highlight', results: [{ url: 'https://a.b/c.png', rank: '1', score: 0.3, relevance: 0.5 }] })).toBeNull();
    expect(parsePageCommand({ type: 'show-classification', url: 'https://a.b/c.png', labels: [{ label: 'cat', probability: 0.9 }] })).not.toBeNull();
    expect(parsePageCommand({ type: 'show-classification', url: 'https://a.b/c.png', labels: [{ label: 'cat' }] })).toBeNull();
    expect(parsePopupPortMessage({ type: 'subscribe', tabId: 4 })).toEqual({ type: 'subscribe', tabId: 4 });
    expect(parsePopupPortMessage({ type: 'subscribe', tabId: '4' })).toBeNull();
  });

  it('validates the view: embedding stats and typed failure reasons', () => {
    const view = {
      tabId: 3,
      stats: { embedded: 2, fromCache: 5 },
      errors: [{ url: 'https://a.b/c.png', reason: 'fetch', error: 'HTTP 403' }],
      similarTo: null,
      omitted: 0,
      unavailable: null,
      results: [],
      storage: { persistent: true, error: null, errors: 0 },
      memory: { scope: 'page', historyEnabled: false, loading: false, indexed: 0, otherModelPages: 0, error: null, reembed: null },
    };
    expect(parseBackgroundPortMessage({ type: 'view', view })).not.toBeNull();
    expect(parseBackgroundPortMessage({ type: 'view', view: { ...view, similarTo: 'https://a.b/c.png' } })).not.toBeNull();
    expect(parseBackgroundPortMessage({ type: 'view', view: { ...view, similarTo: 'javascript:alert(1)' } })).toBeNull();
    expect(parseBackgroundPortMessage({ type: 'view', view: { ...view, stats: { embedded: 2 } } })).toBeNull();
    expect(parseBackgroundPortMessage({ type: 'view', view: { ...view, errors: [{ ...view.errors[0], reason: 'gremlins' }] } })).toBeNull();
    expect(parseBackgroundPortMessage({ type: 'view', view: { ...view, errors: [{ ...view.errors[0], reason: 'timeout' }] } })).not.toBeNull();
    expect(parseBackgroundPortMessage({ type: 'view', view: { ...view, omitted: -1 } })).toBeNull();
    expect(parseBackgroundPortMessage({ type: 'view', view: { ...view, omitted: undefined } })).toBeNull();
    expect(parseBackgroundPortMessage({ type: 'view', view: { ...view, unavailable: 'pdf' } })).not.toBeNull();
    expect(parseBackgroundPortMessage({ type: 'view', view: { ...view, unavailable: 'Browser pages cannot be searched.' } })).toBeNull();
  });

  it('validates the visual memory parts of the view: scope, storage health, results of other pages', () => {
    const base = {
      tabId: 3,
      stats: { embedded: 0, fromCache: 0 },
      errors: [],
      similarTo: null,
      omitted: 0,
      unavailable: null,
      storage: { persistent: false, error: { kind: 'quota', message: 'storage is full', at: 1 }, errors: 1 },
      memory: { scope: 'all', historyEnabled: true, loading: true, indexed: 10, otherModelPages: 2, error: null, reembed: null },
    };
    const other = { url: 'https://a.b/c.png', score: 0.3, rank: 1, alt: '', width: 1, height: 1, match: true, pageUrl: 'https://a.b/', pageTitle: 'A', favicon: null };
    expect(parseBackgroundPortMessage({ type: 'view', view: { ...base, results: [other] } })).not.toBeNull();
    expect(parseBackgroundPortMessage({ type: 'view', view: { ...base, results: [{ ...other, pageUrl: 'javascript:alert(1)' }] } })).toBeNull();
    expect(parseBackgroundPortMessage({ type: 'view', view: { ...base, results: [{ ...other, favicon: 'javascript:x' }] } })).toBeNull();
    expect(parseBackgroundPortMessage({ type: 'view', view: { ...base, results: [], memory: { ...base.memory, scope: 'galaxy' } } })).toBeNull();
    expect(parseBackgroundPortMessage({ type: 'view', view: { ...base, results: [], storage: { persistent: 'yes', error: null, errors: 0 } } })).toBeNull();
    const reembed = { modelId: 'm', state: 'paused', pagesDone: 12, pagesTotal: 40, imagesEmbedded: 30, unreachable: 3, error: null };
    expect(parseBackgroundPortMessage({ type: 'view', view: { ...base, results: [], memory: { ...base.memory, reembed } } })).not.toBeNull();
    expect(parseBackgroundPortMessage({ type: 'view', view: { ...base, results: [], memory: { ...base.memory, reembed: { ...reembed, state: 'sleeping' } } } })).toBeNull();
    expect(parseBackgroundPortMessage({ type: 'view', view: { ...base, results: [], memory: { ...base.memory, reembed: { ...reembed, pagesDone: '12' } } } })).toBeNull();
    expect(parseBackgroundPortMessage({ type: 'view', view: { ...base, results: [], memory: { ...base.memory, reembed: undefined } } })).toBeNull();
  });

  it('validates the visual memory requests', () => {
    expect(parseRequestMessage({ type: 'search', tabId: 3, query: 'x', scope: 'all' })).not.toBeNull();
    expect(parseRequestMessage({ type: 'search', tabId: 3, query: 'x', scope: 'web' })).toBeNull();
    expect(parseRequestMessage({ type: 'similar', tabId: 3, url: 'https://a.b/c.png', scope: 'tabs' })).not.toBeNull();
    expect(parseRequestMessage({ type: 'open-result', pageUrl: 'https://a.b/', url: 'https://a.b/c.png', extra: 1 })).toEqual({ type: 'open-result', pageUrl: 'https://a.b/', url: 'https://a.b/c.png' });
    expect(parseRequestMessage({ type: 'open-result', pageUrl: 'chrome://settings', url: 'https://a.b/c.png' })).toBeNull();
    expect(parseRequestMessage({ type: 'forget', what: 'site', pageUrl: 'https://a.b/x' })).not.toBeNull();
    expect(parseRequestMessage({ type: 'forget', what: 'everything', pageUrl: 'https://a.b/x' })).toBeNull();
    expect(parseRequestMessage({ type: 'memory-clear', store: 'pages', private: false })).not.toBeNull();
    expect(parseRequestMessage({ type: 'memory-clear', store: 'meta', private: false })).toBeNull();
    expect(parseRequestMessage({ type: 'memory-import', text: 7 })).toBeNull();
    expect(parseRequestMessage({ type: 'memory-clear', store: 'labels', private: false })).not.toBeNull();
    expect(parseRequestMessage({ type: 'reembed', action: 'start', extra: 1 })).toEqual({ type: 'reembed', action: 'start' });
    expect(parseRequestMessage({ type: 'reembed', action: 'cancel' })).not.toBeNull();
    expect(parseRequestMessage({ type: 'reembed', action: 'restart' })).toBeNull();
    expect(parseRequestMessage({ type: 'memory-export', x: 1 })).toEqual({ type: 'memory-export' });
  });

  it('checks the envelope of the background\'s answers', () => {
    expect(parseResponse({ ok: true, dataUrl: 'data:image/jpeg;base64,AA' })).toMatchObject({ ok: true });
    expect(parseResponse({ ok: false, error: 'no model' })).toEqual({ ok: false, error: 'no model' });
    expect(parseResponse({ ok: false })).toBeNull();
    expect(parseResponse(undefined)).toBeNull();
  });

  it('model requests: ids shaped like the registry ones, a boolean consent, nothing extra', () => {
    expect(parseRequestMessage({ type: 'model-use', id: 'mobileclip-s0', download: true, extra: 1 })).toEqual({ type: 'model-use', id: 'mobileclip-s0', download: true });
    expect(parseRequestMessage({ type: 'model-use', id: 'mobileclip-s0', download: 'yes' })).toBeNull();
    expect(parseRequestMessage({ type: 'model-use', id: '../x', download: true })).toBeNull();
    expect(parseRequestMessage({ type: 'model-download', id: 'fixture-download' })).toEqual({ type: 'model-download', id: 'fixture-download' });
    expect(parseRequestMessage({ type: 'model-delete', id: 'x'.repeat(101) })).toBeNull();
    expect(parseRequestMessage({ type: 'model-delete' })).toBeNull();
    expect(parseRequestMessage({ type: 'model-cancel', id: 'x' })).toEqual({ type: 'model-cancel' });
    expect(parseRequestMessage({ type: 'model-inventory' })).toEqual({ type: 'model-inventory' });
  });
});
