// The persistent LensStore on IndexedDB (API and behaviour: lens-store.ts).
//
//   const store = new IdbStore();                 // DB 'mobileclip-lens', default budget and retention
//   const store = new IdbStore('test-db', { budgetBytes: 5e6 });
//
// Every write transaction also updates the `meta` totals (budget.ts), so usage() and the
// budget check read one small store instead of scanning; eviction runs in its own
// transaction right after a write that went over budget.

import { openDB } from 'idb';
import { decodeEmbedding, encodeEmbedding } from '../engine/similarity';
import { browserEstimate, bytesToFree, emptyUsage, estimateBytes, Ledger, recordId, totalBytes, TouchThrottle, UseClock, type StoreUsage, type Usage } from './budget';
import { MAX_QUERIES, StoreLimits, type EmbeddingChunk, type ForgetReport, type ImportCounts, type LensStore, type MemoryRecords, type StoreOptions } from './lens-store';
import { atomically, bytesOf, commitLedger, putCounted, readTotals, type Db, type Totals } from './idb-ledger';
import { migrate } from './migrations';
import { forgetTx, putPageTx } from './idb-pages';
import { addMissing, readAll } from './idb-transfer';
import { siteOf, type PageInput } from './pages';
import { DB_NAME, DB_VERSION, EVICTABLE, STORE_NAMES, type LensDB, type PageRecord, type StoreName, type StoredUrlRecord, type UrlRecord } from './schema';
import { StorageError, StorageHealth, toStorageError } from './storage-error';

export class IdbStore implements LensStore {
  readonly persistent = true;
  readonly health = new StorageHealth();
  private readonly limits: StoreLimits;
  private readonly clock = new UseClock();
  private readonly touches = new TouchThrottle();
  private opening: Promise<Db> | null = null;

  constructor(
    private readonly name = DB_NAME,
    options: StoreOptions = {},
  ) {
    this.limits = new StoreLimits(options);
  }

  setBudget(bytes: number): void {
    this.limits.setBudget(bytes);
  }

  setUrlRetention(ms: number): void {
    this.limits.setUrlRetention(ms);
  }

  private db(): Promise<Db> {
    if (typeof indexedDB === 'undefined') return Promise.reject(new StorageError('unavailable', 'IndexedDB is not available in this context'));
    this.opening ??= openDB<LensDB>(this.name, DB_VERSION, {
      upgrade: (database, oldVersion, _newVersion, tx) => migrate(database, oldVersion, tx),
      // Another connection (a newer extension version) wants to upgrade: step aside, reopen on next use.
      blocking: () => this.close(),
      terminated: () => {
        this.opening = null;
      },
    }).catch((e: unknown) => {
      this.opening = null;
      throw toStorageError(e, 'opening the database');
    });
    return this.opening;
  }

  close(): void {
    const opening = this.opening;
    this.opening = null;
    void opening?.then((d) => d.close()).catch(() => undefined);
  }

  /** A read: failures become StorageError and are recorded. */
  private async read<T>(doing: string, op: (db: Db) => Promise<T>): Promise<T> {
    try {
      return await op(await this.db());
    } catch (e) {
      throw this.failed(e, doing);
    }
  }

  private failed(e: unknown, doing: string): StorageError {
    const error = toStorageError(e, doing);
    this.health.recordError(error);
    return error;
  }

  /**
   * A write: `op` runs one transaction and returns the totals it committed. Over budget,
   * eviction follows (sparing `protect`); on a quota error, eviction first, then one retry.
   */
  private async write(doing: string, protect: readonly string[], op: (db: Db) => Promise<Totals>): Promise<void> {
    let totals: Totals;
    try {
      totals = await op(await this.db());
    } catch (first) {
      const error = toStorageError(first, doing);
      if (error.kind !== 'quota') throw this.failed(error, doing);
      try {
        const used = totalBytes((await this.usage()).stores);
        await this.evict(bytesToFree(used, this.limits.budgetBytes, true), new Set(protect));
        totals = await op(await this.db());
      } catch (second) {
        throw this.failed(second, doing);
      }
    }
    try {
      await this.evict(bytesToFree(totalBytes(totals), this.limits.budgetBytes), new Set(protect));
    } catch (e) {
      throw this.failed(e, 'freeing space for the budget');
    }
    this.health.recordOk();
  }

  /** Deletes least recently used embeddings, thumbnails and pages (merged by lastUsed) until `bytes` are freed. */
  private async evict(bytes: number, protect: ReadonlySet<string>): Promise<number> {
    if (bytes <= 0) return 0;
    const tx = (await this.db()).transaction([...EVICTABLE, 'meta'], 'readwrite');
    return atomically(tx, async () => {
      const ledger = new Ledger();
      const cursors = await Promise.all(EVICTABLE.map((s) => tx.objectStore(s).index('lastUsed').openCursor()));
      let freed = 0;
      while (freed < bytes) {
        let oldest = -1;
        cursors.forEach((c, i) => {
          if (c && (oldest < 0 || c.value.lastUsed < cursors[oldest]!.value.lastUsed)) oldest = i;
        });
        if (oldest < 0) break;
        const cursor = cursors[oldest]!;
        const store = EVICTABLE[oldest];
        if (!protect.has(recordId(store, cursor.primaryKey as string | string[]))) {
          const b = bytesOf(store, cursor.value);
          await cursor.delete();
          ledger.remove(store, b);
          freed += b;
        }
        cursors[oldest] = await cursor.continue();
      }
      await commitLedger(tx.objectStore('meta'), ledger);
      return freed;
    });
  }

  async getEmbedding(modelId: string, sha256: string): Promise<Float32Array | undefined> {
    const record = await this.read('reading an embedding', async (db) => {
      if (!this.touches.due(recordId('embeddings', [modelId, sha256]))) return db.get('embeddings', [modelId, sha256]);
      const tx = db.transaction('embeddings', 'readwrite');
      return atomically(tx, async () => {
        const found = await tx.store.get([modelId, sha256]);
        if (found) await tx.store.put({ ...found, lastUsed: this.clock.stamp() });
        return found;
      });
    });
    return record && decodeEmbedding(record.vector);
  }

  async putEmbedding(modelId: string, sha256: string, vector: Float32Array): Promise<void> {
    const record = { modelId, sha256, vector: encodeEmbedding(vector), lastUsed: this.clock.stamp() };
    await this.write('saving an embedding', [recordId('embeddings', [modelId, sha256])], (db) => putCounted(db, 'embeddings', [modelId, sha256], record));
  }

  async touchEmbeddings(modelId: string, sha256s: readonly string[]): Promise<void> {
    const due = sha256s.filter((s) => this.touches.due(recordId('embeddings', [modelId, s])));
    if (due.length === 0) return;
    await this.read('marking embeddings as used', async (db) => {
      const tx = db.transaction('embeddings', 'readwrite');
      return atomically(tx, async () => {
        for (const sha256 of due) {
          const found = await tx.store.get([modelId, sha256]);
          if (found) await tx.store.put({ ...found, lastUsed: this.clock.stamp() });
        }
      });
    });
  }

  async *embeddingChunks(modelId: string, chunkSize = 2048): AsyncIterable<EmbeddingChunk> {
    let after: string | null = null;
    for (;;) {
      const from: string = after ?? '';
      const range = IDBKeyRange.bound([modelId, from], [modelId, '\uffff'], after !== null, false);
      const records = await this.read('loading embeddings', (db) => db.getAll('embeddings', range, chunkSize));
      if (records.length === 0) return;
      const dim = records[0].vector.length;
      const rows = new Uint16Array(records.length * dim);
      const sha256s: string[] = [];
      for (const r of records) {
        // A row of another width cannot share the matrix (it would be a corrupt record): leave it out.
        if (r.vector.length !== dim) continue;
        rows.set(r.vector, sha256s.length * dim);
        sha256s.push(r.sha256);
      }
      yield { sha256s, rows: rows.subarray(0, sha256s.length * dim), dim };
      after = records[records.length - 1].sha256;
      if (records.length < chunkSize) return;
    }
  }

  async getUrl(url: string, now = Date.now()): Promise<StoredUrlRecord | undefined> {
    const record = await this.read('reading a URL record', (db) => db.get('urls', url));
    return record && record.fetchedAt >= now - this.limits.urlRetentionMs ? record : undefined;
  }

  async putUrl(record: UrlRecord): Promise<void> {
    const stored: StoredUrlRecord = { ...record, site: siteOf(record.url) };
    await this.write('saving a URL record', [], (db) => putCounted(db, 'urls', record.url, stored));
  }

  async pruneExpired(now = Date.now(), retentionMs = this.limits.urlRetentionMs): Promise<number> {
    let removed = 0;
    await this.write('dropping expired URL records', [], async (db) => {
      const tx = db.transaction(['urls', 'meta'], 'readwrite');
      return atomically(tx, async () => {
        const ledger = new Ledger();
        const expired = IDBKeyRange.upperBound(now - retentionMs, true);
        for (let c = await tx.objectStore('urls').index('fetchedAt').openCursor(expired); c; c = await c.continue()) {
          ledger.remove('urls', estimateBytes.urls(c.value));
          await c.delete();
          removed++;
        }
        return commitLedger(tx.objectStore('meta'), ledger);
      });
    });
    return removed;
  }

  async getQuery(modelId: string, text: string): Promise<Float32Array | undefined> {
    return (await this.read('reading a query embedding', (db) => db.get('queries', [modelId, text])))?.vector;
  }

  async putQueries(modelId: string, items: readonly { text: string; vector: Float32Array }[]): Promise<void> {
    if (items.length === 0) return;
    await this.write('saving query embeddings', [], async (db) => {
      const tx = db.transaction(['queries', 'meta'], 'readwrite');
      return atomically(tx, async () => {
        const queries = tx.objectStore('queries');
        const ledger = new Ledger();
        for (const { text, vector } of items) {
          const record = { modelId, text, vector, lastUsed: this.clock.stamp() };
          const old = await queries.get([modelId, text]);
          if (old) ledger.remove('queries', estimateBytes.queries(old));
          ledger.add('queries', estimateBytes.queries(record));
          await queries.put(record);
        }
        let excess = (await queries.count()) - MAX_QUERIES;
        for (let c = excess > 0 ? await queries.index('lastUsed').openCursor() : null; c && excess > 0; excess--) {
          ledger.remove('queries', estimateBytes.queries(c.value));
          await c.delete();
          c = await c.continue();
        }
        return commitLedger(tx.objectStore('meta'), ledger);
      });
    });
  }

  async getLabelVectors(modelId: string, key: string): Promise<Float32Array | undefined> {
    return (await this.read('reading label vectors', (db) => db.get('labels', [modelId, key])))?.vectors;
  }

  async putLabelVectors(modelId: string, key: string, vectors: Float32Array): Promise<void> {
    const record = { modelId, key, vectors, savedAt: Date.now() };
    await this.write('saving label vectors', [], (db) => putCounted(db, 'labels', [modelId, key], record));
  }

  async putPage(page: PageInput): Promise<void> {
    const protect = [recordId('pages', page.url), ...page.images.map((i) => recordId('thumbnails', i.sha256))];
    await this.write('saving a page', protect, (db) => putPageTx(db, page, () => this.clock.stamp()));
  }

  async getPage(url: string): Promise<PageRecord | undefined> {
    return this.readTouching('pages', url, 'reading a page');
  }

  async recentPages(limit: number, before = Infinity): Promise<PageRecord[]> {
    return this.read('listing pages', async (db) => {
      const out: PageRecord[] = [];
      const range = Number.isFinite(before) ? IDBKeyRange.upperBound(before, true) : undefined;
      const index = db.transaction('pages').store.index('visitedAt');
      for (let c = await index.openCursor(range, 'prev'); c && out.length < limit; c = await c.continue()) out.push(c.value);
      return out;
    });
  }

  async pagesWithImage(sha256: string): Promise<PageRecord[]> {
    return this.read('finding pages of a picture', (db) => db.getAllFromIndex('pages', 'sha256', sha256));
  }

  async getThumbnail(sha256: string): Promise<Blob | undefined> {
    return (await this.readTouching('thumbnails', sha256, 'reading a thumbnail'))?.blob;
  }

  /** A get that also refreshes lastUsed when the throttle says so (same transaction). */
  private readTouching<S extends 'pages' | 'thumbnails'>(store: S, key: string, doing: string): Promise<LensDB[S]['value'] | undefined> {
    return this.read(doing, async (db) => {
      if (!this.touches.due(recordId(store, key))) return db.get(store, key);
      const tx = db.transaction(store, 'readwrite');
      return atomically(tx, async () => {
        const found = await tx.store.get(key);
        if (found) await tx.store.put({ ...found, lastUsed: this.clock.stamp() });
        return found;
      });
    });
  }

  async forgetSite(hostname: string): Promise<ForgetReport> {
    const report: ForgetReport = { pages: 0, urls: 0, embeddings: 0, thumbnails: 0 };
    await this.write('forgetting a site', [], (db) => forgetTx(db, { site: hostname }, report));
    return report;
  }

  async forgetPage(url: string): Promise<ForgetReport> {
    const report: ForgetReport = { pages: 0, urls: 0, embeddings: 0, thumbnails: 0 };
    await this.write('forgetting a page', [], (db) => forgetTx(db, { page: url }, report));
    return report;
  }

  async usage(): Promise<Usage> {
    const stores = await this.read('reading storage usage', (db) => readTotals(db.transaction('meta').store));
    return { stores, totalBytes: totalBytes(stores), budgetBytes: this.limits.budgetBytes, browser: await browserEstimate() };
  }

  async clearStore(name: StoreName): Promise<void> {
    await this.clear([name]);
  }

  async clearAll(): Promise<void> {
    await this.clear(STORE_NAMES);
  }

  private async clear(names: readonly StoreName[]): Promise<void> {
    await this.read('clearing storage', async (db) => {
      const tx = db.transaction([...names, 'meta'], 'readwrite');
      return atomically(tx, async () => {
        for (const name of names) {
          await tx.objectStore(name).clear();
          await tx.objectStore('meta').put({ store: name, count: 0, bytes: 0 });
        }
      });
    });
    this.touches.forget();
  }

  async exportRecords(): Promise<MemoryRecords> {
    return this.read('reading everything for export', readAll);
  }

  async importRecords(records: MemoryRecords): Promise<ImportCounts> {
    const counts: ImportCounts = { embeddings: { added: 0, skipped: 0 }, pages: { added: 0, skipped: 0 }, thumbnails: { added: 0, skipped: 0 } };
    await this.write('importing', [], (db) => addMissing(db, records, () => this.clock.stamp(), counts));
    return counts;
  }
}
