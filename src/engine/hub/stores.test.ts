// The three ModelStores against one contract (complete entries, partial downloads, keys), and the
// Cache Storage one as the store of a real resumed download.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { ensureAndRead, expectBytes, fast, testSpec, useFakeHub } from './fake-hub.ts';
import { MemoryModelStore, type ModelStore } from './store.ts';
import { CacheStorageModelStore } from './store-cache.ts';
import { FsModelStore } from './store-fs.ts';
import { TRUST_FILE } from './trust.ts';

const hub = useFakeHub();

describe('stores', () => {
  async function roundTrip(store: ModelStore): Promise<void> {
    expect(await store.get('m@main/a/b.onnx')).toBeUndefined();
    await store.put('m@main/a/b.onnx', new Uint8Array([1, 2, 3]));
    expect(await store.get('m@main/a/b.onnx')).toEqual(new Uint8Array([1, 2, 3]));
    expect(await store.getPartial('m@main/a/c.onnx')).toBeUndefined();
    await store.startPartial('m@main/a/c.onnx', 'sha256:x');
    await store.appendPartial('m@main/a/c.onnx', new Uint8Array([4, 5]));
    await store.appendPartial('m@main/a/c.onnx', new Uint8Array([6]));
    const p = (await store.getPartial('m@main/a/c.onnx'))!;
    expect(p.validator).toBe('sha256:x');
    expect(Buffer.concat(p.chunks)).toEqual(Buffer.from([4, 5, 6]));
    await store.startPartial('m@main/a/c.onnx', 'sha256:y'); // restart drops old chunks
    expect((await store.getPartial('m@main/a/c.onnx'))!.chunks.flatMap((c) => [...c])).toEqual([]);
    expect(await store.keys()).toEqual(['m@main/a/b.onnx']);
    await store.delete('m@main/a/c.onnx');
    expect(await store.getPartial('m@main/a/c.onnx')).toBeUndefined();
    await store.delete('m@main/a/b.onnx');
    expect(await store.keys()).toEqual([]);
  }

  it('MemoryModelStore', () => roundTrip(new MemoryModelStore()));

  it('FsModelStore, and it refuses keys escaping its root', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fsstore-'));
    try {
      const store = new FsModelStore(dir);
      await roundTrip(store);
      await expect(store.put('../x', new Uint8Array(1))).rejects.toThrow(/invalid model store key/);
      await expect(store.get('a//b')).rejects.toThrow(/invalid model store key/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('CacheStorageModelStore (on a minimal in-memory Cache Storage)', async () => {
    const caches = new FakeCacheStorage();
    await roundTrip(new CacheStorageModelStore('models', caches as unknown as CacheStorage));
    // And as the store of a real download with a resume.
    const served = hub.serveModel('t/cachestore', { vision: 100_000, text: 500 });
    hub.serve('t/cachestore', 'onnx/vision_model.onnx', served.vision, { behaviour: { kind: 'drop-once', after: 40_000 } });
    const store = new CacheStorageModelStore('models', caches as unknown as CacheStorage);
    const got = await ensureAndRead(testSpec('t/cachestore'), { backend: 'wasm', baseUrl: hub.base, store, ...fast, flushBytes: 8 * 1024 });
    expectBytes(got.vision.model, served.vision);
    expect(hub.requestsFor('onnx/vision_model.onnx')[1].range).toMatch(/^bytes=[1-9]\d*-$/);
    expect(await store.keys()).toEqual([
      't-cachestore@main/manifest.json',
      't-cachestore@main/onnx/text_model_quantized.onnx',
      't-cachestore@main/onnx/vision_model.onnx',
      't-cachestore@main/tokenizer.json',
      `t-cachestore@main/${TRUST_FILE}`,
    ]);
    // No partial chunks left behind.
    expect([...caches.entries()].some((u) => u.includes('?partial='))).toBe(false);
  });
});
/** Just enough of CacheStorage/Cache for CacheStorageModelStore: exact-URL match/put/delete/keys. */
class FakeCacheStorage {
  private readonly caches = new Map<string, FakeCache>();
  async open(name: string): Promise<FakeCache> {
    let c = this.caches.get(name);
    if (!c) this.caches.set(name, (c = new FakeCache()));
    return c;
  }
  entries(): string[] {
    return [...this.caches.values()].flatMap((c) => c.urls());
  }
}

class FakeCache {
  private readonly map = new Map<string, { body: Uint8Array; headers: Headers }>();
  urls(): string[] {
    return [...this.map.keys()];
  }
  async match(req: string): Promise<Response | undefined> {
    const e = this.map.get(new URL(req).toString());
    return e && new Response(e.body.slice(), { headers: e.headers });
  }
  async put(req: string, res: Response): Promise<void> {
    const url = new URL(req);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError('Cache.put: http(s) only');
    this.map.set(url.toString(), { body: new Uint8Array(await res.arrayBuffer()), headers: res.headers });
  }
  async delete(req: string): Promise<boolean> {
    return this.map.delete(new URL(req).toString());
  }
  async keys(): Promise<Request[]> {
    return [...this.map.keys()].map((u) => new Request(u));
  }
}
