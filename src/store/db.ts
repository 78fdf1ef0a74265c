// IndexedDB storage of embeddings, so a revisited image costs no inference.
// Keys include the model id: embeddings of two models are never comparable.

import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { decodeEmbedding, encodeEmbedding } from '../engine/similarity';

export interface EmbeddingRecord {
  modelId: string;
  sha256: string;
  /**
   * L2-normalised embedding as IEEE half floats: half the space of float32, and the decoded
   * vector's cosine with the original is >= 0.99999997 (src/engine/similarity.test.ts).
   */
  vector: Uint16Array;
  lastUsed: number;
}

export interface UrlRecord {
  url: string;
  sha256: string;
  etag: string | null;
  lastModified: string | null;
  size: number;
  fetchedAt: number;
}

export interface QueryRecord {
  modelId: string;
  text: string;
  vector: Float32Array;
  lastUsed: number;
}

interface LensDB extends DBSchema {
  embeddings: { key: [string, string]; value: EmbeddingRecord; indexes: { lastUsed: number } };
  urls: { key: string; value: UrlRecord };
  queries: { key: [string, string]; value: QueryRecord; indexes: { lastUsed: number } };
}

const DB_NAME = 'mobileclip-lens';
const DB_VERSION = 1;
/** Query embeddings are cheap to recompute; keep only the recent ones. */
const MAX_QUERIES = 500;
/** URLs whose bytes were hashed less than this long ago are trusted without refetching. */
export const URL_FRESH_MS = 24 * 60 * 60 * 1000;

/** Strictly increasing use times, so LRU order is exact even for writes within one millisecond. */
let lastStamp = 0;
function useStamp(): number {
  lastStamp = Math.max(Date.now(), lastStamp + 1);
  return lastStamp;
}

let dbPromise: Promise<IDBPDatabase<LensDB>> | null = null;

function db(): Promise<IDBPDatabase<LensDB>> {
  dbPromise ??= openDB<LensDB>(DB_NAME, DB_VERSION, {
    upgrade(database, oldVersion) {
      // Versioned steps: each block upgrades from one version to the next.
      if (oldVersion < 1) {
        const embeddings = database.createObjectStore('embeddings', { keyPath: ['modelId', 'sha256'] });
        embeddings.createIndex('lastUsed', 'lastUsed');
        database.createObjectStore('urls', { keyPath: 'url' });
        const queries = database.createObjectStore('queries', { keyPath: ['modelId', 'text'] });
        queries.createIndex('lastUsed', 'lastUsed');
      }
    },
  });
  return dbPromise;
}

export async function getEmbedding(modelId: string, sha256: string): Promise<Float32Array | undefined> {
  const record = await (await db()).get('embeddings', [modelId, sha256]);
  return record ? decodeEmbedding(record.vector) : undefined;
}

export async function putEmbedding(modelId: string, sha256: string, vector: Float32Array): Promise<void> {
  await (await db()).put('embeddings', { modelId, sha256, vector: encodeEmbedding(vector), lastUsed: useStamp() });
}

export async function getUrl(url: string): Promise<UrlRecord | undefined> {
  return (await db()).get('urls', url);
}

export async function putUrl(record: UrlRecord): Promise<void> {
  await (await db()).put('urls', record);
}

export async function getQuery(modelId: string, text: string): Promise<Float32Array | undefined> {
  return (await (await db()).get('queries', [modelId, text]))?.vector;
}

export async function putQuery(modelId: string, text: string, vector: Float32Array): Promise<void> {
  await putQueries(modelId, [{ text, vector }]);
}

/** Stores many text embeddings in one transaction (a label set is hundreds of prompts), then trims the LRU once. */
export async function putQueries(modelId: string, items: { text: string; vector: Float32Array }[]): Promise<void> {
  if (items.length === 0) return;
  const tx = (await db()).transaction('queries', 'readwrite');
  for (const { text, vector } of items) void tx.store.put({ modelId, text, vector, lastUsed: useStamp() });
  let excess = (await tx.store.count()) - MAX_QUERIES;
  let cursor = excess > 0 ? await tx.store.index('lastUsed').openCursor() : null;
  for (; cursor && excess > 0; excess--) {
    await cursor.delete();
    cursor = await cursor.continue();
  }
  await tx.done;
}

export async function cacheStats(): Promise<{ embeddings: number; urls: number }> {
  const database = await db();
  return { embeddings: await database.count('embeddings'), urls: await database.count('urls') };
}

export async function clearCache(): Promise<void> {
  const database = await db();
  await Promise.all([database.clear('embeddings'), database.clear('urls'), database.clear('queries')]);
}
