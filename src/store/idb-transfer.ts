// Bulk copy in and out of IdbStore for export/import (the file format is export.ts's).

import { Ledger } from './budget';
import { atomically, bytesOf, commitLedger, type Db, type Totals } from './idb-ledger';
import type { ImportCounts, MemoryRecords } from './lens-store';

/** One read-only transaction, so the export is a consistent snapshot. */
export async function readAll(db: Db): Promise<MemoryRecords> {
  const tx = db.transaction(['embeddings', 'pages', 'thumbnails'], 'readonly');
  const [embeddings, pages, thumbnails] = await Promise.all([
    tx.objectStore('embeddings').getAll(),
    tx.objectStore('pages').getAll(),
    tx.objectStore('thumbnails').getAll(),
  ]);
  await tx.done;
  return {
    embeddings: embeddings.map(({ modelId, sha256, vector }) => ({ modelId, sha256, vector })),
    pages,
    thumbnails: thumbnails.map(({ sha256, blob }) => ({ sha256, blob })),
  };
}

/** Adds the records whose keys are new, in one transaction: an import lands whole or not at all. */
export async function addMissing(db: Db, records: MemoryRecords, stamp: () => number, counts: ImportCounts): Promise<Totals> {
  const tx = db.transaction(['embeddings', 'pages', 'thumbnails', 'meta'], 'readwrite');
  return atomically(tx, async () => {
    const ledger = new Ledger();
    const parts = [
      ['embeddings', records.embeddings, (e: MemoryRecords['embeddings'][number]) => [e.modelId, e.sha256]],
      ['pages', records.pages, (p: MemoryRecords['pages'][number]) => p.url],
      ['thumbnails', records.thumbnails, (t: MemoryRecords['thumbnails'][number]) => t.sha256],
    ] as const;
    for (const [name, items, keyOf] of parts) {
      const store = tx.objectStore(name);
      for (const item of items) {
        if ((await store.getKey(keyOf(item as never) as never)) !== undefined) {
          counts[name].skipped++;
          continue;
        }
        const record = { ...item, lastUsed: stamp() };
        ledger.add(name, bytesOf(name, record));
        await store.put(record as never);
        counts[name].added++;
      }
    }
    return commitLedger(tx.objectStore('meta'), ledger);
  });
}
