// Helpers of the visual memory's e2e files (memory.test.ts, memory-reembed.test.ts): the popup's
// results and stats, opening an indexed page with its popup, the scope switch, settings written
// where the extension keeps them, and the memory's IndexedDB read from an extension context.
import { popupPath, type Harness, type HPage } from './browsers';
import { POPUP, waitUntil } from './test-build';

export interface Shown {
  src: string;
  pageUrl: string | null;
  score: string;
}

export async function shownResults(popup: HPage): Promise<Shown[]> {
  return popup.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('[data-testid=result]')].map((el) => ({ src: el.dataset.src ?? '', pageUrl: el.getAttribute('data-page-url'), score: el.dataset.score ?? '' })),
  );
}

export async function indexStats(popup: HPage): Promise<{ embedded: number; fromCache: number }> {
  return popup.evaluate(() => {
    const stats = document.querySelector<HTMLElement>('[data-testid=index-stats]');
    return { embedded: Number(stats?.getAttribute('data-embedded') ?? NaN), fromCache: Number(stats?.getAttribute('data-from-cache') ?? NaN) };
  });
}

/** Opens `path` and its popup; waits until its `count` images are indexed. */
export async function openIndexed(harness: Harness, url: string, count: number): Promise<{ page: HPage; popup: HPage; tabId: number }> {
  const page = await harness.openPage(url);
  const tabId = await harness.tabIdOf(page);
  const popup = await harness.openPage(popupPath(tabId, POPUP));
  await waitUntil(`${count} images indexed on ${url}`, () => popup.evaluate(() => (document.querySelector('[data-testid=progress]') as HTMLElement).dataset.done ?? ''), (d) => d === String(count));
  return { page, popup, tabId };
}

export async function setScope(popup: HPage, scope: 'page' | 'tabs' | 'all'): Promise<void> {
  await popup.evaluate((s) => {
    const select = document.querySelector<HTMLSelectElement>('[data-testid=scope]')!;
    select.value = s;
    select.dispatchEvent(new Event('change'));
  }, scope);
}

/** The first result that comes from another page, once one shows. */
export async function searchOtherPages(popup: HPage, query: string, scope: 'tabs' | 'all'): Promise<Shown[]> {
  await setScope(popup, scope);
  await popup.fill('[data-testid=search-input]', query);
  return waitUntil(`results of other pages for "${query}"`, () => shownResults(popup), (r) => r.some((x) => x.pageUrl !== null), 60_000);
}

/** Settings written where the extension keeps them (storage.local), from an extension context. */
export async function setSettings(harness: Harness, patch: Record<string, unknown>): Promise<void> {
  await harness.evalInExtension(async (p) => {
    const api = ((globalThis as any).browser ?? (globalThis as any).chrome) as any;
    const { settings } = await api.storage.local.get('settings');
    await api.storage.local.set({ settings: { ...(settings ?? {}), ...p } });
  }, patch);
}

/** Every record key of the memory's IndexedDB, per store (the whole persistent memory, compared before/after). */
export async function idbDump(harness: Harness): Promise<Record<string, string[]>> {
  return harness.evalInExtension(
    () =>
      new Promise<Record<string, string[]>>((resolve, reject) => {
        const open = indexedDB.open('mobileclip-lens');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const names = [...db.objectStoreNames];
          const out: Record<string, string[]> = {};
          const tx = db.transaction(names, 'readonly');
          for (const name of names) {
            const request = tx.objectStore(name).getAll();
            request.onsuccess = () => (out[name] = request.result.map((v: unknown) => JSON.stringify(v, (_k, x) => (x instanceof Blob ? `blob:${x.size}` : ArrayBuffer.isView(x) ? Array.from(x as Uint16Array) : x))).sort());
          }
          tx.oncomplete = () => {
            db.close();
            resolve(out);
          };
          tx.onerror = () => reject(tx.error);
        };
      }),
  );
}

/** A background request from an extension page (the background answers only its own pages). */
export async function request<T>(page: HPage, message: Record<string, unknown>): Promise<T> {
  return page.evaluate(async (m) => {
    const api = ((globalThis as any).browser ?? (globalThis as any).chrome) as any;
    const answer = await api.runtime.sendMessage(m);
    if (!answer?.ok) throw new Error(answer?.error ?? 'no answer');
    return answer;
  }, message) as Promise<T>;
}

/** Waits until the background recorded `pageUrl` in the pages store. */
export async function waitRecorded(harness: Harness, pageUrl: string): Promise<void> {
  await waitUntil(`${pageUrl} recorded`, async () => (await idbDump(harness)).pages?.some((p) => p.includes(JSON.stringify(pageUrl).slice(1, -1))) ?? false, (ok) => ok, 30_000);
}

