// Which store a tab writes to: the persistent one, or the private windows' in-memory one.
//
//   configureStores({ budgetBytes: settings.memoryBudget, urlRetentionMs })   // on start and when settings change
//   const store = storeFor(tab.incognito);                                     // per tab, on every use
//   dropPrivateStore();                                                        // when the last private window closes
//
// All private tabs share one memory store, as they share one browsing session.

import type { LensStore, StoreOptions } from './lens-store';
import { IdbStore } from './idb-store';
import { createMemoryStore, type MemoryStore } from './memory-store';

let options: StoreOptions = {};
let persistent: IdbStore | undefined;
let privateStore: MemoryStore | undefined;

export function persistentStore(): IdbStore {
  persistent ??= new IdbStore(undefined, options);
  return persistent;
}

export function storeFor(incognito: boolean): LensStore {
  if (!incognito) return persistentStore();
  privateStore ??= createMemoryStore(options);
  return privateStore;
}

/** Applies to the stores already open and to those opened later. */
export function configureStores(next: StoreOptions): void {
  options = { ...options, ...next };
  for (const store of [persistent, privateStore]) {
    if (next.budgetBytes !== undefined) store?.setBudget(next.budgetBytes);
    if (next.urlRetentionMs !== undefined) store?.setUrlRetention(next.urlRetentionMs);
  }
}

/** Forgets everything private browsing stored; the next private tab starts empty. */
export function dropPrivateStore(): void {
  privateStore?.close();
  privateStore = undefined;
}
