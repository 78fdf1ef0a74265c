import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { cacheStats, clearCache, getEmbedding, getQuery, getUrl, putEmbedding, putQueries, putQuery, putUrl } from './db';
import { cosine, l2normalize } from '../engine/similarity';

const vector = (seed: number) => l2normalize(Float32Array.from({ length: 512 }, (_, i) => Math.sin(seed * 7.3 + i * 0.37)));

describe('embedding store', () => {
  it('keys embeddings by model and content hash, and returns them within fp16 precision', async () => {
    const v = vector(1);
    await putEmbedding('mobileclip-s0', 'abc', v);
    const back = await getEmbedding('mobileclip-s0', 'abc');
    expect(back).toBeInstanceOf(Float32Array);
    expect(cosine(back!, v)).toBeGreaterThan(0.9999999);
    // The same bytes under another model are a different embedding.
    expect(await getEmbedding('mobileclip-s1', 'abc')).toBeUndefined();
    expect(await getEmbedding('mobileclip-s0', 'abd')).toBeUndefined();
  });

  it('remembers URL validators and clears everything on request', async () => {
    await putUrl({ url: 'https://a.test/x.png', sha256: 'abc', etag: '"1"', lastModified: null, size: 10, fetchedAt: Date.now() });
    expect((await getUrl('https://a.test/x.png'))?.sha256).toBe('abc');
    expect(await cacheStats()).toEqual({ embeddings: 1, urls: 1 });
    await clearCache();
    expect(await cacheStats()).toEqual({ embeddings: 0, urls: 0 });
    expect(await getEmbedding('mobileclip-s0', 'abc')).toBeUndefined();
  });

  it('keeps only the most recently used query embeddings', async () => {
    for (let i = 0; i < 505; i++) await putQuery('m', `query ${i}`, vector(i));
    expect(await getQuery('m', 'query 0')).toBeUndefined();
    expect(await getQuery('m', 'query 4')).toBeUndefined();
    expect(await getQuery('m', 'query 5')).toBeDefined();
    expect(await getQuery('m', 'query 504')).toBeDefined();
  });

  it('stores a batch in one go and trims the LRU to its limit', async () => {
    await putQueries('batch', Array.from({ length: 600 }, (_, i) => ({ text: `prompt ${i}`, vector: vector(i) })));
    expect(await getQuery('batch', 'prompt 99')).toBeUndefined();
    expect(await getQuery('batch', 'prompt 100')).toBeDefined();
    expect(await getQuery('batch', 'prompt 599')).toBeDefined();
  });
});
