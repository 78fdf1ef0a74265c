// Schema upgrades, one step per version (schema.ts lists what each version holds). A step
// may rewrite records; it runs inside the versionchange transaction, so a failing step
// aborts the whole upgrade and the database stays at its old version, untouched.

import type { IDBPDatabase, IDBPTransaction, StoreNames } from 'idb';
import { emptyUsage, estimateBytes, Ledger } from './budget';
import { commitLedger } from './idb-ledger';
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

/** Label-set vectors were saved among the query embeddings under this key prefix (label-vectors.ts). */
const LABEL_KEY_PREFIX = 'label-set:';

/** Version 3: label-set vectors get their own store; those saved as queries move there (no set is embedded again). */
async function toV3(tx: UpgradeTx): Promise<void> {
  const labels = tx.objectStore('labels');
  const ledger = new Ledger();
  const moving = IDBKeyRange.bound(LABEL_KEY_PREFIX, `${LABEL_KEY_PREFIX}\uffff`);
  for (let c = await tx.objectStore('queries').openCursor(); c; c = await c.continue()) {
    if (!moving.includes(c.value.text)) continue;
    const record = { modelId: c.value.modelId, key: c.value.text, vectors: c.value.vector, savedAt: c.value.lastUsed };
    await labels.put(record);
    ledger.add('labels', estimateBytes.labels(record));
    ledger.remove('queries', estimateBytes.queries(c.value));
    await c.delete();
  }
  await commitLedger(tx.objectStore('meta'), ledger);
}

/** idb's upgrade callback: runs every step from oldVersion up to the current version. */
export function migrate(database: IDBPDatabase<LensDB>, oldVersion: number, tx: UpgradeTx): void {
  if (oldVersion < 1) toV1(database);
  // Stores are created now, while the upgrade transaction is surely active; the record
  // moves run one after the other (v3 reads the totals that v2 writes).
  if (oldVersion < 3) database.createObjectStore('labels', { keyPath: ['modelId', 'key'] });
  let steps = Promise.resolve();
  if (oldVersion < 2) steps = toV2(database, tx);
  if (oldVersion < 3) steps = steps.then(() => toV3(tx));
  // idb does not await the callback: a failed step must abort the transaction itself.
  void steps.catch(() => {
    try {
      tx.abort();
    } catch {
      // already finished or aborted: nothing to undo
    }
  });
}
