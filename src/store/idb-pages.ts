// Page and thumbnail transactions of IdbStore: a visit, and "forget this site".

import { estimateBytes, Ledger } from './budget';
import type { ForgetReport } from './lens-store';
import { atomically, commitLedger, type Db, type Totals } from './idb-ledger';
import { mergePage, visitThumbnails, type PageInput } from './pages';

/** Stores a visit and its new thumbnails (a known thumbnail only counts as used again). */
export async function putPageTx(db: Db, input: PageInput, stamp: () => number): Promise<Totals> {
  const thumbnails = visitThumbnails(input);
  const tx = db.transaction(['pages', 'thumbnails', 'meta'], 'readwrite');
  return atomically(tx, async () => {
    const pages = tx.objectStore('pages');
    const thumbs = tx.objectStore('thumbnails');
    const ledger = new Ledger();
    const old = await pages.get(input.url);
    const record = mergePage(old, input, stamp());
    if (old) ledger.remove('pages', estimateBytes.pages(old));
    ledger.add('pages', estimateBytes.pages(record));
    await pages.put(record);
    for (const [sha256, blob] of thumbnails) {
      const known = await thumbs.get(sha256);
      if (known) {
        await thumbs.put({ ...known, lastUsed: stamp() });
        continue;
      }
      const thumbnail = { sha256, blob, lastUsed: stamp() };
      ledger.add('thumbnails', estimateBytes.thumbnails(thumbnail));
      await thumbs.put(thumbnail);
    }
    return commitLedger(tx.objectStore('meta'), ledger);
  });
}

/** What "forget" removes: every page of a site (and its image addresses), or one page. */
export type ForgetTarget = { site: string } | { page: string };

export async function forgetTx(db: Db, target: ForgetTarget, report: ForgetReport): Promise<Totals> {
  const tx = db.transaction(['pages', 'urls', 'embeddings', 'thumbnails', 'meta'], 'readwrite');
  return atomically(tx, async () => {
    const ledger = new Ledger();
    const hashes = new Set<string>();
    const pages = tx.objectStore('pages');
    const query = 'site' in target ? pages.index('site').openCursor(target.site.toLowerCase()) : pages.openCursor(target.page);
    const imageUrls = new Set<string>();
    for (let c = await query; c; c = await c.continue()) {
      for (const h of c.value.hashes) hashes.add(h);
      for (const i of c.value.images) imageUrls.add(i.src);
      ledger.remove('pages', estimateBytes.pages(c.value));
      await c.delete();
      report.pages++;
    }
    const urls = tx.objectStore('urls');
    if ('site' in target) {
      for (let c = await urls.index('site').openCursor(target.site.toLowerCase()); c; c = await c.continue()) {
        ledger.remove('urls', estimateBytes.urls(c.value));
        await c.delete();
        report.urls++;
      }
    } else {
      // The page's image addresses name its pictures: they go with it.
      for (const url of imageUrls) {
        const record = await urls.get(url);
        if (!record) continue;
        ledger.remove('urls', estimateBytes.urls(record));
        await urls.delete(url);
        report.urls++;
      }
    }
    const byPicture = tx.objectStore('pages').index('sha256');
    for (const sha256 of hashes) {
      // Another site shows the same picture: its thumbnail and embeddings still serve that page.
      if ((await byPicture.count(sha256)) > 0) continue;
      const thumbnail = await tx.objectStore('thumbnails').get(sha256);
      if (thumbnail) {
        ledger.remove('thumbnails', estimateBytes.thumbnails(thumbnail));
        await tx.objectStore('thumbnails').delete(sha256);
        report.thumbnails++;
      }
      for (let c = await tx.objectStore('embeddings').index('sha256').openCursor(sha256); c; c = await c.continue()) {
        ledger.remove('embeddings', estimateBytes.embeddings(c.value));
        await c.delete();
        report.embeddings++;
      }
    }
    return commitLedger(tx.objectStore('meta'), ledger);
  });
}
