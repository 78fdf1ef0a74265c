// The visual memory's storage API, one interface with two implementations:
//   IdbStore     (idb-store.ts)     IndexedDB, persistent, bounded by a byte budget
//   MemoryStore  (memory-store.ts)  Maps only, for private (incognito) tabs: nothing outlives the session
// Pick per tab with storeFor(tab.incognito) (stores.ts); every method behaves the same on both.
//
// Writes throw StorageError (kind 'quota' | 'unavailable' | 'other'); the last failure is also
// kept in `store.health` for the popup and options page. A write that hits the budget evicts
// the least recently used embeddings, thumbnails and pages (never what that write stored)
// down to 90 % of the budget; a write that hits the browser's quota does the same and is
// retried once before it fails.

import { DEFAULT_BUDGET_BYTES, type Usage } from './budget';
import type { PageInput } from './pages';
import type { PageRecord, StoreName, StoredUrlRecord, UrlRecord } from './schema';
import type { StorageHealth } from './storage-error';

export const DEFAULT_URL_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;
/** Query embeddings are cheap to recompute; keep only the recent ones. */
export const MAX_QUERIES = 500;

export interface StoreOptions {
  /** Byte budget for everything the store holds (default DEFAULT_BUDGET_BYTES, 500 MB). */
  budgetBytes?: number;
  /** URL records older than this are ignored on read and dropped by pruneExpired (default 30 days). */
  urlRetentionMs?: number;
}

/** A run of one model's stored embeddings, as VectorIndex.addRows takes them. */
export interface EmbeddingChunk {
  sha256s: string[];
  /** fp16 bits, row after row, `dim` per row. */
  rows: Uint16Array;
  dim: number;
}

export interface ForgetReport {
  pages: number;
  urls: number;
  embeddings: number;
  thumbnails: number;
}

/** Everything export/import moves, already validated (export.ts does the file format). */
export interface MemoryRecords {
  embeddings: { modelId: string; sha256: string; vector: Uint16Array }[];
  pages: PageRecord[];
  thumbnails: { sha256: string; blob: Blob }[];
}

export interface ImportCounts {
  embeddings: { added: number; skipped: number };
  pages: { added: number; skipped: number };
  thumbnails: { added: number; skipped: number };
}

export interface LensStore {
  /** false for the in-memory store of private windows. */
  readonly persistent: boolean;
  readonly health: StorageHealth;
  setBudget(bytes: number): void;
  setUrlRetention(ms: number): void;

  getEmbedding(modelId: string, sha256: string): Promise<Float32Array | undefined>;
  /** Stores an L2-normalised embedding (as fp16). */
  putEmbedding(modelId: string, sha256: string, vector: Float32Array): Promise<void>;
  /** Marks search results as used, so eviction keeps what people find. */
  touchEmbeddings(modelId: string, sha256s: readonly string[]): Promise<void>;
  /** The model's embeddings in key order, chunk by chunk, each chunk its own short transaction. */
  embeddingChunks(modelId: string, chunkSize?: number): AsyncIterable<EmbeddingChunk>;

  /** undefined when unknown or fetched longer ago than the URL retention. */
  getUrl(url: string, now?: number): Promise<StoredUrlRecord | undefined>;
  putUrl(record: UrlRecord): Promise<void>;
  /** Drops URL records fetched before now - retentionMs; returns how many. */
  pruneExpired(now?: number, retentionMs?: number): Promise<number>;

  getQuery(modelId: string, text: string): Promise<Float32Array | undefined>;
  /** Many text embeddings at once, then the query LRU is trimmed to MAX_QUERIES. */
  putQueries(modelId: string, items: readonly { text: string; vector: Float32Array }[]): Promise<void>;

  /** A label set's vectors (labels x dimensions, concatenated), stored apart from the query LRU. */
  getLabelVectors(modelId: string, key: string): Promise<Float32Array | undefined>;
  /** Counted in the budget but never evicted by it: they are few, and costly to recompute. */
  putLabelVectors(modelId: string, key: string, vectors: Float32Array): Promise<void>;

  /** Records a visit (merged into an earlier one of the same URL) and its thumbnails. */
  putPage(page: PageInput): Promise<void>;
  getPage(url: string): Promise<PageRecord | undefined>;
  /** Newest first, visited strictly before `before`. */
  recentPages(limit: number, before?: number): Promise<PageRecord[]>;
  /** Pages on which the picture appeared. */
  pagesWithImage(sha256: string): Promise<PageRecord[]>;
  getThumbnail(sha256: string): Promise<Blob | undefined>;
  /** Deletes the site's pages and URLs, and the thumbnails and embeddings of pictures no other page shows. */
  forgetSite(hostname: string): Promise<ForgetReport>;
  /** Deletes one page, its image addresses, and the thumbnails and embeddings of pictures no other page shows. */
  forgetPage(url: string): Promise<ForgetReport>;

  usage(): Promise<Usage>;
  clearStore(name: StoreName): Promise<void>;
  clearAll(): Promise<void>;

  exportRecords(): Promise<MemoryRecords>;
  /** Adds what is not there yet, all or nothing. */
  importRecords(records: MemoryRecords): Promise<ImportCounts>;
  close(): void;
}

/** A store's budget and URL retention, checked when set. */
export class StoreLimits {
  budgetBytes: number;
  urlRetentionMs: number;

  constructor(options: StoreOptions) {
    this.budgetBytes = DEFAULT_BUDGET_BYTES;
    this.urlRetentionMs = DEFAULT_URL_RETENTION_MS;
    if (options.budgetBytes !== undefined) this.setBudget(options.budgetBytes);
    if (options.urlRetentionMs !== undefined) this.setUrlRetention(options.urlRetentionMs);
  }

  setBudget(bytes: number): void {
    if (!(bytes > 0)) throw new RangeError(`budget must be a positive number of bytes, not ${bytes}`);
    this.budgetBytes = bytes;
  }

  setUrlRetention(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`retention must be a non-negative duration, not ${ms}`);
    this.urlRetentionMs = ms;
  }
}
