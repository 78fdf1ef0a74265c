// Private tabs get the memory store, which never opens IndexedDB.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { dropPrivateStore, storeFor } from './stores';
import { image, page, sha, thumbnailBlob, unitVector } from './test-fixtures';

describe('storeFor', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    dropPrivateStore();
  });

  it('serves private tabs from memory without touching IndexedDB', async () => {
    const touched: string[] = [];
    const trap = new Proxy({}, { get: (_, key) => (touched.push(String(key)), undefined) });
    vi.stubGlobal('indexedDB', trap);
    vi.stubGlobal('IDBKeyRange', trap);
    const store = storeFor(true);
    expect(store.persistent).toBe(false);
    expect(storeFor(true)).toBe(store);
    await store.putEmbedding('m', sha(1), unitVector(1));
    await store.putUrl({ url: 'https://a.test/1.jpg', sha256: sha(1), etag: null, lastModified: null, size: 1, fetchedAt: Date.now() });
    await store.putPage(page('https://a.test/', [image(1, { thumbnail: thumbnailBlob() })]));
    await store.putQueries('m', [{ text: 'cat', vector: unitVector(2) }]);
    for await (const chunk of store.embeddingChunks('m')) expect(chunk.sha256s).toEqual([sha(1)]);
    await store.forgetSite('a.test');
    await store.pruneExpired();
    expect((await store.usage()).stores.queries.count).toBe(1);
    expect(touched).toEqual([]);
  });

  it('starts empty again after the private session is dropped', async () => {
    await storeFor(true).putEmbedding('m', sha(1), unitVector(1));
    dropPrivateStore();
    expect(await storeFor(true).getEmbedding('m', sha(1))).toBeUndefined();
    expect(storeFor(false).persistent).toBe(true);
  });
});
