// The model list's view of the store: absent, partly downloaded after a cancel (bytes kept and
// resumed), complete with its measured disk use, and removed without touching other models.

import { describe, expect, it } from 'vitest';

import { ensureModelStored } from './model-files.ts';
import { fast, testSpec, useFakeHub } from './fake-hub.ts';
import { removeStoredModel, storedModel } from './inventory.ts';
import { MemoryModelStore } from './store.ts';

const hub = useFakeHub();

describe('inventory', () => {
  it('a cancelled download keeps its bytes, resumes, and the complete model is measured and removable', async () => {
    const spec = testSpec('t/inventory');
    const other = testSpec('t/other');
    const served = hub.serveModel(spec.repo, { vision: 100_000, text: 500 });
    hub.serveModel(other.repo, { vision: 1_000, text: 500 });
    hub.serve(spec.repo, 'onnx/vision_model.onnx', served.vision, { behaviour: { kind: 'stall', at: 40_000 } });
    const store = new MemoryModelStore();
    const base = { backend: 'wasm' as const, baseUrl: hub.base, store, ...fast, flushBytes: 8 * 1024 };

    expect(await storedModel(spec, 'wasm', { store })).toEqual({ complete: false, diskBytes: 0 });

    // Cancel once the server has sent what it will: the reason the caller gave comes back.
    const cancel = new AbortController();
    const cancelled = new Error('cancelled by the person');
    const download = ensureModelStored(spec, {
      ...base,
      signal: cancel.signal,
      onProgress: (p) => {
        if (p.file === 'onnx/vision_model.onnx' && p.fileLoaded >= 40_000) cancel.abort(cancelled);
      },
    });
    await expect(download).rejects.toBe(cancelled);
    const partial = await storedModel(spec, 'wasm', { store });
    expect(partial.complete).toBe(false);
    expect(partial.diskBytes).toBeGreaterThanOrEqual(40_000);

    // The next download asks only for the rest.
    hub.serve(spec.repo, 'onnx/vision_model.onnx', served.vision);
    await ensureModelStored(spec, base);
    expect(hub.requestsFor('onnx/vision_model.onnx').at(-1)!.range).toBe(`bytes=${partial.diskBytes}-`);
    await ensureModelStored(other, base);

    const whole = await storedModel(spec, 'wasm', { store });
    const files = served.vision.length + served.text.length + served.tokenizer.length;
    const manifest = (await store.get(`${spec.id}@main/manifest.json`))!.length;
    expect(whole).toEqual({ complete: true, diskBytes: files + manifest });

    await removeStoredModel(spec, { store });
    expect(await storedModel(spec, 'wasm', { store })).toEqual({ complete: false, diskBytes: 0 });
    expect((await storedModel(other, 'wasm', { store })).complete).toBe(true);
  });
});
