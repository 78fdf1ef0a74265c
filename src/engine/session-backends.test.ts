// Backend choice, switching and fallback of ClipEngine, against a fake ORT module. WebGPU
// does not exist in Node, and the interesting cases (slow warm-up, a run failing, a device
// lost) cannot be provoked on demand in a real browser; the fake imitates the ORT behaviour
// the engine relies on, including onnxruntime-web's "Session already started" error when
// two runs overlap in one module. Real models on real runtimes: session.test.ts and
// e2e/parity.test.ts.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClipEngine, type EngineInit, type OrtModule } from './session.ts';
import type { Backend, ModelSpec } from './types.ts';

const spec: ModelSpec = {
  id: 'fake',
  label: 'Fake',
  repo: 'local/fake',
  imageSize: 2,
  embedDim: 3,
  logitScale: 100,
  contextLength: 4,
  files: { vision: { wasm: 'v', webgpu: 'v' }, text: { wasm: 't', webgpu: 't' }, tokenizer: 'bpe' },
};
const PER_IMAGE = 3 * 2 * 2;
const VISION = 1;
const TEXT = 2;
const BACKEND_CODE: Record<Backend, number> = { wasm: 1, webgpu: 2 };

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

interface FakeControl {
  /** Awaited inside every WebGPU run (the first one stands for shader compilation). */
  gpuRun: () => Promise<void>;
  gpuFails: boolean;
}

/**
 * An ORT look-alike. Each output row is [backend code, first input value of the row, tower],
 * so tests can see which backend and which input produced it.
 */
function fakeOrt(control: FakeControl) {
  const env = { versions: { common: '1.30.0', web: '1.30.0' }, wasm: {} as { numThreads?: number }, webgpu: {} as Record<string, unknown> };
  const lost = deferred<{ reason: string; message: string }>();
  const device = { features: new Set(['shader-f16']), lost: lost.promise };
  const created: string[] = [];
  const released: string[] = [];
  const runs: { backend: Backend; tower: string; batch: number }[] = [];
  let running = false;

  class Tensor {
    constructor(
      readonly type: string,
      readonly data: Float32Array | BigInt64Array,
      readonly dims: number[],
    ) {}
    dispose(): void {}
  }

  const InferenceSession = {
    async create(model: Uint8Array, options: { executionProviders: (string | { name: string })[] }) {
      const ep = options.executionProviders[0];
      const backend = (typeof ep === 'string' ? ep : ep.name) as Backend;
      const tower = model[0] === VISION ? 'vision' : 'text';
      const input = tower === 'vision' ? 'pixel_values' : 'input_ids';
      const output = tower === 'vision' ? 'image_embeds' : 'text_embeds';
      if (backend === 'webgpu') env.webgpu.device ??= device; // as ORT's JSEP backend does
      created.push(`${backend}:${tower}`);
      return {
        inputNames: [input],
        outputNames: [output],
        inputMetadata: [],
        async run(feeds: Record<string, Tensor>) {
          if (running) throw new Error('Session already started');
          running = true;
          try {
            const x = feeds[input];
            const n = x.dims[0];
            runs.push({ backend, tower, batch: n });
            if (backend === 'webgpu') {
              await control.gpuRun();
              if (control.gpuFails) throw new Error('GPU validation error');
            }
            const per = x.data.length / n;
            const out = new Float32Array(n * 3);
            for (let i = 0; i < n; i++) out.set([BACKEND_CODE[backend], Number(x.data[i * per]), model[0]], i * 3);
            return { [output]: new Tensor('float32', out, [n, 3]) };
          } finally {
            running = false;
          }
        },
        async release() {
          released.push(`${backend}:${tower}`);
        },
      };
    },
  };
  const ort = { env, Tensor, InferenceSession } as unknown as OrtModule;
  return { ort, env, created, released, runs, loseDevice: (reason: string) => lost.resolve({ reason, message: 'gone' }) };
}

const files: EngineInit['loadFiles'] = async () => ({
  vision: { model: Uint8Array.of(VISION) },
  text: { model: Uint8Array.of(TEXT) },
});
// Token ids: the text length first, so rows can be told apart.
const tokenizer = {
  tokenizeBatch: (texts: string[], ctx = 4) => {
    const ids = new BigInt64Array(texts.length * ctx);
    texts.forEach((t, i) => (ids[i * ctx] = BigInt(t.length)));
    return ids;
  },
};

function images(...firstValues: number[]): Float32Array {
  const px = new Float32Array(firstValues.length * PER_IMAGE);
  firstValues.forEach((v, i) => (px[i * PER_IMAGE] = v));
  return px;
}

const adapter = { features: new Set(['shader-f16']) };
function withGpu(requestAdapter: () => Promise<unknown> = async () => adapter) {
  vi.stubGlobal('navigator', { gpu: { requestAdapter } });
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('auto', () => {
  it('answers from WASM at once and switches to WebGPU once warm', async () => {
    withGpu();
    const compile = deferred();
    const fake = fakeOrt({ gpuRun: () => compile.promise, gpuFails: false });
    const changes: [Backend, string][] = [];
    const engine = await ClipEngine.create({ spec, ort: fake.ort, loadFiles: files, tokenizer, onBackendChange: (b, r) => changes.push([b, r]) });
    expect(engine.backend).toBe('wasm');
    expect(changes).toEqual([['wasm', expect.stringMatching(/WebGPU warming up/)]]);
    expect(fake.env.webgpu.adapter).toBe(adapter); // ORT builds its device from this adapter

    compile.resolve();
    expect(await engine.settled()).toBe('webgpu');
    expect(changes[1]).toEqual(['webgpu', expect.stringMatching(/WebGPU warmed up in \d+ ms/)]);
    expect(engine.info.shaderF16).toBe(true);
    const [row] = await engine.embedImages(images(7), 1);
    expect(Array.from(row)).toEqual([BACKEND_CODE.webgpu, 7, VISION]);
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
    expect(results[0].map((r) => r[1])).toEqual([1, 2, 3]);
    expect(results[1].map((r) => r[1])).toEqual([2, 3]);
    expect(Array.from(results[2][0])).toEqual([BACKEND_CODE.webgpu, 4, VISION]);
    expect(results[3][0][1]).toBe(4);
    await engine.dispose();
  });

  it('with a separate wasmOrt, WASM answers while a WebGPU run is in flight', async () => {
    withGpu();
    const compile = deferred();
    const gpuFake = fakeOrt({ gpuRun: () => compile.promise, gpuFails: false });
    const wasmFake = fakeOrt({ gpuRun: async () => undefined, gpuFails: false });
    const engine = await ClipEngine.create({ spec, ort: gpuFake.ort, wasmOrt: wasmFake.ort, loadFiles: files, tokenizer });
    expect(wasmFake.created).toEqual(['wasm:vision', 'wasm:text']);
    expect(gpuFake.created.every((c) => c.startsWith('webgpu:'))).toBe(true);
    const [row] = await engine.embedTexts(['abc']); // the WebGPU warm-up is still blocked
    expect(Array.from(row)).toEqual([BACKEND_CODE.wasm, 3, TEXT]);
    compile.resolve();
    expect(await engine.settled()).toBe('webgpu');
    await engine.dispose();
  });

  it('with one module, a WASM request waits for the in-flight WebGPU run', async () => {
    withGpu();
    const compile = deferred();
    const fake = fakeOrt({ gpuRun: () => compile.promise, gpuFails: false });
    const engine = await ClipEngine.create({ spec, ort: fake.ort, loadFiles: files, tokenizer });
    await vi.waitFor(() => expect(fake.runs.some((r) => r.backend === 'webgpu')).toBe(true));
    let answered = false;
    const pending = engine.embedTexts(['abc']).then((rows) => ((answered = true), rows));
    await new Promise((r) => setTimeout(r, 20));
    expect(answered).toBe(false);
    compile.resolve();
    expect((await pending)[0][0]).toBe(BACKEND_CODE.wasm); // chosen when the request arrived
    await engine.dispose();
  });

  it('stays on WASM without navigator.gpu', async () => {
    const fake = fakeOrt({ gpuRun: async () => undefined, gpuFails: false });
    const engine = await ClipEngine.create({ spec, ort: fake.ort, loadFiles: files, tokenizer });
    expect(await engine.settled()).toBe('wasm');
    expect(fake.created).toEqual(['wasm:vision', 'wasm:text']);
    await engine.dispose();
  });
});

describe('falling back to WASM', () => {
  it('retries a failed WebGPU run on WASM and never returns to WebGPU', async () => {
    withGpu();
    const control = { gpuRun: async () => undefined, gpuFails: false };
    const fake = fakeOrt(control);
    const changes: [Backend, string][] = [];
    const engine = await ClipEngine.create({ spec, ort: fake.ort, loadFiles: files, tokenizer, prefer: 'webgpu', onBackendChange: (b, r) => changes.push([b, r]) });
    expect(engine.backend).toBe('webgpu');
    expect(fake.created).toEqual(['webgpu:vision', 'webgpu:text']); // no WASM sessions until needed

    control.gpuFails = true;
    const rows = await engine.embedImages(images(5, 6), 2);
    expect(rows.map((r) => Array.from(r))).toEqual([
      [BACKEND_CODE.wasm, 5, VISION],
      [BACKEND_CODE.wasm, 6, VISION],
    ]);
    expect(engine.backend).toBe('wasm');
    expect(engine.info.webgpuFailure).toMatch(/WebGPU run failed: GPU validation error/);
    expect(changes.at(-1)).toEqual(['wasm', expect.stringMatching(/WebGPU run failed/)]);
    expect(fake.released).toEqual(expect.arrayContaining(['webgpu:vision', 'webgpu:text']));

    control.gpuFails = false;
    await engine.embedTexts(['x']);
    expect(engine.backend).toBe('wasm');
    await engine.dispose();
  });

  it('switches to WASM when the GPU device is lost', async () => {
    withGpu();
    const fake = fakeOrt({ gpuRun: async () => undefined, gpuFails: false });
    const changes: [Backend, string][] = [];
    const engine = await ClipEngine.create({ spec, ort: fake.ort, loadFiles: files, tokenizer, onBackendChange: (b, r) => changes.push([b, r]) });
    expect(await engine.settled()).toBe('webgpu');
    fake.loseDevice('unknown');
    await vi.waitFor(() => expect(engine.backend).toBe('wasm'));
    expect(changes.at(-1)).toEqual(['wasm', 'GPU device lost (unknown): gone']);
    const [row] = await engine.embedTexts(['ab']);
    expect(row[0]).toBe(BACKEND_CODE.wasm);
    await engine.dispose();
  });

  it("uses WASM when prefer 'webgpu' finds no adapter, and says why", async () => {
    withGpu(async () => null);
    const fake = fakeOrt({ gpuRun: async () => undefined, gpuFails: false });
    const engine = await ClipEngine.create({ spec, ort: fake.ort, loadFiles: files, tokenizer, prefer: 'webgpu' });
    expect(engine.backend).toBe('wasm');
    expect(engine.info.webgpuFailure).toMatch(/no WebGPU adapter/);
    await engine.dispose();
  });

  it('fails create() when no backend can open', async () => {
    const fake = fakeOrt({ gpuRun: async () => undefined, gpuFails: false });
    const broken: EngineInit['loadFiles'] = async () => {
      throw new Error('download failed');
    };
    await expect(ClipEngine.create({ spec, ort: fake.ort, loadFiles: broken, tokenizer })).rejects.toThrow('download failed');
  });
});

describe('batching and lifecycle', () => {
  it('splits requests into runs of at most maxBatch, keeping order', async () => {
    const fake = fakeOrt({ gpuRun: async () => undefined, gpuFails: false });
    const engine = await ClipEngine.create({ spec, ort: fake.ort, loadFiles: files, tokenizer, prefer: 'wasm', maxBatch: 2 });
    fake.runs.length = 0;
    const rows = await engine.embedImages(images(1, 2, 3, 4, 5), 5);
    expect(rows.map((r) => r[1])).toEqual([1, 2, 3, 4, 5]);
    expect(fake.runs.map((r) => r.batch)).toEqual([2, 2, 1]);
    const texts = await engine.embedTexts(['a', 'bb', 'ccc']);
    expect(texts.map((r) => r[1])).toEqual([1, 2, 3]);
    await engine.dispose();
  });

  it('sets the WASM thread count before the first session', async () => {
    const fake = fakeOrt({ gpuRun: async () => undefined, gpuFails: false });
    const engine = await ClipEngine.create({ spec, ort: fake.ort, loadFiles: files, tokenizer, prefer: 'wasm', wasmThreads: 3 });
    expect(fake.env.wasm.numThreads).toBe(3);
    await engine.dispose();
  });

  it('releases every session on dispose, including the WASM fallback kept under WebGPU', async () => {
    withGpu();
    const fake = fakeOrt({ gpuRun: async () => undefined, gpuFails: false });
    const engine = await ClipEngine.create({ spec, ort: fake.ort, loadFiles: files, tokenizer });
    await engine.settled();
    await engine.dispose();
    expect([...fake.released].sort()).toEqual(['wasm:text', 'wasm:vision', 'webgpu:text', 'webgpu:vision']);
    await expect(engine.embedImages(images(1), 1)).rejects.toThrow(/disposed/);
  });
});
