// Test doubles for the engine's unit tests (never imported by the extension or the CLI).
//
// WebGPU does not exist in Node, and the interesting cases (slow warm-up, a run failing, a device
// lost) cannot be provoked on demand in a real browser; fakeOrt() imitates the ORT behaviour the
// engine relies on, including onnxruntime-web's "Session already started" error when two runs
// overlap in one module. fakeOffscreenWasm() stands for Chrome's WASM in the offscreen document
// (src/offscreen/client.ts) as the engine sees it: a provider of an opened WASM backend.
//
// Every output row is the unit vector of [backend code, first input value of the row, tower, 1],
// so decode() tells which backend and which input produced it.

import { vi } from 'vitest';
import type { BackendProvider, OpenContext } from '../backend-policy.ts';
import type { EngineInit, OrtModule } from '../session.ts';
import type { EmbeddingBackend } from '../towers.ts';
import type { Backend, ModelBytes, ModelSpec } from '../types.ts';
import { l2normalize } from '../similarity.ts';

export const spec: ModelSpec = {
  id: 'fake',
  label: 'Fake',
  repo: 'local/fake',
  imageSize: 2,
  embedDim: 4,
  logitScale: 100,
  contextLength: 4,
  files: { vision: { wasm: 'v', webgpu: 'v' }, text: { wasm: 't', webgpu: 't' }, tokenizer: 'bpe' },
};
export const PER_IMAGE = 3 * 2 * 2;
export const VISION = 1;
export const TEXT = 2;
export const BACKEND_CODE: Record<Backend, number> = { wasm: 1, webgpu: 2 };

export function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function fakeRow(backend: Backend, value: number, tower: number): number[] {
  return [BACKEND_CODE[backend], value, tower, 1];
}

/** [backend code, input value, tower, 1] of a row, from its unit vector. */
export function decode(row: Float32Array): number[] {
  return Array.from(row, (x) => Math.round(x / row[3]));
}

export interface FakeControl {
  /** Awaited inside every WebGPU run (the first one stands for shader compilation). */
  gpuRun: () => Promise<void>;
  gpuFails: boolean;
}

export function fakeOrt(control: FakeControl = { gpuRun: async () => undefined, gpuFails: false }) {
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
      // Read now, as ORT copies the graph at creation: the caller may free the bytes afterwards.
      const code = model[0];
      const tower = code === VISION ? 'vision' : 'text';
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
            const out = new Float32Array(n * 4);
            for (let i = 0; i < n; i++) out.set(fakeRow(backend, Number(x.data[i * per]), code), i * 4);
            return { [output]: new Tensor('float32', out, [n, 4]) };
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

/** Model files whose first byte tells the fake which tower it is. */
export const files = async (_backend?: Backend): Promise<{ vision: ModelBytes; text: ModelBytes }> => ({
  vision: { model: Uint8Array.of(VISION) },
  text: { model: Uint8Array.of(TEXT) },
});

/** Token ids: the text length first, so rows can be told apart. */
export const tokenizer = {
  tokenizeBatch: (texts: string[], ctx = 4) => {
    const ids = new BigInt64Array(texts.length * ctx);
    texts.forEach((t, i) => (ids[i * ctx] = BigInt(t.length)));
    return ids;
  },
};

/** CHW pixels of images whose first value is each of firstValues. */
export function images(...firstValues: number[]): Float32Array {
  const px = new Float32Array(firstValues.length * PER_IMAGE);
  firstValues.forEach((v, i) => (px[i * PER_IMAGE] = v));
  return px;
}

export const adapter = { features: new Set(['shader-f16']) };
/** A navigator.gpu for this test (vi.unstubAllGlobals() removes it). */
export function withGpu(requestAdapter: () => Promise<unknown> = async () => adapter) {
  vi.stubGlobal('navigator', { gpu: { requestAdapter } });
}

/**
 * The offscreen document's WASM as ClipEngine sees it in Chrome's service worker: opening may be
 * held (`gate`) or fail, it answers with unit rows computed elsewhere, and its thread count
 * changes when it falls back to one thread in the worker (`moveToWorker`).
 */
export function fakeOffscreenWasm(options: { gate?: Promise<void>; fails?: string; threads?: number } = {}) {
  let opened = 0;
  let disposed = 0;
  let context: OpenContext | undefined;
  let threads = options.threads ?? 2;
  const rows = (tower: number, values: number[]) => values.map((v) => l2normalize(fakeRow('wasm', v, tower)));
  const provider: BackendProvider<EmbeddingBackend> = {
    async open(ctx) {
      context = ctx;
      await options.gate;
      if (options.fails) throw new Error(options.fails);
      opened++;
      return {
        backend: 'wasm',
        get threads() {
          return threads;
        },
        embedImages: async (pixels, count) => rows(VISION, Array.from({ length: count }, (_, i) => pixels[i * PER_IMAGE])),
        embedTexts: async (texts) => rows(TEXT, texts.map((t) => t.length)),
        dispose: async () => void disposed++,
      };
    },
  };
  return {
    provider,
    get opened() {
      return opened;
    },
    get disposed() {
      return disposed;
    },
    moveToWorker(reason: string) {
      threads = 1;
      context?.changed(reason);
    },
  };
}
