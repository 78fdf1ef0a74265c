// The public entry points: storing a model, reading it back without network, one download at a
// time per model and store, and replacing files the repo changed.

import { randomBytes } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { collect, ensureAndRead, expectBytes, expectMonotonic, fast, rejection, testSpec, useFakeHub } from './fake-hub.ts';
import { deleteModel, ensureModelStored, isModelStored, readStoredFile, readStoredModel } from './model-files.ts';
import { MemoryModelStore } from './store.ts';

const hub = useFakeHub();

describe('ensureModelStored and readStoredModel', () => {
  it('downloads, verifies and stores a model, then serves it from the store without network', async () => {
    const served = hub.serveModel('t/good');
    const spec = testSpec('t/good');
    const store = new MemoryModelStore();
    const { events, onProgress } = collect();

    await ensureModelStored(spec, { backend: 'wasm', baseUrl: hub.base, store, onProgress, ...fast });
    const got = await readStoredModel(spec, 'wasm', { store });
    expectBytes(got.vision.model, served.vision);
    expect(got.vision.externalData).toBeUndefined();
    expectBytes(got.text.model, served.text);
    expectBytes(got.tokenizer, served.tokenizer);
    expectMonotonic(events);
    expect(events.at(-1)!.total).toBe(served.vision.length + served.text.length + served.tokenizer.length);
    // LFS downloads went through the redirect, as on the Hub.
    expect(hub.log.some((l) => l.status === 302)).toBe(true);
    expect(await isModelStored(spec, 'wasm', { store })).toBe(true);
    expect(await isModelStored(spec, 'webgpu', { store })).toBe(false);

    const requestsBefore = hub.log.length;
    const again = await ensureAndRead(spec, { backend: 'wasm', baseUrl: hub.base, store, ...fast });
    expect(hub.log.length).toBe(requestsBefore);
    expectBytes(again.vision.model, served.vision);

    // One file alone (the tokenizer a context needs without the graphs), also without network.
    expectBytes(await readStoredFile(spec, spec.files.tokenizer, { store }), served.tokenizer);
    expect(hub.log.length).toBe(requestsBefore);

    await deleteModel(spec, { store });
    expect(await store.keys()).toEqual([]);
    expect((await rejection(readStoredFile(spec, spec.files.tokenizer, { store }))).code).toBe('missing');
  });

  it('reads only what is stored: a model never stored, or one whose file changed size, is an error', async () => {
    const served = hub.serveModel('t/unstored');
    const spec = testSpec('t/unstored');
    const store = new MemoryModelStore();
    const err = await rejection(readStoredModel(spec, 'wasm', { store }));
    expect(err.code).toBe('missing');
    expect(err.message).toBe('t/unstored is not in the model cache');
    expect(hub.log).toHaveLength(0); // reading never downloads

    await ensureModelStored(spec, { backend: 'wasm', baseUrl: hub.base, store, ...fast });
    await store.put('t-unstored@main/onnx/text_model_quantized.onnx', served.text.subarray(1));
    expect(await isModelStored(spec, 'wasm', { store })).toBe(false);
    expect((await rejection(readStoredModel(spec, 'wasm', { store }))).code).toBe('missing');
    // ensureModelStored notices the same and fetches the file again.
    await ensureModelStored(spec, { backend: 'wasm', baseUrl: hub.base, store, ...fast });
    expectBytes((await readStoredModel(spec, 'wasm', { store })).text.model, served.text);
    expect(hub.requestsFor('onnx/text_model_quantized.onnx')).toHaveLength(2);
  });

  it('runs concurrent calls for one model one after the other, downloading once', async () => {
    const served = hub.serveModel('t/concurrent');
    const spec = testSpec('t/concurrent');
    const store = new MemoryModelStore();
    const [a, b] = await Promise.all([
      ensureAndRead(spec, { backend: 'wasm', baseUrl: hub.base, store, ...fast, flushBytes: 4096 }),
      ensureAndRead(spec, { backend: 'wasm', baseUrl: hub.base, store, ...fast, flushBytes: 4096 }),
    ]);
    expectBytes(a.vision.model, served.vision);
    expectBytes(b.vision.model, served.vision);
    expect(hub.requestsFor('onnx/vision_model.onnx')).toHaveLength(1);
  });

  it('replaces a stored file when the repo publishes a new version', async () => {
    hub.serveModel('t/update');
    const spec = testSpec('t/update');
    const store = new MemoryModelStore();
    await ensureModelStored(spec, { backend: 'wasm', baseUrl: hub.base, store, ...fast });
    const newer = hub.serve('t/update', 'onnx/vision_model.onnx', randomBytes(1234));
    await store.delete('t-update@main/manifest.json'); // forget the bookkeeping: forces the listing check
    const got = await ensureAndRead(spec, { backend: 'wasm', baseUrl: hub.base, store, ...fast });
    expectBytes(got.vision.model, newer);
    // Unchanged files were not fetched again.
    expect(hub.requestsFor('onnx/text_model_quantized.onnx')).toHaveLength(1);
  });
});
