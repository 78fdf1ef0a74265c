// The IndexedDB side of the accounting: a write's Ledger lands in `meta` inside the same
// transaction, so the totals can never drift from the records they count.

import type { IDBPDatabase, IDBPObjectStore, StoreNames } from 'idb';
import { emptyUsage, estimateBytes, Ledger, type StoreUsage } from './budget';
import type { LensDB, StoreName } from './schema';

export type Db = IDBPDatabase<LensDB>;
export type Totals = Record<StoreName, StoreUsage>;
type MetaStore = IDBPObjectStore<LensDB, StoreNames<LensDB>[], 'meta', 'readwrite' | 'versionchange'>;

/** Writes the ledger's changes into `meta` within the caller's transaction; returns the new totals. */
export async function commitLedger(meta: MetaStore, ledger: Ledger): Promise<Totals> {
  const totals = await readTotals(meta);
  ledger.applyTo(totals);
  for (const store of ledger.stores()) await meta.put({ store, ...totals[store] });
  return totals;
}

export async function readTotals(meta: Pick<MetaStore, 'getAll'>): Promise<Totals> {
  const totals = emptyUsage();
  for (const m of await meta.getAll()) totals[m.store] = { count: m.count, bytes: m.bytes };
  return totals;
}

/** estimateBytes for a record whose store is only known at run time (cursors over several stores). */
export const bytesOf = (store: StoreName, value: unknown): number => (estimateBytes[store] as (v: unknown) => number)(value);

/**
 * Runs a write transaction's body and waits for the commit. IndexedDB commits whatever was
 * requested when the body throws (a validation error, a failed put) unless told otherwise,
 * so any failure aborts: a write lands whole or not at all.
 */
export async function atomically<T>(tx: { abort(): void; done: Promise<void> }, body: () => Promise<T>): Promise<T> {
  try {
    const result = await body();
    await tx.done;
    return result;
  } catch (e) {
    tx.done.catch(() => undefined);
    try {
      tx.abort();
    } catch {
      // already committed or aborted: nothing left to undo
    }
    throw e;
  }
}

/** One record put into its store (replacing the one under the same key) with the totals updated, in one transaction. */
export function putCounted<S extends 'embeddings' | 'urls' | 'labels'>(db: Db, store: S, key: LensDB[S]['key'], record: LensDB[S]['value']): Promise<Totals> {
  const tx = db.transaction([store, 'meta'], 'readwrite');
  return atomically(tx, async () => {
    const ledger = new Ledger();
    const records = tx.objectStore(store);
    const old: unknown = await records.get(key);
    if (old) ledger.remove(store, bytesOf(store, old));
    ledger.add(store, bytesOf(store, record));
    await records.put(record);
    return commitLedger(tx.objectStore('meta'), ledger);
  });
}
