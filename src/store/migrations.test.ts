// Upgrading a database written by the version-1 code keeps every record and fills in what v2 adds.
import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { describe, expect, it } from 'vitest';
import { cosine, encodeEmbedding } from '../engine/similarity';
import { estimateBytes } from './budget';
import { IdbStore } from './idb-store';
import { DB_VERSION } from './schema';
import { freshDbName, sha, unitVector } from './test-fixtures';

/** Exactly what src/store/db.ts did at version 1 (frozen copy: it must not follow later changes). */
async function createV1(name: string): Promise<void> {
  const db = await openDB(name, 1, {
    upgrade(database, oldVersion) {
      if (oldVersion < 1) {
        const embeddings = database.createObjectStore('embeddings', { keyPath: ['modelId', 'sha256'] });
        embeddings.createIndex('lastUsed', 'lastUsed');
        database.createObjectStore('urls', { keyPath: 'url' });
        const queries = database.createObjectStore('queries', { keyPath: ['modelId', 'text'] });
        queries.createIndex('lastUsed', 'lastUsed');
      }
    },
  });
  for (let i = 0; i < 3; i++) await db.put('embeddings', { modelId: 's0', sha256: sha(i), vector: encodeEmbedding(unitVector(i)), lastUsed: 10 + i });
  await db.put('embeddings', { modelId: 's2', sha256: sha(0), vector: encodeEmbedding(unitVector(7)), lastUsed: 20 });
  await db.put('urls', { url: 'https://Pics.test/a.jpg', sha256: sha(0), etag: '"e1"', lastModified: null, size: 123, fetchedAt: Date.now() });
  await db.put('urls', { url: 'data:image/png;base64,AAAA', sha256: sha(1), etag: null, lastModified: 'yesterday', size: 3, fetchedAt: Date.now() });
  await db.put('queries', { modelId: 's0', text: 'a dog', vector: unitVector(3), lastUsed: 5 });
  db.close();
}

describe('migration v1 -> current', () => {
  it('keeps embeddings, URL validators and queries, and counts them', async () => {
    const name = freshDbName();
    await createV1(name);
    const store = new IdbStore(name);
    for (let i = 0; i < 3; i++) expect(cosine((await store.getEmbedding('s0', sha(i)))!, unitVector(i))).toBeGreaterThan(0.9999999);
    expect(cosine((await store.getEmbedding('s2', sha(0)))!, unitVector(7))).toBeGreaterThan(0.9999999);
    expect(await store.getUrl('https://Pics.test/a.jpg')).toMatchObject({ sha256: sha(0), etag: '"e1"', size: 123, site: 'pics.test' });
    expect(await store.getUrl('data:image/png;base64,AAAA')).toMatchObject({ lastModified: 'yesterday', site: '' });
    expect(await store.getQuery('s0', 'a dog')).toEqual(unitVector(3));

    const { stores } = await store.usage();
    const perEmbedding = estimateBytes.embeddings({ modelId: 's0', sha256: sha(0), vector: new Uint16Array(512), lastUsed: 0 });
    expect(stores.embeddings).toEqual({ count: 4, bytes: 4 * perEmbedding });
    expect(stores.urls.count).toBe(2);
    expect(stores.queries.count).toBe(1);
    expect(stores.pages).toEqual({ count: 0, bytes: 0 });
    store.close();

    const raw = await openDB(name);
    expect(raw.version).toBe(DB_VERSION);
    expect([...raw.objectStoreNames].sort()).toEqual(['embeddings', 'labels', 'meta', 'pages', 'queries', 'thumbnails', 'urls']);
    raw.close();
  });

  it('gives migrated records the indexes new features need', async () => {
    const name = freshDbName();
    await createV1(name);
    const store = new IdbStore(name);
    // forgetSite walks the urls `site` index that v2 fills in for old records.
    expect((await store.forgetSite('pics.test')).urls).toBe(1);
    expect(await store.getUrl('https://Pics.test/a.jpg')).toBeUndefined();
    // The v1 lastUsed values (10..20) are older than anything written now: they are evicted first.
    store.setBudget(5 * estimateBytes.embeddings({ modelId: 's0', sha256: sha(0), vector: new Uint16Array(512), lastUsed: 0 }));
    for (let i = 10; i < 13; i++) await store.putEmbedding('s0', sha(i), unitVector(i));
    expect(await store.getEmbedding('s0', sha(1))).toBeUndefined();
    expect(await store.getEmbedding('s0', sha(12))).toBeDefined();
  });

  it('opens a new database straight at the current version', async () => {
    const store = new IdbStore(freshDbName());
    expect((await store.usage()).totalBytes).toBe(0);
    await store.putEmbedding('m', sha(1), unitVector(1));
    expect((await store.usage()).stores.embeddings.count).toBe(1);
  });
});

/** What version 2 held (frozen copy of its stores and indexes), with label-set vectors saved as queries as label-vectors.ts did. */
async function createV2(name: string, labelVectors: Float32Array): Promise<void> {
  const db = await openDB(name, 2, {
    upgrade(database) {
      const embeddings = database.createObjectStore('embeddings', { keyPath: ['modelId', 'sha256'] });
      embeddings.createIndex('lastUsed', 'lastUsed');
      embeddings.createIndex('sha256', 'sha256');
      const urls = database.createObjectStore('urls', { keyPath: 'url' });
      urls.createIndex('site', 'site');
      urls.createIndex('fetchedAt', 'fetchedAt');
      database.createObjectStore('queries', { keyPath: ['modelId', 'text'] }).createIndex('lastUsed', 'lastUsed');
      const pages = database.createObjectStore('pages', { keyPath: 'url' });
      pages.createIndex('visitedAt', 'visitedAt');
      pages.createIndex('site', 'site');
      pages.createIndex('lastUsed', 'lastUsed');
      pages.createIndex('sha256', 'hashes', { multiEntry: true });
      database.createObjectStore('thumbnails', { keyPath: 'sha256' }).createIndex('lastUsed', 'lastUsed');
      database.createObjectStore('meta', { keyPath: 'store' });
    },
  });
  const queries = [
    { modelId: 's0', text: 'a dog', vector: unitVector(3), lastUsed: 5 },
    { modelId: 's0', text: 'label-set:0123', vector: labelVectors, lastUsed: 6 },
    { modelId: 's2', text: 'label-set:0123', vector: labelVectors, lastUsed: 7 },
  ];
  for (const q of queries) await db.put('queries', q);
  await db.put('embeddings', { modelId: 's0', sha256: sha(1), vector: encodeEmbedding(unitVector(1)), lastUsed: 10 });
  const queryBytes = queries.reduce((sum, q) => sum + estimateBytes.queries(q), 0);
  await db.put('meta', { store: 'queries', count: 3, bytes: queryBytes });
  await db.put('meta', { store: 'embeddings', count: 1, bytes: estimateBytes.embeddings({ modelId: 's0', sha256: sha(1), vector: new Uint16Array(512), lastUsed: 0 }) });
  db.close();
}

describe('migration v2 -> v3', () => {
  it('moves label-set vectors out of the query LRU into their own store, with the totals', async () => {
    const name = freshDbName();
    const labelVectors = Float32Array.from({ length: 4 * 512 }, (_, i) => Math.cos(i));
    await createV2(name, labelVectors);
    const store = new IdbStore(name);
    expect(await store.getLabelVectors('s0', 'label-set:0123')).toEqual(labelVectors);
    expect(await store.getLabelVectors('s2', 'label-set:0123')).toEqual(labelVectors);
    expect(await store.getQuery('s0', 'label-set:0123')).toBeUndefined();
    expect(await store.getQuery('s0', 'a dog')).toEqual(unitVector(3));
    expect(cosine((await store.getEmbedding('s0', sha(1)))!, unitVector(1))).toBeGreaterThan(0.9999999);
    const { stores } = await store.usage();
    expect(stores.queries).toEqual({ count: 1, bytes: estimateBytes.queries({ modelId: 's0', text: 'a dog', vector: unitVector(3), lastUsed: 0 }) });
    const perSet = estimateBytes.labels({ modelId: 's0', key: 'label-set:0123', vectors: labelVectors, savedAt: 0 });
    expect(stores.labels).toEqual({ count: 2, bytes: 2 * perSet });
    expect(stores.embeddings.count).toBe(1);
    store.close();
    const raw = await openDB(name);
    expect(raw.version).toBe(3);
    raw.close();
  });
});
