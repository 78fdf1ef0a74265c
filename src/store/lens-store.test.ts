// The LensStore contract, run against both implementations.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { cosine } from '../engine/similarity';
import { estimateBytes } from './budget';
import { IdbStore } from './idb-store';
import { MAX_QUERIES, type LensStore, type StoreOptions } from './lens-store';
import { createMemoryStore } from './memory-store';
import { THUMBNAIL_MAX_BYTES } from './pages';
import { StorageError } from './storage-error';
import { freshDbName, image, page, sha, thumbnailBlob, unitVector } from './test-fixtures';

const DAY = 24 * 60 * 60 * 1000;
const implementations: [string, (o?: StoreOptions) => LensStore][] = [
  ['IdbStore', (o) => new IdbStore(freshDbName(), o)],
  ['MemoryStore', (o) => createMemoryStore(o)],
];

describe.each(implementations)('%s', (_, open) => {
  it('keeps embeddings per model and content hash within fp16 precision', async () => {
    const store = open();
    const v = unitVector(1);
    await store.putEmbedding('s0', sha(1), v);
    expect(cosine((await store.getEmbedding('s0', sha(1)))!, v)).toBeGreaterThan(0.9999999);
    expect(await store.getEmbedding('s1', sha(1))).toBeUndefined();
  });

  it('ignores URL records past the retention on read and prunes them', async () => {
    const store = open({ urlRetentionMs: 30 * DAY });
    const now = 100 * DAY;
    await store.putUrl({ url: 'https://a.test/old.png', sha256: sha(1), etag: '"1"', lastModified: null, size: 10, fetchedAt: now - 31 * DAY });
    await store.putUrl({ url: 'https://A.test/new.png', sha256: sha(2), etag: null, lastModified: 'Mon, 01 Jan 2024 00:00:00 GMT', size: 20, fetchedAt: now - DAY });
    expect(await store.getUrl('https://a.test/old.png', now)).toBeUndefined();
    expect(await store.getUrl('https://A.test/new.png', now)).toMatchObject({ sha256: sha(2), lastModified: 'Mon, 01 Jan 2024 00:00:00 GMT', size: 20, site: 'a.test' });
    expect(await store.pruneExpired(now)).toBe(1);
    expect((await store.usage()).stores.urls.count).toBe(1);
    expect(await store.pruneExpired(now + 60 * DAY, 90 * DAY)).toBe(0);
  });

  it('merges revisits of a page and shares one thumbnail between copies of a picture', async () => {
    const store = open();
    await store.putPage(page('https://a.test/1', [image(1, { thumbnail: thumbnailBlob() }), image(2)], 1000, 's0'));
    await store.putPage(page('https://a.test/1', [image(1, { src: 'https://other.test/1.jpg' }), image(3)], 2000, 's1'));
    await store.putPage(page('https://b.test/', [image(1, { thumbnail: thumbnailBlob() })], 1500));
    const p = (await store.getPage('https://a.test/1'))!;
    expect(p.visitedAt).toBe(2000);
    expect(p.modelIds).toEqual(['s0', 's1']);
    expect(p.images.map((i) => i.src)).toEqual(['https://cdn.test/1.jpg', 'https://cdn.test/2.jpg', 'https://other.test/1.jpg', 'https://cdn.test/3.jpg']);
    expect(p.hashes).toEqual([sha(1), sha(2), sha(3)]);
    expect((await store.usage()).stores.thumbnails.count).toBe(1);
    expect((await store.getThumbnail(sha(1)))?.size).toBe(500);
    expect((await store.recentPages(10)).map((x) => x.url)).toEqual(['https://a.test/1', 'https://b.test/']);
    expect((await store.recentPages(10, 2000)).map((x) => x.url)).toEqual(['https://b.test/']);
    expect((await store.pagesWithImage(sha(1))).map((x) => x.url).sort()).toEqual(['https://a.test/1', 'https://b.test/']);
  });

  it('rejects an oversized thumbnail with a recorded StorageError and writes nothing', async () => {
    const store = open();
    const write = store.putPage(page('https://a.test/', [image(1, { thumbnail: thumbnailBlob(THUMBNAIL_MAX_BYTES + 1) })]));
    await expect(write).rejects.toBeInstanceOf(StorageError);
    await expect(write).rejects.toMatchObject({ kind: 'other' });
    expect(store.health.snapshot().lastError?.message).toMatch(/thumbnail of 8193 bytes/);
    expect(await store.getPage('https://a.test/')).toBeUndefined();
  });

  it('forgets a site, keeping pictures that another site still shows', async () => {
    const store = open();
    await store.putPage(page('https://gone.test/a', [image(1, { thumbnail: thumbnailBlob() }), image(2, { thumbnail: thumbnailBlob() })]));
    await store.putPage(page('https://stays.test/', [image(2)]));
    for (const n of [1, 2]) await store.putEmbedding('m', sha(n), unitVector(n));
    await store.putUrl({ url: 'https://gone.test/1.jpg', sha256: sha(1), etag: null, lastModified: null, size: 1, fetchedAt: Date.now() });
    expect(await store.forgetSite('GONE.test')).toEqual({ pages: 1, urls: 1, embeddings: 1, thumbnails: 1 });
    expect(await store.getEmbedding('m', sha(1))).toBeUndefined();
    expect(await store.getEmbedding('m', sha(2))).toBeDefined();
    expect(await store.getThumbnail(sha(2))).toBeDefined();
    expect(await store.getPage('https://stays.test/')).toBeDefined();
  });

  it('forgets one page with its image addresses, keeping pictures another page shows', async () => {
    const store = open();
    await store.putPage(page('https://a.test/one', [image(1, { thumbnail: thumbnailBlob() }), image(2, { thumbnail: thumbnailBlob() })]));
    await store.putPage(page('https://a.test/two', [image(2)]));
    for (const n of [1, 2]) await store.putEmbedding('m', sha(n), unitVector(n));
    await store.putUrl({ url: 'https://cdn.test/1.jpg', sha256: sha(1), etag: null, lastModified: null, size: 1, fetchedAt: Date.now() });
    await store.putUrl({ url: 'https://cdn.test/9.jpg', sha256: sha(9), etag: null, lastModified: null, size: 1, fetchedAt: Date.now() });
    expect(await store.forgetPage('https://a.test/one')).toEqual({ pages: 1, urls: 1, embeddings: 1, thumbnails: 1 });
    expect(await store.getPage('https://a.test/one')).toBeUndefined();
    expect(await store.getPage('https://a.test/two')).toBeDefined();
    expect(await store.getEmbedding('m', sha(2))).toBeDefined();
    expect(await store.getThumbnail(sha(2))).toBeDefined();
    expect(await store.getUrl('https://cdn.test/9.jpg')).toBeDefined();
    expect(await store.forgetPage('https://a.test/never')).toEqual({ pages: 0, urls: 0, embeddings: 0, thumbnails: 0 });
  });

  it('accounts every record with its byte estimate, and clears per store or all', async () => {
    const store = open();
    for (let i = 0; i < 5; i++) await store.putEmbedding('m', sha(i), unitVector(i));
    await store.putEmbedding('m', sha(0), unitVector(9)); // a replacement counts once
    await store.putQueries('m', [{ text: 'a cat', vector: new Float32Array(512) }]);
    await store.putPage(page('https://a.test/', [image(1, { thumbnail: thumbnailBlob(700) })]));
    const { stores, totalBytes } = await store.usage();
    const embeddingBytes = estimateBytes.embeddings({ modelId: 'm', sha256: sha(0), vector: new Uint16Array(512), lastUsed: 0 });
    expect(stores.embeddings).toEqual({ count: 5, bytes: 5 * embeddingBytes });
    expect(stores.queries.count).toBe(1);
    expect(stores.thumbnails).toEqual({ count: 1, bytes: estimateBytes.thumbnails({ sha256: sha(1), blob: thumbnailBlob(700), lastUsed: 0 }) });
    expect(stores.pages.bytes).toBe(estimateBytes.pages((await store.getPage('https://a.test/'))!));
    expect(totalBytes).toBe(Object.values(stores).reduce((s, u) => s + u.bytes, 0));
    await store.clearStore('embeddings');
    expect((await store.usage()).stores.embeddings).toEqual({ count: 0, bytes: 0 });
    expect(await store.getEmbedding('m', sha(1))).toBeUndefined();
    expect((await store.usage()).stores.pages.count).toBe(1);
    await store.clearAll();
    expect((await store.usage()).totalBytes).toBe(0);
  });

  it('evicts least recently used records across stores down to 90 % of the budget, sparing the current write', async () => {
    const perEmbedding = estimateBytes.embeddings({ modelId: 'm', sha256: sha(0), vector: new Uint16Array(512), lastUsed: 0 });
    const budget = 10 * perEmbedding;
    const store = open({ budgetBytes: budget });
    await store.putPage(page('https://old.test/', [image(100)]));
    for (let i = 0; i < 9; i++) await store.putEmbedding('m', sha(i), unitVector(i));
    await store.getEmbedding('m', sha(0)); // a read counts as use: sha(0) is now the newest
    for (let i = 9; i < 12; i++) await store.putEmbedding('m', sha(i), unitVector(i));
    const { totalBytes } = await store.usage();
    expect(totalBytes).toBeLessThanOrEqual(budget);
    expect(await store.getPage('https://old.test/')).toBeUndefined(); // oldest of all, though in another store
    expect(await store.getEmbedding('m', sha(0))).toBeDefined();
    expect(await store.getEmbedding('m', sha(1))).toBeUndefined();
    expect(await store.getEmbedding('m', sha(11))).toBeDefined();
    // One record larger than the whole budget stays: it is what the caller just wrote.
    store.setBudget(100);
    await store.putEmbedding('m', sha(50), unitVector(50));
    expect(await store.getEmbedding('m', sha(50))).toBeDefined();
    expect((await store.usage()).stores.embeddings.count).toBe(1);
  });

  it('keeps label-set vectors apart from the query LRU: counted, never evicted by searches, cleared with the cache', async () => {
    const store = open();
    const vectors = Float32Array.from({ length: 3 * 512 }, (_, i) => Math.sin(i));
    await store.putLabelVectors('m', 'label-set:abc', vectors);
    const burst = Array.from({ length: MAX_QUERIES + 50 }, (_, i) => ({ text: `query ${i}`, vector: unitVector(i) }));
    await store.putQueries('m', burst);
    expect((await store.usage()).stores.queries.count).toBe(MAX_QUERIES);
    expect(await store.getLabelVectors('m', 'label-set:abc')).toEqual(vectors);
    expect(await store.getLabelVectors('other', 'label-set:abc')).toBeUndefined();
    expect((await store.usage()).stores.labels).toEqual({ count: 1, bytes: estimateBytes.labels({ modelId: 'm', key: 'label-set:abc', vectors, savedAt: 0 }) });
    // Over budget, eviction takes embeddings, thumbnails and pages; the set stays.
    store.setBudget(estimateBytes.labels({ modelId: 'm', key: 'label-set:abc', vectors, savedAt: 0 }) + 200_000);
    for (let i = 0; i < 30; i++) await store.putEmbedding('m', sha(i), unitVector(i));
    expect(await store.getLabelVectors('m', 'label-set:abc')).toEqual(vectors);
    await store.clearAll();
    expect(await store.getLabelVectors('m', 'label-set:abc')).toBeUndefined();
    expect((await store.usage()).stores.labels).toEqual({ count: 0, bytes: 0 });
  });

  it('hands out one model\'s embeddings in key-ordered chunks', async () => {
    const store = open();
    for (let i = 0; i < 5; i++) await store.putEmbedding('m', sha(i), unitVector(i, 8));
    await store.putEmbedding('other', sha(9), unitVector(9, 8));
    const chunks = [];
    for await (const c of store.embeddingChunks('m', 2)) chunks.push(c);
    expect(chunks.map((c) => c.sha256s.length)).toEqual([2, 2, 1]);
    expect(chunks.flatMap((c) => c.sha256s)).toEqual([0, 1, 2, 3, 4].map(sha));
    expect(chunks[1].dim).toBe(8);
    expect(chunks[1].rows.length).toBe(16);
  });
});
