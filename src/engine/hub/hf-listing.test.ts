// What the tree listing tells the download: external-data files next to a graph, pages joined by
// `Link: rel="next"`, and hosts without a tree API (plain mirrors).

import { randomBytes } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { collect, ensureAndRead, expectBytes, expectMonotonic, fast, testSpec, useFakeHub } from './fake-hub.ts';
import { externalDataFor, listFiles } from './hf-listing.ts';
import { resolve } from './options.ts';
import { MemoryModelStore } from './store.ts';

const hub = useFakeHub();

describe('tree listing', () => {
  it('returns external-data files listed next to a graph', async () => {
    const served = hub.serveModel('t/extdata');
    const visionData = hub.serve('t/extdata', 'onnx/vision_model.onnx_data', randomBytes(70_000));
    const textData = hub.serve('t/extdata', 'onnx/text_model_quantized.onnx.data', randomBytes(30_000));
    hub.serve('t/extdata', 'onnx/unrelated.onnx_data', randomBytes(10)); // must not be fetched
    const store = new MemoryModelStore();
    const { events, onProgress } = collect();
    const spec = testSpec('t/extdata');
    const got = await ensureAndRead(spec, { backend: 'wasm', baseUrl: hub.base, store, onProgress, ...fast });
    expectBytes(got.vision.model, served.vision);
    expect(got.vision.externalData?.map((e) => e.path)).toEqual(['vision_model.onnx_data']);
    expectBytes(got.vision.externalData![0].data, visionData);
    expect(got.text.externalData?.map((e) => e.path)).toEqual(['text_model_quantized.onnx.data']);
    expectBytes(got.text.externalData![0].data, textData);
    expect(hub.requestsFor('unrelated.onnx_data')).toHaveLength(0);
    expectMonotonic(events);

    // From the store, without network, the external data comes back too.
    const n = hub.log.length;
    const again = await ensureAndRead(spec, { backend: 'wasm', baseUrl: hub.base, store, ...fast });
    expect(hub.log.length).toBe(n);
    expect(again.vision.externalData?.map((e) => e.path)).toEqual(['vision_model.onnx_data']);
    expectBytes(again.vision.externalData![0].data, visionData);
  });

  it('works without a tree API, checking sizes from the headers', async () => {
    const served = hub.serveModel('t/noapi');
    const store = new MemoryModelStore();
    // A fetch that answers 404 for the API, like a plain static mirror.
    const mirror: typeof fetch = (input, init) => {
      const url = String(input);
      return url.includes('/api/models/') ? Promise.resolve(new Response('no api', { status: 404 })) : fetch(input, init);
    };
    const { events, onProgress } = collect();
    const got = await ensureAndRead(testSpec('t/noapi'), { backend: 'wasm', baseUrl: hub.base, store, onProgress, fetch: mirror, ...fast });
    expectBytes(got.text.model, served.text);
    expectMonotonic(events);
  });

  it('follows Link rel="next" across pages of a directory', async () => {
    const pages: Record<string, { entries: unknown[]; link?: string }> = {
      '/api/models/t/paged/tree/main/onnx': {
        entries: [{ type: 'file', path: 'onnx/a.onnx', size: 10, oid: 'AB12' }],
        link: '</api/models/t/paged/tree/main/onnx?cursor=2>; rel="next"',
      },
      '/api/models/t/paged/tree/main/onnx?cursor=2': {
        entries: [
          { type: 'directory', path: 'onnx/sub' },
          { type: 'file', path: 'onnx/a.onnx_data', size: 20, oid: 'x', lfs: { oid: 'CD34', size: 20 } },
        ],
      },
    };
    const asked: string[] = [];
    const fetchPages: typeof fetch = async (input) => {
      const url = new URL(String(input));
      asked.push(url.pathname + url.search);
      const page = pages[url.pathname + url.search];
      if (!page) return new Response('not found', { status: 404 });
      return new Response(JSON.stringify(page.entries), { headers: page.link ? { link: page.link } : {} });
    };
    const r = resolve(testSpec('t/paged'), { store: new MemoryModelStore(), baseUrl: 'http://hub.test', fetch: fetchPages });
    const listing = await listFiles(['onnx/a.onnx'], r, undefined);
    expect(asked).toEqual(Object.keys(pages));
    expect(listing).toEqual(
      new Map([
        ['onnx/a.onnx', { size: 10, gitOid: 'ab12' }],
        ['onnx/a.onnx_data', { size: 20, sha256: 'cd34' }],
      ]),
    );
    expect(externalDataFor('onnx/a.onnx', listing!)).toEqual(['onnx/a.onnx_data']);
  });

  it('finds external data under every exporter naming, shards in numeric order', () => {
    const listing = new Map(
      ['m.onnx', 'm.onnx.data', 'm.bin', 'm.onnx_data_10', 'm.onnx_data_2', 'm.onnx_data_x', 'other.onnx_data'].map((p) => [p, {}]),
    );
    expect(externalDataFor('m.onnx', listing)).toEqual(['m.onnx.data', 'm.bin', 'm.onnx_data_2', 'm.onnx_data_10']);
  });
});
