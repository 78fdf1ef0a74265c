// ModelStore on the browser's Cache Storage (available in extension pages, offscreen documents and
// the Chrome MV3 service worker alike, unlike OPFS sync handles or IndexedDB blobs in every
// context). Entries are Responses under synthetic URLs: Cache.put only accepts http(s) requests,
// and the reserved `.invalid` TLD guarantees these are never fetched from anywhere.
//
// Partial downloads are stored as numbered chunk entries plus a small meta entry, so appending a
// chunk writes only that chunk instead of rewriting everything received so far.

import { type InventoryStore, isUnder, type PartialDownload } from './store.ts';

const ORIGIN = 'https://model-store.invalid/';

interface PartialMeta {
  validator: string;
  count: number;
}

export class CacheStorageModelStore implements InventoryStore {
  constructor(
    private readonly cacheName = 'mobileclip-models',
    private readonly storage: CacheStorage = globalThis.caches,
  ) {
    if (!storage) throw new Error('Cache Storage is not available in this context');
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const res = await (await this.cache()).match(entryUrl(key));
    return res ? new Uint8Array(await res.arrayBuffer()) : undefined;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    await (await this.cache()).put(entryUrl(key), bytesResponse(bytes));
  }

  async delete(key: string): Promise<void> {
    await this.deletePartial(key);
    await (await this.cache()).delete(entryUrl(key));
  }

  async getPartial(key: string): Promise<PartialDownload | undefined> {
    const cache = await this.cache();
    const meta = await this.meta(cache, key);
    if (!meta) return undefined;
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < meta.count; i++) {
      const res = await cache.match(chunkUrl(key, i));
      // A missing chunk (evicted, or a write that never finished) ends the usable prefix.
      if (!res) break;
      chunks.push(new Uint8Array(await res.arrayBuffer()));
    }
    return { validator: meta.validator, chunks };
  }

  async startPartial(key: string, validator: string): Promise<void> {
    await this.deletePartial(key);
    await this.writeMeta(await this.cache(), key, { validator, count: 0 });
  }

  async appendPartial(key: string, chunk: Uint8Array): Promise<void> {
    const cache = await this.cache();
    const meta = await this.meta(cache, key);
    if (!meta) throw new Error(`appendPartial before startPartial for ${key}`);
    // Chunk first, then the count: an interruption in between leaves an extra entry the next
    // deletePartial removes, never a count pointing at a missing chunk.
    await cache.put(chunkUrl(key, meta.count), bytesResponse(chunk));
    await this.writeMeta(cache, key, { validator: meta.validator, count: meta.count + 1 });
  }

  async deletePartial(key: string): Promise<void> {
    const cache = await this.cache();
    const meta = await this.meta(cache, key);
    await cache.delete(metaUrl(key));
    // One past the count catches a chunk written just before an interrupted meta update.
    const n = (meta?.count ?? 0) + 1;
    for (let i = 0; i < n; i++) await cache.delete(chunkUrl(key, i));
  }

  async keys(): Promise<string[]> {
    const requests = await (await this.cache()).keys();
    const out: string[] = [];
    for (const req of requests) {
      const url = new URL(req.url);
      if (url.search) continue; // partial chunks and meta
      out.push(decodeKey(url.pathname.slice(1)));
    }
    return out.sort();
  }

  /** Bytes held under a key prefix, complete entries and partial chunks alike (measured, not recorded). */
  async usage(prefix: string): Promise<number> {
    const cache = await this.cache();
    let bytes = 0;
    for (const req of await this.requestsUnder(cache, prefix)) {
      const res = await cache.match(req);
      // A Blob of a cached body knows its size without the bytes being read into this context.
      if (res) bytes += (await res.blob()).size;
    }
    return bytes;
  }

  /** Removes every entry under a key prefix: complete files, partial chunks and their meta. */
  async deleteUnder(prefix: string): Promise<void> {
    const cache = await this.cache();
    for (const req of await this.requestsUnder(cache, prefix)) await cache.delete(req);
  }

  private async requestsUnder(cache: Cache, prefix: string): Promise<Request[]> {
    return (await cache.keys()).filter((req) => isUnder(decodeKey(new URL(req.url).pathname.slice(1)), prefix));
  }

  private cache(): Promise<Cache> {
    return this.storage.open(this.cacheName);
  }

  private async meta(cache: Cache, key: string): Promise<PartialMeta | undefined> {
    const res = await cache.match(metaUrl(key));
    if (!res) return undefined;
    try {
      const m = (await res.json()) as PartialMeta;
      return typeof m.validator === 'string' && Number.isInteger(m.count) ? m : undefined;
    } catch {
      return undefined;
    }
  }

  private async writeMeta(cache: Cache, key: string, meta: PartialMeta): Promise<void> {
    await cache.put(metaUrl(key), new Response(JSON.stringify(meta), { headers: { 'content-type': 'application/json' } }));
  }
}

function bytesResponse(bytes: Uint8Array): Response {
  return new Response(bytes as Uint8Array<ArrayBuffer>, {
    headers: { 'content-type': 'application/octet-stream' },
  });
}

/** Each key segment is percent-encoded so any key maps to a distinct, valid URL path. */
function entryUrl(key: string): string {
  return ORIGIN + key.split('/').map(encodeURIComponent).join('/');
}

function decodeKey(pathname: string): string {
  return pathname.split('/').map(decodeURIComponent).join('/');
}

function metaUrl(key: string): string {
  return `${entryUrl(key)}?partial=meta`;
}

function chunkUrl(key: string, i: number): string {
  return `${entryUrl(key)}?partial=${i}`;
}
