import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cosine, encodeEmbedding } from '../engine/similarity';
import { bytesToBase64 } from './base64';
import { exportMemory, importMemory, ImportError, MEMORY_FORMAT, parseMemoryFile } from './export';
import { IdbStore } from './idb-store';
import type { LensStore } from './lens-store';
import { createMemoryStore } from './memory-store';
import { freshDbName, image, page, sha, thumbnailBlob, unitVector } from './test-fixtures';

async function filledStore(): Promise<LensStore> {
  const store = new IdbStore(freshDbName());
  for (let i = 0; i < 4; i++) await store.putEmbedding('s0', sha(i), unitVector(i));
  await store.putEmbedding('s2', sha(0), unitVector(10));
  await store.putPage(page('https://a.test/', [image(0, { thumbnail: thumbnailBlob(300) }), image(1, { alt: 'a <b>cat</b> "quoted"' })], 1234, 's0'));
  await store.putPage({ ...page('https://b.test/x?q=1', [image(2, { thumbnail: thumbnailBlob(400, 'image/jpeg') })], 99), favicon: 'data:image/png;base64,AAAA' });
  return store;
}

const validFile = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ format: MEMORY_FORMAT, version: 1, exportedAt: 1, labelSets: [], embeddings: [], pages: [], thumbnails: [], ...extra });
const fp16 = (v: Float32Array) => {
  const bits = encodeEmbedding(v);
  return bytesToBase64(new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength));
};

describe('export / import', () => {
  afterEach(() => vi.restoreAllMocks());

  it('round-trips embeddings, pages, thumbnails and label sets, then skips what is there', async () => {
    const source = await filledStore();
    const labelSets = [{ name: 'default', labels: ['cat', 'dog'] }];
    const file = await exportMemory(source, { labelSets });
    for (const target of [new IdbStore(freshDbName()), createMemoryStore()]) {
      const first = await importMemory(target, file);
      expect(first.labelSets).toEqual(labelSets);
      expect(first.counts).toEqual({ embeddings: { added: 5, skipped: 0 }, pages: { added: 2, skipped: 0 }, thumbnails: { added: 2, skipped: 0 } });
      expect(cosine((await target.getEmbedding('s2', sha(0)))!, unitVector(10))).toBeGreaterThan(0.9999999);
      const a = (await target.getPage('https://a.test/'))!;
      const original = (await source.getPage('https://a.test/'))!;
      expect({ ...a, lastUsed: 0 }).toEqual({ ...original, lastUsed: 0 });
      expect((await target.getPage('https://b.test/x?q=1'))?.favicon).toBe('data:image/png;base64,AAAA');
      const thumb = (await target.getThumbnail(sha(2)))!;
      expect(thumb.type).toBe('image/jpeg');
      expect(new Uint8Array(await thumb.arrayBuffer())).toEqual(new Uint8Array(400).fill(7));
      expect((await importMemory(target, file)).counts).toEqual({ embeddings: { added: 0, skipped: 5 }, pages: { added: 0, skipped: 2 }, thumbnails: { added: 0, skipped: 2 } });
      expect((await target.usage()).stores).toEqual((await source.usage()).stores);
    }
  });

  it('refuses damaged and hostile files with a reason', async () => {
    const cases: [string, RegExp][] = [
      ['{"format": "mobileclip-lens-memory", "vers', /malformed or cut short/],
      [JSON.stringify({ format: 'something-else', version: 1 }), /format is "something-else"/],
      [validFile({ version: 2 }), /newer version/],
      [validFile({ version: '1' }), /not one this version reads/],
      [validFile({ embeddings: new Array(2_000_001).fill(0) }), /2000001 entries, more than/],
      [validFile({ embeddings: {} }), /embeddings is not a list/],
      [validFile({ embeddings: [{ modelId: 'm', sha256: sha(1), dim: 512, fp16: fp16(unitVector(1)).slice(0, -8) }] }), /embeddings\[0\]\.fp16 is not 512/],
      [validFile({ embeddings: [{ modelId: 'm', sha256: sha(1), dim: 4, fp16: fp16(Float32Array.of(NaN, 0, 0, 1)) }] }), /not a finite number/],
      [validFile({ embeddings: [{ modelId: 'm', sha256: sha(1), dim: 2, fp16: fp16(Float32Array.of(3, 4)) }] }), /not a unit-length embedding \(length 5\.000\)/],
      [validFile({ embeddings: [{ modelId: 'm', sha256: sha(1), dim: 1e9, fp16: '' }] }), /dim is not a dimension/],
      [validFile({ embeddings: [{ modelId: 'm', sha256: 'ABC', dim: 1, fp16: 'AAA=' }] }), /sha256 is not a lower-case SHA-256/],
      [validFile({ pages: [{ url: 'not a url', title: '', favicon: null, visitedAt: 1, modelIds: [], images: [] }] }), /pages\[0\]\.url is not an address/],
      [validFile({ pages: [{ url: 'https://a.test/', title: '', favicon: null, visitedAt: 1, modelIds: [], images: [{ sha256: sha(1), src: '', alt: '', width: -1, height: 0 }] }] }), /images\[0\]\.width is not a size/],
      [validFile({ thumbnails: [{ sha256: sha(1), type: 'image/webp', data: '@@@@' }] }), /data is not base64/],
      [validFile({ thumbnails: [{ sha256: sha(1), type: 'image/webp', data: bytesToBase64(new Uint8Array(9000)) }] }), /thumbnail of 9000 bytes/],
      [validFile({ thumbnails: [{ sha256: sha(1), type: 'text/html', data: 'AAAA' }] }), /type "text\/html"/],
      [validFile({ labelSets: [{ name: 'x', labels: [42] }] }), /labelSets\[0\]\.labels\[0\]/],
    ];
    for (const [text, reason] of cases) expect(() => parseMemoryFile(text), String(reason)).toThrow(reason);
    expect(() => parseMemoryFile('[]')).toThrow(ImportError);
  });

  it('writes nothing from a file that fails validation late', async () => {
    const store = new IdbStore(freshDbName());
    const before = await store.usage();
    const file = validFile({
      embeddings: [{ modelId: 'm', sha256: sha(1), dim: 512, fp16: fp16(unitVector(1)) }],
      pages: [{ url: 'https://a.test/', title: 't', favicon: null, visitedAt: 1, modelIds: ['m'], images: [] }],
      thumbnails: [{ sha256: sha(1), type: 'image/gif', data: 'AAAA' }],
    });
    await expect(importMemory(store, file)).rejects.toThrow(/thumbnails\[0\]/);
    expect((await store.usage()).stores).toEqual(before.stores);
  });

  it('rolls the whole import back when the database fails half-way', async () => {
    const store = new IdbStore(freshDbName());
    const file = await exportMemory(await filledStore());
    const put = IDBObjectStore.prototype.put;
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, ...args: Parameters<typeof put>) {
      if (this.name === 'thumbnails') throw new DOMException('disk error', 'UnknownError');
      return put.apply(this, args);
    });
    await expect(importMemory(store, file)).rejects.toMatchObject({ name: 'StorageError', kind: 'unavailable' });
    vi.restoreAllMocks();
    expect((await store.usage()).totalBytes).toBe(0);
    expect(await store.getEmbedding('s0', sha(1))).toBeUndefined();
    expect(await store.getPage('https://a.test/')).toBeUndefined();
  });
});
