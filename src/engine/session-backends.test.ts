// What ClipEngine's own towers add to the backend policy, against a fake ORT module: the lock
// per ORT module, a separate module for WASM, the adapter chosen before ORT's, batching, the
// WASM thread count. The policy's rules themselves: backend-policy.test.ts. Real models on
// real runtimes: session.test.ts and e2e/parity.test.ts.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClipEngine } from './session.ts';
import type { ModelBytes } from './types.ts';
import { adapter, BACKEND_CODE, decode, deferred, fakeOrt, files, images, spec, TEXT, tokenizer, VISION, withGpu } from './testing/fakes.ts';

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('WebGPU on the towers of this context', () => {
  it('chooses the adapter before ORT does and records fp16 shader support', async () => {
    withGpu();
    const fake = fakeOrt();
    const engine = await ClipEngine.create({ spec, ort: fake.ort, loadFiles: files, tokenizer });
    expect(fake.env.webgpu.adapter).toBe(adapter); // ORT builds its device from this adapter
    expect(await engine.settled()).toBe('webgpu');
    expect(engine.info.shaderF16).toBe(true);
    expect(engine.info.openMs.webgpu).toBeGreaterThanOrEqual(0);
    await engine.dispose();
  });

  it('never overlaps two runs in one ORT module, even across backends', async () => {
    withGpu();
    const fake = fakeOrt({ gpuRun: () => new Promise((r) => setTimeout(r, 5)), gpuFails: false });
    const engine = await ClipEngine.create({ spec, ort: fake.ort, loadFiles: files, tokenizer });
    // Requests race the WebGPU warm-up and the switch; the fake throws if runs overlap.
    const results = await Promise.all([
      engine.embedImages(images(1, 2, 3), 3),
      engine.embedTexts(['ab', 'abc']),
      engine.settled().then(() => engine.embedImages(images(4), 1)),
      engine.embedTexts(['abcd']),
    ]);
    expect(results[0].map((r) => decode(r)[1])).toEqual([1, 2, 3]);
    expect(results[1].map((r) => decode(r)[1])).toEqual([2, 3]);
    expect(decode(results[2][0])).toEqual([BACKEND_CODE.webgpu, 4, VISION, 1]);
    expect(decode(results[3][0])[1]).toBe(4);
    await engine.dispose();
  });

  it('with a separate wasmOrt, WASM answers while a WebGPU run is in flight', async () => {
    withGpu();
    const compile = deferred();
    const gpuFake = fakeOrt({ gpuRun: () => compile.promise, gpuFails: false });
    const wasmFake = fakeOrt();
    const engine = await ClipEngine.create({ spec, ort: gpuFake.ort, wasmOrt: wasmFake.ort, loadFiles: files, tokenizer });
    expect(wasmFake.created).toEqual(['wasm:vision', 'wasm:text']);
    expect(gpuFake.created.every((c) => c.startsWith('webgpu:'))).toBe(true);
    const [row] = await engine.embedTexts(['abc']); // the WebGPU warm-up is still blocked
    expect(decode(row)).toEqual([BACKEND_CODE.wasm, 3, TEXT, 1]);
    compile.resolve();
    expect(await engine.settled()).toBe('webgpu');
    await engine.dispose();
  });

  it('with one module, WebGPU sessions wait for WASM, and a WASM request waits for the in-flight WebGPU run', async () => {
    withGpu();
    const compile = deferred();
    const fake = fakeOrt({ gpuRun: () => compile.promise, gpuFails: false });
    const engine = await ClipEngine.create({ spec, ort: fake.ort, loadFiles: files, tokenizer });
    expect(fake.created.slice(0, 2)).toEqual(['wasm:vision', 'wasm:text']);
    await vi.waitFor(() => expect(fake.runs.some((r) => r.backend === 'webgpu')).toBe(true));
    let answered = false;
    const pending = engine.embedTexts(['abc']).then((rows) => ((answered = true), rows));
    await new Promise((r) => setTimeout(r, 20));
    expect(answered).toBe(false);
    compile.resolve();
    expect(decode((await pending)[0])[0]).toBe(BACKEND_CODE.wasm); // chosen when the request arrived
    await engine.dispose();
  });

  it('stays on WASM without navigator.gpu, and says why', async () => {
    const fake = fakeOrt();
    const reasons: string[] = [];
    const engine = await ClipEngine.create({ spec, ort: fake.ort, loadFiles: files, tokenizer, onBackendChange: (_b, reason) => reasons.push(reason) });
    expect(await engine.settled()).toBe('wasm');
    expect(reasons).toEqual(['WebGPU not available (no navigator.gpu)']);
    expect(fake.created).toEqual(['wasm:vision', 'wasm:text']);
    await engine.dispose();
  });
});

describe('batching and lifecycle', () => {
  it('splits requests into runs of at most maxBatch, keeping order', async () => {
    const fake = fakeOrt();
    const engine = await ClipEngine.create({ spec, ort: fake.ort, loadFiles: files, tokenizer, prefer: 'wasm', maxBatch: 2 });
    fake.runs.length = 0;
    const rows = await engine.embedImages(images(1, 2, 3, 4, 5), 5);
    expect(rows.map((r) => decode(r)[1])).toEqual([1, 2, 3, 4, 5]);
    expect(fake.runs.map((r) => r.batch)).toEqual([2, 2, 1]);
    const texts = await engine.embedTexts(['a', 'bb', 'ccc']);
    expect(texts.map((r) => decode(r)[1])).toEqual([1, 2, 3]);
    await engine.dispose();
  });

  it('sets the WASM thread count before the first session and reports it', async () => {
    const fake = fakeOrt();
    const engine = await ClipEngine.create({ spec, ort: fake.ort, loadFiles: files, tokenizer, prefer: 'wasm', wasmThreads: 3 });
    expect(fake.env.wasm.numThreads).toBe(3);
    expect(engine.threads).toBe(3);
    await engine.dispose();
  });

  it('rejects a pixel buffer that does not match the count without touching a backend', async () => {
    const fake = fakeOrt();
    const engine = await ClipEngine.create({ spec, ort: fake.ort, loadFiles: files, tokenizer, prefer: 'wasm' });
    fake.runs.length = 0;
    await expect(engine.embedImages(images(1, 2), 1)).rejects.toThrow(RangeError);
    expect(fake.runs).toEqual([]);
    await engine.dispose();
  });

  it('textFirst: ready with the text tower alone; the vision tower opens with the first images, once', async () => {
    const fake = fakeOrt();
    const engine = await ClipEngine.create({ spec, ort: fake.ort, loadFiles: files, tokenizer, prefer: 'wasm', textFirst: true });
    expect(fake.created).toEqual(['wasm:text']);
    expect(decode((await engine.embedTexts(['abc']))[0])).toEqual([BACKEND_CODE.wasm, 3, TEXT, 1]);
    expect(fake.created).toEqual(['wasm:text']);
    const [first, second] = await Promise.all([engine.embedImages(images(5), 1), engine.embedImages(images(6), 1)]);
    expect([decode(first[0])[1], decode(second[0])[1]]).toEqual([5, 6]);
    expect(fake.created).toEqual(['wasm:text', 'wasm:vision']);
    // No warm-up run of its own: the images that opened it were its first run.
    expect(fake.runs.filter((r) => r.tower === 'vision').map((r) => r.batch)).toEqual([1, 1]);
    await engine.dispose();
    expect([...fake.released].sort()).toEqual(['wasm:text', 'wasm:vision']);
  });

  it('textFirst: the vision opening is announced as it starts, settling once the session is open, and again after a failed one', async () => {
    const fake = fakeOrt();
    const read = await files();
    let reads = 0;
    const vision = async (): Promise<ModelBytes> => {
      if (++reads === 1) throw new Error('the vision graph is not in the model cache');
      return read.vision;
    };
    const openings: { createdBefore: string[]; outcome?: string; createdAfter?: string[] }[] = [];
    const onVisionOpening = (opening: Promise<unknown>) => {
      const seen: (typeof openings)[number] = { createdBefore: [...fake.created] };
      openings.push(seen);
      opening.then(
        () => ((seen.outcome = 'open'), (seen.createdAfter = [...fake.created])),
        (error: Error) => ((seen.outcome = error.message), (seen.createdAfter = [...fake.created])),
      );
    };
    const engine = await ClipEngine.create({ spec, ort: fake.ort, loadFiles: async () => ({ text: read.text, vision }), tokenizer, prefer: 'wasm', textFirst: true, onVisionOpening });
    await engine.embedTexts(['abc']);
    expect(openings).toEqual([]);
    await expect(engine.embedImages(images(5), 1)).rejects.toThrow('not in the model cache');
    await engine.embedImages(images(6), 1);
    await engine.embedImages(images(7), 1);
    expect(openings).toEqual([
      { createdBefore: ['wasm:text'], outcome: 'the vision graph is not in the model cache', createdAfter: ['wasm:text'] },
      { createdBefore: ['wasm:text'], outcome: 'open', createdAfter: ['wasm:text', 'wasm:vision'] },
    ]);
    await engine.dispose();
  });

  it('textFirst with the vision graph given as its reader: read with the first images; a failed read is read again', async () => {
    const fake = fakeOrt();
    const read = await files();
    const reads: string[] = [];
    const vision = async (): Promise<ModelBytes> => {
      reads.push('vision');
      if (reads.length === 1) throw new Error('the vision graph is not in the model cache');
      return read.vision;
    };
    const engine = await ClipEngine.create({ spec, ort: fake.ort, loadFiles: async () => ({ text: read.text, vision }), tokenizer, prefer: 'wasm', textFirst: true });
    expect(decode((await engine.embedTexts(['abc']))[0])[1]).toBe(3);
    expect(reads).toEqual([]);
    await expect(engine.embedImages(images(5), 1)).rejects.toThrow('not in the model cache');
    expect(fake.created).toEqual(['wasm:text']);
    expect(decode((await engine.embedImages(images(6), 1))[0])[1]).toBe(6);
    expect(reads).toEqual(['vision', 'vision']);
    expect(fake.created).toEqual(['wasm:text', 'wasm:vision']);
    await engine.dispose();
  });

  it('a tokenizer given as a loader is asked for when a text first runs here (the warm-up), not before', async () => {
    const fake = fakeOrt();
    let loads = 0;
    const engine = await ClipEngine.create({ spec, ort: fake.ort, loadFiles: files, tokenizer: async () => (loads++, tokenizer), prefer: 'wasm', textFirst: true });
    expect(loads).toBe(1);
    expect(decode((await engine.embedTexts(['abc']))[0])[1]).toBe(3);
    await engine.dispose();
  });

  it('releaseFiles: each graph is freed once its session is open, the vision graph only when it opens', async () => {
    const fake = fakeOrt();
    const given: Awaited<ReturnType<typeof files>>[] = [];
    const loadFiles: typeof files = async (backend) => {
      const read = await files(backend);
      given.push(read);
      return read;
    };
    const engine = await ClipEngine.create({ spec, ort: fake.ort, loadFiles, tokenizer, prefer: 'wasm', textFirst: true, releaseFiles: true });
    expect(given).toHaveLength(1);
    expect(given[0].text.model.length).toBe(0);
    expect(given[0].vision.model.length).toBe(1); // still to be opened
    expect(decode((await engine.embedImages(images(5), 1))[0])[1]).toBe(5);
    expect(given[0].vision.model.length).toBe(0);
    await engine.dispose();
  });

  it('without releaseFiles the bytes stay the caller\'s, intact', async () => {
    const fake = fakeOrt();
    const read = await files('wasm');
    const engine = await ClipEngine.create({ spec, ort: fake.ort, loadFiles: async () => read, tokenizer, prefer: 'wasm' });
    await engine.embedImages(images(1), 1);
    expect([read.vision.model.length, read.text.model.length]).toEqual([1, 1]);
    await engine.dispose();
  });

  it('releases every session on dispose, including the WASM fallback kept under WebGPU', async () => {
    withGpu();
    const fake = fakeOrt();
    const engine = await ClipEngine.create({ spec, ort: fake.ort, loadFiles: files, tokenizer });
    await engine.settled();
    await engine.dispose();
    expect([...fake.released].sort()).toEqual(['wasm:text', 'wasm:vision', 'webgpu:text', 'webgpu:vision']);
    await expect(engine.embedImages(images(1), 1)).rejects.toThrow(/disposed/);
  });
});
