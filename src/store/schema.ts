// The IndexedDB schema of the visual memory: record shapes, store names and version.
//
// Version history (each step lives in migrations.ts, tested in migrations.test.ts):
//   1  embeddings [modelId, sha256], urls (url), queries [modelId, text]
//   2  + pages (url), thumbnails (sha256), meta (per-store counts and bytes);
//      urls gain `site` and indexes by site and fetchedAt; embeddings gain an index by sha256.
//   3  + labels [modelId, key]: label-set vectors, moved out of the query LRU (a burst of
//      searches must not evict a set that took thousands of prompts to embed).

import type { DBSchema } from 'idb';

export const DB_NAME = 'mobileclip-lens';
export const DB_VERSION = 3;

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

/** What one fetch of an image address returned: the content hash and the HTTP validators for the next conditional request. */
export interface UrlRecord {
  url: string;
  sha256: string;
  etag: string | null;
  lastModified: string | null;
  size: number;
  fetchedAt: number;
}

/** A UrlRecord as stored from version 2 on: `site` feeds "forget this site". */
export interface StoredUrlRecord extends UrlRecord {
  site: string;
}

export interface QueryRecord {
  modelId: string;
  text: string;
  vector: Float32Array;
  lastUsed: number;
}

/** One label set's vectors for one model (labels x dimensions, concatenated), keyed by the set's content. */
export interface LabelVectorsRecord {
  modelId: string;
  key: string;
  vectors: Float32Array;
  savedAt: number;
}

/** One picture as it appeared on a page; its pixels are named by `sha256` (embeddings, thumbnails). */
export interface PageImage {
  sha256: string;
  /** The address the page loaded it from. */
  src: string;
  alt: string;
  /** Rendered size in CSS pixels when it was seen. */
  width: number;
  height: number;
}

export interface PageRecord {
  url: string;
  /** Lower-case hostname of `url`. */
  site: string;
  title: string;
  /** Favicon address or a small data: URL; null when the page had none. */
  favicon: string | null;
  visitedAt: number;
  /** Models whose embeddings exist for this page's images. */
  modelIds: string[];
  images: PageImage[];
  /** The distinct `images[].sha256`, for the multi-entry index that finds pages by picture. */
  hashes: string[];
  lastUsed: number;
}

/** A small preview (WebP/JPEG, at most THUMBNAIL_MAX_BYTES), shared by every copy of the same picture. */
export interface ThumbnailRecord {
  sha256: string;
  blob: Blob;
  lastUsed: number;
}

export type StoreName = 'embeddings' | 'urls' | 'queries' | 'pages' | 'thumbnails' | 'labels';
export const STORE_NAMES: readonly StoreName[] = ['embeddings', 'urls', 'queries', 'pages', 'thumbnails', 'labels'];
/** Stores whose records the size budget may evict, least recently used first. */
export type EvictableStore = 'embeddings' | 'thumbnails' | 'pages';
export const EVICTABLE: readonly EvictableStore[] = ['embeddings', 'thumbnails', 'pages'];

/** Running totals per store, kept in the same transaction as every write (see budget.ts for the byte estimates). */
export interface MetaRecord {
  store: StoreName;
  count: number;
  bytes: number;
}

export interface LensDB extends DBSchema {
  embeddings: {
    key: [string, string];
    value: EmbeddingRecord;
    indexes: { lastUsed: number; sha256: string };
  };
  urls: { key: string; value: StoredUrlRecord; indexes: { site: string; fetchedAt: number } };
  queries: { key: [string, string]; value: QueryRecord; indexes: { lastUsed: number } };
  pages: {
    key: string;
    value: PageRecord;
    indexes: { visitedAt: number; site: string; lastUsed: number; sha256: string };
  };
  thumbnails: { key: string; value: ThumbnailRecord; indexes: { lastUsed: number } };
  labels: { key: [string, string]; value: LabelVectorsRecord };
  meta: { key: StoreName; value: MetaRecord };
}
