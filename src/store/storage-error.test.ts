import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { estimateBytes } from './budget';
import { IdbStore } from './idb-store';
import { StorageError, StorageHealth, storageErrorKind, toStorageError } from './storage-error';
import { freshDbName, sha, unitVector } from './test-fixtures';

const quota = () => new DOMException('The quota has been exceeded.', 'QuotaExceededError');

describe('storageErrorKind', () => {
  it('recognises quota errors directly and inside transaction aborts', () => {
    expect(storageErrorKind(quota())).toBe('quota');
    expect(storageErrorKind({ name: 'AbortError', target: { error: quota() } })).toBe('quota');
    expect(storageErrorKind(new Error('aborted', { cause: { name: 'AbortError', error: quota() } }))).toBe('quota');
    expect(storageErrorKind(new DOMException('x', 'InvalidStateError'))).toBe('unavailable');
    expect(storageErrorKind(new TypeError('bad key'))).toBe('other');
  });

  it('names what was being done and keeps the cause', () => {
    const cause = quota();
    const e = toStorageError(cause, 'saving an embedding');
    expect(e).toMatchObject({ kind: 'quota', message: 'saving an embedding: storage is full (QuotaExceededError)' });
    expect(e.cause).toBe(cause);
    expect(toStorageError(e, 'again')).toBe(e);
  });
});

describe('StorageHealth', () => {
  it('keeps the last error and tells listeners', () => {
    const health = new StorageHealth();
    const heard: string[] = [];
    health.onError((s) => heard.push(s.lastError!.kind));
    health.recordError(new StorageError('unavailable', 'no db'), 5);
    health.recordError(new StorageError('quota', 'full'), 9);
    expect(health.snapshot()).toEqual({ lastError: { at: 9, kind: 'quota', message: 'full' }, errors: 2, lastOkAt: null });
    expect(heard).toEqual(['unavailable', 'quota']);
  });
});

describe('IdbStore on a full disk', () => {
  afterEach(() => vi.restoreAllMocks());
  const perEmbedding = estimateBytes.embeddings({ modelId: 'm', sha256: sha(0), vector: new Uint16Array(512), lastUsed: 0 });

  /** The next `times` puts into `embeddings` fail as a browser out of quota would. */
  function failEmbeddingPuts(times: number): void {
    const put = IDBObjectStore.prototype.put;
    let left = times;
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, ...args: Parameters<typeof put>) {
      if (this.name === 'embeddings' && left-- > 0) throw quota();
      return put.apply(this, args);
    });
  }

  it('evicts and retries once, and the write lands', async () => {
    const store = new IdbStore(freshDbName(), { budgetBytes: 100 * perEmbedding });
    for (let i = 0; i < 20; i++) await store.putEmbedding('m', sha(i), unitVector(i));
    failEmbeddingPuts(1);
    await store.putEmbedding('m', sha(99), unitVector(99));
    expect(await store.getEmbedding('m', sha(99))).toBeDefined();
    // Under our budget but over the browser's: 10 % of what we held was freed, oldest first.
    expect((await store.usage()).stores.embeddings.count).toBe(19);
    expect(await store.getEmbedding('m', sha(0))).toBeUndefined();
    expect(await store.getEmbedding('m', sha(1))).toBeUndefined();
    expect(store.health.snapshot().lastError).toBeNull();
  });

  it('reports a quota error that survives the retry', async () => {
    const store = new IdbStore(freshDbName());
    await store.putEmbedding('m', sha(1), unitVector(1));
    failEmbeddingPuts(2);
    await expect(store.putEmbedding('m', sha(2), unitVector(2))).rejects.toMatchObject({ name: 'StorageError', kind: 'quota' });
    expect(store.health.snapshot()).toMatchObject({ errors: 1, lastError: { kind: 'quota', message: expect.stringMatching(/^saving an embedding: storage is full/) } });
  });
});
