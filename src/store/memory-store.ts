// The LensStore of private (incognito) windows: the same behaviour as IdbStore, kept in Maps
// and gone with the background context or dropPrivateStore(). It never opens IndexedDB.
//
//   const store = createMemoryStore({ budgetBytes: 50e6 });

import { decodeEmbedding, encodeEmbedding } from '../engine/similarity';
import { bytesToFree, emptyUsage, estimateBytes, recordId, totalBytes, UseClock, type Usage } from './budget';
import { MAX_QUERIES, StoreLimits, type EmbeddingChunk, type ForgetReport, type ImportCounts, type LensStore, type MemoryRecords, type StoreOptions } from './lens-store';
import { mergePage, siteOf, visitThumbnails, type PageInput } from './pages';
import { EVICTABLE, STORE_NAMES, type EmbeddingRecord, type LabelVectorsRecord, type PageRecord, type QueryRecord, type StoreName, type StoredUrlRecord, type ThumbnailRecord, type UrlRecord } from './schema';
import { StorageHealth, toStorageError } from './storage-error';

interface Records {
  embeddings: EmbeddingRecord;
  urls: StoredUrlRecord;
  queries: QueryRecord;
  pages: PageRecord;
  thumbnails: ThumbnailRecord;
  labels: LabelVectorsRecord;
}

const embeddingKey = (modelId: string, sha256: string): string => `${modelId}\u0000${sha256}`;

export class MemoryStore implements LensStore {
  readonly persistent = false;
  readonly health = new StorageHealth();
  private readonly limits: StoreLimits;
  private readonly clock = new UseClock();
  private readonly maps: { [S in StoreName]: Map<string, Records[S]> } = {
    embeddings: new Map(),
    urls: new Map(),
    queries: new Map(),
    pages: new Map(),
    thumbnails: new Map(),
    labels: new Map(),
  };
  private readonly totals = emptyUsage();

  constructor(options: StoreOptions = {}) {
    this.limits = new StoreLimits(options);
  }

  setBudget(bytes: number): void {
    this.limits.setBudget(bytes);
  }

  setUrlRetention(ms: number): void {
    this.limits.setUrlRetention(ms);
  }

  private set<S extends StoreName>(store: S, key: string, record: Records[S]): void {
    this.delete(store, key);
    this.maps[store].set(key, record);
    this.totals[store].count++;
    this.totals[store].bytes += (estimateBytes[store] as (r: Records[S]) => number)(record);
  }

  private delete<S extends StoreName>(store: S, key: string): boolean {
    const old = this.maps[store].get(key);
    if (!old) return false;
    this.maps[store].delete(key);
    this.totals[store].count--;
    this.totals[store].bytes -= (estimateBytes[store] as (r: Records[S]) => number)(old);
    return true;
  }

  /** Same contract as IdbStore's write: failures recorded and thrown as StorageError, then the budget. */
  private write(doing: string, protect: readonly string[], op: () => void): Promise<void> {
    try {
      op();
    } catch (e) {
      const error = toStorageError(e, doing);
      this.health.recordError(error);
      return Promise.reject(error);
    }
    this.evict(bytesToFree(totalBytes(this.totals), this.limits.budgetBytes), new Set(protect));
    this.health.recordOk();
    return Promise.resolve();
  }

  private evict(bytes: number, protect: ReadonlySet<string>): void {
    if (bytes <= 0) return;
    const candidates = EVICTABLE.flatMap((store) => [...this.maps[store]].map(([key, r]) => ({ store, key, r })));
    candidates.sort((a, b) => a.r.lastUsed - b.r.lastUsed);
    let freed = 0;
    for (const { store, key, r } of candidates) {
      if (freed >= bytes) break;
      const id = store === 'embeddings' ? recordId(store, [(r as EmbeddingRecord).modelId, (r as EmbeddingRecord).sha256]) : recordId(store, key);
      if (protect.has(id)) continue;
      const before = this.totals[store].bytes;
      this.delete(store, key);
      freed += before - this.totals[store].bytes;
    }
  }

  private touched<S extends 'embeddings' | 'pages' | 'thumbnails'>(store: S, key: string): Records[S] | undefined {
    const r = this.maps[store].get(key);
    if (r) r.lastUsed = this.clock.stamp();
    return r;
  }

  async getEmbedding(modelId: string, sha256: string): Promise<Float32Array | undefined> {
    const r = this.touched('embeddings', embeddingKey(modelId, sha256));
    return r && decodeEmbedding(r.vector);
  }

  putEmbedding(modelId: string, sha256: string, vector: Float32Array): Promise<void> {
    return this.write('saving an embedding', [recordId('embeddings', [modelId, sha256])], () =>
      this.set('embeddings', embeddingKey(modelId, sha256), { modelId, sha256, vector: encodeEmbedding(vector), lastUsed: this.clock.stamp() }),
    );
  }

  async touchEmbeddings(modelId: string, sha256s: readonly string[]): Promise<void> {
    for (const s of sha256s) this.touched('embeddings', embeddingKey(modelId, s));
  }

  async *embeddingChunks(modelId: string, chunkSize = 2048): AsyncIterable<EmbeddingChunk> {
    const keys = [...this.maps.embeddings.values()].filter((r) => r.modelId === modelId).map((r) => r.sha256).sort();
    for (let at = 0; at < keys.length; at += chunkSize) {
      const records = keys.slice(at, at + chunkSize).flatMap((s) => this.maps.embeddings.get(embeddingKey(modelId, s)) ?? []);
      if (records.length === 0) continue;
      const dim = records[0].vector.length;
      const same = records.filter((r) => r.vector.length === dim);
      const rows = new Uint16Array(same.length * dim);
      same.forEach((r, i) => rows.set(r.vector, i * dim));
      yield { sha256s: same.map((r) => r.sha256), rows, dim };
    }
  }

  async getUrl(url: string, now = Date.now()): Promise<StoredUrlRecord | undefined> {
    const r = this.maps.urls.get(url);
    return r && r.fetchedAt >= now - this.limits.urlRetentionMs ? r : undefined;
  }

  putUrl(record: UrlRecord): Promise<void> {
    return this.write('saving a URL record', [], () => this.set('urls', record.url, { ...record, site: siteOf(record.url) }));
  }

  async pruneExpired(now = Date.now(), retentionMs = this.limits.urlRetentionMs): Promise<number> {
    let removed = 0;
    for (const [key, r] of this.maps.urls) if (r.fetchedAt < now - retentionMs && this.delete('urls', key)) removed++;
    return removed;
  }

  async getQuery(modelId: string, text: string): Promise<Float32Array | undefined> {
    return this.maps.queries.get(embeddingKey(modelId, text))?.vector;
  }

  putQueries(modelId: string, items: readonly { text: string; vector: Float32Array }[]): Promise<void> {
    return this.write('saving query embeddings', [], () => {
      for (const { text, vector } of items) this.set('queries', embeddingKey(modelId, text), { modelId, text, vector, lastUsed: this.clock.stamp() });
      const excess = this.maps.queries.size - MAX_QUERIES;
      if (excess <= 0) return;
      const oldest = [...this.maps.queries].sort((a, b) => a[1].lastUsed - b[1].lastUsed).slice(0, excess);
      for (const [key] of oldest) this.delete('queries', key);
    });
  }

  async getLabelVectors(modelId: string, key: string): Promise<Float32Array | undefined> {
    return this.maps.labels.get(embeddingKey(modelId, key))?.vectors;
  }

  putLabelVectors(modelId: string, key: string, vectors: Float32Array): Promise<void> {
    return this.write('saving label vectors', [], () => this.set('labels', embeddingKey(modelId, key), { modelId, key, vectors, savedAt: Date.now() }));
  }

  putPage(page: PageInput): Promise<void> {
    const protect = [recordId('pages', page.url), ...page.images.map((i) => recordId('thumbnails', i.sha256))];
    return this.write('saving a page', protect, () => {
      const thumbnails = visitThumbnails(page);
      this.set('pages', page.url, mergePage(this.maps.pages.get(page.url), page, this.clock.stamp()));
      for (const [sha256, blob] of thumbnails) {
        if (!this.touched('thumbnails', sha256)) this.set('thumbnails', sha256, { sha256, blob, lastUsed: this.clock.stamp() });
      }
    });
  }

  async getPage(url: string): Promise<PageRecord | undefined> {
    return this.touched('pages', url);
  }

  async recentPages(limit: number, before = Infinity): Promise<PageRecord[]> {
    return [...this.maps.pages.values()].filter((p) => p.visitedAt < before).sort((a, b) => b.visitedAt - a.visitedAt).slice(0, limit);
  }

  async pagesWithImage(sha256: string): Promise<PageRecord[]> {
    return [...this.maps.pages.values()].filter((p) => p.hashes.includes(sha256));
  }

  async getThumbnail(sha256: string): Promise<Blob | undefined> {
    return this.touched('thumbnails', sha256)?.blob;
  }

  async forgetSite(hostname: string): Promise<ForgetReport> {
    const site = hostname.toLowerCase();
    return this.forget((p) => p.site === site, (u) => u.site === site);
  }

  async forgetPage(url: string): Promise<ForgetReport> {
    const imageUrls = new Set(this.maps.pages.get(url)?.images.map((i) => i.src) ?? []);
    return this.forget((p) => p.url === url, (u) => imageUrls.has(u.url));
  }

  private forget(page: (p: PageRecord) => boolean, address: (u: StoredUrlRecord) => boolean): ForgetReport {
    const report: ForgetReport = { pages: 0, urls: 0, embeddings: 0, thumbnails: 0 };
    const hashes = new Set<string>();
    for (const [key, p] of this.maps.pages) {
      if (!page(p)) continue;
      p.hashes.forEach((h) => hashes.add(h));
      if (this.delete('pages', key)) report.pages++;
    }
    for (const [key, u] of this.maps.urls) if (address(u) && this.delete('urls', key)) report.urls++;
    const stillShown = new Set([...this.maps.pages.values()].flatMap((p) => p.hashes));
    for (const h of hashes) {
      if (stillShown.has(h)) continue;
      if (this.delete('thumbnails', h)) report.thumbnails++;
      for (const [key, e] of this.maps.embeddings) if (e.sha256 === h && this.delete('embeddings', key)) report.embeddings++;
    }
    return report;
  }

  async usage(): Promise<Usage> {
    const stores = emptyUsage();
    for (const name of STORE_NAMES) stores[name] = { ...this.totals[name] };
    return { stores, totalBytes: totalBytes(stores), budgetBytes: this.limits.budgetBytes };
  }

  async clearStore(name: StoreName): Promise<void> {
    this.maps[name].clear();
    this.totals[name] = { count: 0, bytes: 0 };
  }

  async clearAll(): Promise<void> {
    for (const name of STORE_NAMES) await this.clearStore(name);
  }

  async exportRecords(): Promise<MemoryRecords> {
    return {
      embeddings: [...this.maps.embeddings.values()].map(({ modelId, sha256, vector }) => ({ modelId, sha256, vector })),
      pages: [...this.maps.pages.values()].map((p) => ({ ...p })),
      thumbnails: [...this.maps.thumbnails.values()].map(({ sha256, blob }) => ({ sha256, blob })),
    };
  }

  async importRecords(records: MemoryRecords): Promise<ImportCounts> {
    const counts: ImportCounts = { embeddings: { added: 0, skipped: 0 }, pages: { added: 0, skipped: 0 }, thumbnails: { added: 0, skipped: 0 } };
    await this.write('importing', [], () => {
      for (const e of records.embeddings) {
        const key = embeddingKey(e.modelId, e.sha256);
        const known = this.maps.embeddings.has(key);
        if (!known) this.set('embeddings', key, { ...e, lastUsed: this.clock.stamp() });
        counts.embeddings[known ? 'skipped' : 'added']++;
      }
      for (const p of records.pages) {
        const known = this.maps.pages.has(p.url);
        if (!known) this.set('pages', p.url, { ...p, lastUsed: this.clock.stamp() });
        counts.pages[known ? 'skipped' : 'added']++;
      }
      for (const t of records.thumbnails) {
        const known = this.maps.thumbnails.has(t.sha256);
        if (!known) this.set('thumbnails', t.sha256, { ...t, lastUsed: this.clock.stamp() });
        counts.thumbnails[known ? 'skipped' : 'added']++;
      }
    });
    return counts;
  }

  close(): void {
    void this.clearAll();
  }
}

export function createMemoryStore(options: StoreOptions = {}): MemoryStore {
  return new MemoryStore(options);
}
