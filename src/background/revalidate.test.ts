import 'fake-indexeddb/auto';
import { describe, expect, it, vi } from 'vitest';

vi.mock('webextension-polyfill', () => ({ default: {} }));
const { conditionalHeaders, revalidate } = await import('./revalidate');
const { EmbeddingPipeline } = await import('./embedding-pipeline');
const { ImageFetchError, NotModifiedError } = await import('./image-bytes');
const { TabState } = await import('./tabs');
const { storeFor, dropPrivateStore } = await import('../store/stores');
const { URL_FRESH_MS } = await import('../store/db');
const { getModel } = await import('../engine/registry');
import { sha256Hex } from '../bytes';
import { l2normalize } from '../engine/similarity';
import type { FetchedImage } from './image-bytes';
import type { LoadedModel } from './engine-host';

const bytesOf = (n: number) => Uint8Array.from([n, 255 - n, n, 1]);
const fetchedOf = (bytes: Uint8Array, etag: string | null = '"v1"'): FetchedImage => ({
  blob: new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'image/png' }),
  bytes,
  etag,
  lastModified: null,
});

describe('conditional requests', () => {
  it('sends the validators it has, and nothing without one', () => {
    expect(conditionalHeaders({ etag: '"a"', lastModified: 'Mon, 01 Jan 2024 00:00:00 GMT' })).toEqual({
      'If-None-Match': '"a"',
      'If-Modified-Since': 'Mon, 01 Jan 2024 00:00:00 GMT',
    });
    expect(conditionalHeaders({ etag: null, lastModified: null })).toBeNull();
  });

  it('tells unchanged (304), changed (new bytes) and unknown apart', async () => {
    const record = { url: 'https://a.test/i.png', sha256: 'x', etag: '"v1"', lastModified: null, size: 4, fetchedAt: 0 };
    const seen: Record<string, string>[] = [];
    const answer = (outcome: () => FetchedImage) => ({
      fetchImage: async (_url: string, options: { headers?: Record<string, string> } = {}) => {
        seen.push(options.headers ?? {});
        return outcome();
      },
    });
    expect(await revalidate(record, { url: record.url }, answer(() => { throw new NotModifiedError('HTTP 304'); }))).toEqual({ kind: 'unchanged' });
    expect(seen[0]).toEqual({ 'If-None-Match': '"v1"' });
    const changed = await revalidate(record, { url: record.url }, answer(() => fetchedOf(bytesOf(2), '"v2"')));
    expect(changed.kind).toBe('fetched');
    expect(await revalidate(record, { url: record.url }, answer(() => { throw new ImageFetchError('HTTP 403'); }))).toMatchObject({ kind: 'unknown' });
    expect(await revalidate({ ...record, etag: null }, { url: record.url }, answer(() => fetchedOf(bytesOf(3))))).toMatchObject({ kind: 'unknown' });
    expect(seen).toHaveLength(3); // no request without a validator
  });
});

describe('pipeline revisits', () => {
  const spec = getModel('fixture')!;
  function pipelineWith(revalidation: 'unchanged' | 'none') {
    const loads: string[] = [];
    const revalidations: string[] = [];
    const runs: number[] = [];
    const engine = {
      async embedImages(_pixels: Float32Array, count: number) {
        runs.push(count);
        return Array.from({ length: count }, () => l2normalize(Float32Array.from({ length: spec.embedDim }, (_, d) => (d === 0 ? 1 : 0.1))));
      },
    };
    const model = { spec, engine } as unknown as LoadedModel;
    const pipeline = new EmbeddingPipeline({
      model: async () => model,
      async loadBytes({ url }) {
        loads.push(url);
        return fetchedOf(bytesOf(7));
      },
      prepare: async () => ({ pixels: new Float32Array(3 * spec.imageSize * spec.imageSize).fill(9 / 255), preview: null }),
      revalidate: async (record) => {
        revalidations.push(record.url);
        return revalidation === 'unchanged' ? { kind: 'unchanged' } : { kind: 'unknown', reason: 'test' };
      },
    });
    return { pipeline, loads, revalidations, runs };
  }

  it('a stale address whose server answers 304 is answered from the store without a download', async () => {
    const url = 'https://revisit.test/a.png';
    const first = pipelineWith('unchanged');
    expect(await first.pipeline.embed({ url })).toMatchObject({ source: 'model' });
    const store = storeFor(false);
    const record = (await store.getUrl(url))!;
    expect(record).toMatchObject({ sha256: await sha256Hex(bytesOf(7)), etag: '"v1"' });
    // Past the freshness window: the next visit asks the server.
    await store.putUrl({ ...record, fetchedAt: Date.now() - URL_FRESH_MS - 1000 });
    const again = pipelineWith('unchanged');
    expect(await again.pipeline.embed({ url })).toMatchObject({ source: 'cache' });
    expect(again.revalidations).toEqual([url]);
    expect(again.loads).toEqual([]);
    expect(again.runs).toEqual([]);
    expect(Date.now() - (await store.getUrl(url))!.fetchedAt).toBeLessThan(5000);
    // Within the window: no request at all.
    const fresh = pipelineWith('unchanged');
    await fresh.pipeline.embed({ url });
    expect(fresh.revalidations).toEqual([]);
    expect(fresh.loads).toEqual([]);
  });

  it('private tabs write to the in-memory store only', async () => {
    const url = 'https://private.test/p.png';
    const tab = new TabState(9, 'https://private.test/', true);
    const { pipeline } = pipelineWith('none');
    await pipeline.embed({ url, tab });
    expect(await storeFor(true).getUrl(url)).toBeDefined();
    expect(await storeFor(false).getUrl(url)).toBeUndefined();
    dropPrivateStore();
    expect(await storeFor(true).getUrl(url)).toBeUndefined();
  });
});
