// Schema upgrades, one step per version (schema.ts lists what each version holds). A step
// may rewrite records; it runs inside the versionchange transaction, so a failing step
// aborts the whole upgrade and the database stays at its old version, untouched.

import type { IDBPDatabase, IDBPTransaction, StoreNames } from 'idb';
import { emptyUsage, estimateBytes } from './budget';
import { siteOf } from './pages';
import type { LensDB, MetaRecord, StoreName } from './schema';

type UpgradeTx = IDBPTransaction<LensDB, StoreNames<LensDB>[], 'versionchange'>;

/** Version 1: the embedding cache as first shipped. */
function toV1(database: IDBPDatabase<LensDB>): void {
  const embeddings = database.createObjectStore('embeddings', { keyPath: ['modelId', 'sha256'] });
  embeddings.createIndex('lastUsed', 'lastUsed');
  database.createObjectStore('urls', { keyPath: 'url' });
  const queries = database.createObjectStore('queries', { keyPath: ['modelId', 'text'] });
  queries.createIndex('lastUsed', 'lastUsed');
}

/** Version 2: pages, thumbnails and per-store accounting; urls learn their site. */
async function toV2(database: IDBPDatabase<LensDB>, tx: UpgradeTx): Promise<void> {
  tx.objectStore('embeddings').createIndex('sha256', 'sha256');
  const urls = tx.objectStore('urls');
  urls.createIndex('site', 'site');
  urls.createIndex('fetchedAt', 'fetchedAt');
  const pages = database.createObjectStore('pages', { keyPath: 'url' });
  pages.createIndex('visitedAt', 'visitedAt');
  pages.createIndex('site', 'site');
  pages.createIndex('lastUsed', 'lastUsed');
  pages.createIndex('sha256', 'hashes', { multiEntry: true });
  database.createObjectStore('thumbnails', { keyPath: 'sha256' }).createIndex('lastUsed', 'lastUsed');
  database.createObjectStore('meta', { keyPath: 'store' });

  const usage = emptyUsage();
  for (let c = await urls.openCursor(); c; c = await c.continue()) {
    const record = { ...c.value, site: siteOf(c.value.url) };
    await c.update(record);
    usage.urls.count++;
    usage.urls.bytes += estimateBytes.urls(record);
  }
  for (let c = await tx.objectStore('embeddings').openCursor(); c; c = await c.continue()) {
    usage.embeddings.count++;
    usage.embeddings.bytes += estimateBytes.embeddings(c.value);
  }
  for (let c = await tx.objectStore('queries').openCursor(); c; c = await c.continue()) {
    usage.queries.count++;
    usage.queries.bytes += estimateBytes.queries(c.value);
  }
  const meta = tx.objectStore('meta');
  for (const [store, u] of Object.entries(usage) as [StoreName, MetaRecord][]) await meta.put({ store, count: u.count, bytes: u.bytes });
}

/** idb's upgrade callback: runs every step from oldVersion up to the current version. */
export function migrate(database: IDBPDatabase<LensDB>, oldVersion: number, tx: UpgradeTx): void {
  if (oldVersion < 1) toV1(database);
  const steps: Promise<void>[] = [];
  if (oldVersion < 2) steps.push(toV2(database, tx));
  // idb does not await the callback: a failed step must abort the transaction itself.
  void Promise.all(steps).catch(() => {
    try {
      tx.abort();
    } catch {
      // already finished or aborted: nothing to undo
    }
  });
}
