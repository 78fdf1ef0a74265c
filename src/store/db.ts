// The first storage API, kept for the callers written against it (background indexer, search,
// main); each function now goes through the persistent LensStore (stores.ts), so writes are
// budgeted and their failures recorded in persistentStore().health. New code should call
// storeFor(incognito) and the LensStore methods directly.

import type { UrlRecord } from './schema';
import { persistentStore } from './stores';

export type { EmbeddingRecord, QueryRecord, UrlRecord } from './schema';

/** URLs whose bytes were hashed less than this long ago are trusted without refetching. */
export const URL_FRESH_MS = 24 * 60 * 60 * 1000;

export function getEmbedding(modelId: string, sha256: string): Promise<Float32Array | undefined> {
  return persistentStore().getEmbedding(modelId, sha256);
}

export function putEmbedding(modelId: string, sha256: string, vector: Float32Array): Promise<void> {
  return persistentStore().putEmbedding(modelId, sha256, vector);
}

export function getUrl(url: string): Promise<UrlRecord | undefined> {
  return persistentStore().getUrl(url);
}

export function putUrl(record: UrlRecord): Promise<void> {
  return persistentStore().putUrl(record);
}

export function getQuery(modelId: string, text: string): Promise<Float32Array | undefined> {
  return persistentStore().getQuery(modelId, text);
}

export function putQuery(modelId: string, text: string, vector: Float32Array): Promise<void> {
  return putQueries(modelId, [{ text, vector }]);
}

/** Stores many text embeddings in one transaction (a label set is hundreds of prompts), then trims the LRU once. */
export function putQueries(modelId: string, items: { text: string; vector: Float32Array }[]): Promise<void> {
  return persistentStore().putQueries(modelId, items);
}

/** The label-set store of label-vectors.ts: its own object store, out of reach of the query LRU. */
export const labelVectorStore = {
  load: (modelId: string, key: string): Promise<Float32Array | undefined> => persistentStore().getLabelVectors(modelId, key),
  save: (modelId: string, key: string, vectors: Float32Array): Promise<void> => persistentStore().putLabelVectors(modelId, key, vectors),
};

export async function cacheStats(): Promise<{ embeddings: number; urls: number }> {
  const { stores } = await persistentStore().usage();
  return { embeddings: stores.embeddings.count, urls: stores.urls.count };
}

/** Everything the memory holds, pages and thumbnails included. */
export function clearCache(): Promise<void> {
  return persistentStore().clearAll();
}
