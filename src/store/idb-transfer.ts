// Bulk copy in and out of IdbStore for export/import (the file format is export.ts's).

import { estimateBytes, Ledger } from './budget';
import { atomically, commitLedger, type Db, type Totals } from './idb-ledger';
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
    const embeddings = tx.objectStore('embeddings');
    for (const e of records.embeddings) {
      if ((await embeddings.getKey([e.modelId, e.sha256])) !== undefined) {
        counts.embeddings.skipped++;
        continue;
      }
      const record = { ...e, lastUsed: stamp() };
      ledger.add('embeddings', estimateBytes.embeddings(record));
      await embeddings.put(record);
      counts.embeddings.added++;
    }
    const pages = tx.objectStore('pages');
    for (const p of records.pages) {
      if ((await pages.getKey(p.url)) !== undefined) {
        counts.pages.skipped++;
        continue;
      }
      const record = { ...p, lastUsed: stamp() };
      ledger.add('pages', estimateBytes.pages(record));
      await pages.put(record);
      counts.pages.added++;
    }
    const thumbnails = tx.objectStore('thumbnails');
    for (const t of records.thumbnails) {
      if ((await thumbnails.getKey(t.sha256)) !== undefined) {
        counts.thumbnails.skipped++;
        continue;
      }
      const record = { ...t, lastUsed: stamp() };
      ledger.add('thumbnails', estimateBytes.thumbnails(record));
      await thumbnails.put(record);
      counts.thumbnails.added++;
    }
    return commitLedger(tx.objectStore('meta'), ledger);
  });
}
