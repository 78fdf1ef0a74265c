// Size accounting for the size budget: what one record costs, when to evict and how far.
//
// Byte estimates (the per-store numbers of usage(); the browser's own figure is only a cross-check):
//   every record    RECORD_OVERHEAD (96 B) for the key, the index entries and the structured-clone framing
//   strings         2 bytes per UTF-16 code unit (an upper bound for what the engines write)
//   vectors         their byteLength (fp16 embedding of 512 dims: 1 KiB; float32 query: 2 KiB; label set: labels x 2 KiB)
//   thumbnails      blob.size
//   page images     per image: its strings + 32 B for the two numbers
// The estimates ignore compression (Chromium's LevelDB compresses, Firefox's SQLite does not),
// so they run a little high on Chromium: the budget errs on the side of using less.

import type { EmbeddingRecord, LabelVectorsRecord, PageRecord, QueryRecord, StoreName, StoredUrlRecord, ThumbnailRecord } from './schema';

export const RECORD_OVERHEAD = 96;
export const DEFAULT_BUDGET_BYTES = 500 * 1024 * 1024;
/** Eviction frees down to this share of the budget, so one more write does not evict again at once. */
export const EVICT_TO_RATIO = 0.9;
/** A read refreshes a record's lastUsed at most this often (a write per read would double the I/O of a search). */
export const TOUCH_INTERVAL_MS = 60_000;

const text = (s: string | null | undefined): number => (s ? s.length * 2 : 0);

export const estimateBytes = {
  embeddings: (r: EmbeddingRecord): number => RECORD_OVERHEAD + text(r.modelId) + text(r.sha256) + r.vector.byteLength,
  urls: (r: StoredUrlRecord): number => RECORD_OVERHEAD + text(r.url) + text(r.site) + text(r.sha256) + text(r.etag) + text(r.lastModified),
  queries: (r: QueryRecord): number => RECORD_OVERHEAD + text(r.modelId) + text(r.text) + r.vector.byteLength,
  pages: (r: PageRecord): number => {
    let n = RECORD_OVERHEAD + text(r.url) + text(r.site) + text(r.title) + text(r.favicon);
    for (const m of r.modelIds) n += text(m);
    for (const h of r.hashes) n += text(h);
    for (const i of r.images) n += 32 + text(i.sha256) + text(i.src) + text(i.alt);
    return n;
  },
  thumbnails: (r: ThumbnailRecord): number => RECORD_OVERHEAD + text(r.sha256) + r.blob.size,
  labels: (r: LabelVectorsRecord): number => RECORD_OVERHEAD + text(r.modelId) + text(r.key) + r.vectors.byteLength,
};

export interface StoreUsage {
  count: number;
  bytes: number;
}

export interface Usage {
  stores: Record<StoreName, StoreUsage>;
  /** Sum of the per-store estimates: what the budget is compared with. */
  totalBytes: number;
  budgetBytes: number;
  /** navigator.storage.estimate() for the whole extension origin (models included), where the browser offers it. */
  browser?: { usage: number; quota: number };
}

export function emptyUsage(): Record<StoreName, StoreUsage> {
  return { embeddings: zero(), urls: zero(), queries: zero(), pages: zero(), thumbnails: zero(), labels: zero() };
}
const zero = (): StoreUsage => ({ count: 0, bytes: 0 });

export function totalBytes(stores: Record<StoreName, StoreUsage>): number {
  return Object.values(stores).reduce((sum, s) => sum + s.bytes, 0);
}

/**
 * How many bytes eviction should free, 0 when within budget. On a quota error the browser
 * ran out before our budget did, so the target is measured against what we hold instead.
 */
export function bytesToFree(used: number, budget: number, quotaHit = false): number {
  if (!quotaHit && used <= budget) return 0;
  const target = Math.floor(Math.min(budget, used) * EVICT_TO_RATIO);
  return Math.max(0, used - target);
}

/** The browser's figure for the whole origin, when the API exists (absent in Node and some workers). */
export async function browserEstimate(): Promise<{ usage: number; quota: number } | undefined> {
  const storage = (globalThis as { navigator?: { storage?: { estimate?: () => Promise<{ usage?: number; quota?: number }> } } }).navigator?.storage;
  if (!storage?.estimate) return undefined;
  try {
    const e = await storage.estimate();
    return { usage: e.usage ?? 0, quota: e.quota ?? 0 };
  } catch {
    return undefined;
  }
}

/** Strictly increasing use times, so LRU order is exact even for writes within one millisecond. */
export class UseClock {
  private last = 0;
  stamp(now = Date.now()): number {
    this.last = Math.max(now, this.last + 1);
    return this.last;
  }
}

/** Decides which reads refresh lastUsed: once per key per TOUCH_INTERVAL_MS. */
export class TouchThrottle {
  private readonly touched = new Map<string, number>();
  constructor(private readonly intervalMs = TOUCH_INTERVAL_MS, private readonly maxKeys = 20_000) {}

  due(key: string, now = Date.now()): boolean {
    const last = this.touched.get(key);
    if (last !== undefined && now - last < this.intervalMs) return false;
    // A search can read tens of thousands of keys; forgetting them all costs at most one extra write each.
    if (this.touched.size >= this.maxKeys) this.touched.clear();
    this.touched.set(key, now);
    return true;
  }

  forget(): void {
    this.touched.clear();
  }
}

/** Names a record across stores, for the set of keys the current write protects from eviction. */
export function recordId(store: StoreName, key: string | readonly string[]): string {
  return `${store}\u0000${typeof key === 'string' ? key : key.join('\u0000')}`;
}

/** The count and byte changes of one write, applied to the running totals when it commits. */
export class Ledger {
  private readonly deltas = new Map<StoreName, StoreUsage>();

  add(store: StoreName, bytes: number): void {
    this.change(store, 1, bytes);
  }

  remove(store: StoreName, bytes: number): void {
    this.change(store, -1, -bytes);
  }

  private change(store: StoreName, count: number, bytes: number): void {
    const d = this.deltas.get(store) ?? { count: 0, bytes: 0 };
    d.count += count;
    d.bytes += bytes;
    this.deltas.set(store, d);
  }

  stores(): StoreName[] {
    return [...this.deltas.keys()];
  }

  /** Adds the changes into totals (in place; never below zero) and returns them. */
  applyTo(totals: Record<StoreName, StoreUsage>): Record<StoreName, StoreUsage> {
    for (const [store, d] of this.deltas) {
      totals[store] = { count: Math.max(0, totals[store].count + d.count), bytes: Math.max(0, totals[store].bytes + d.bytes) };
    }
    return totals;
  }
}
