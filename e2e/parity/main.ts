// Parity page: runs the extension's engine (src/engine/session.ts) with onnxruntime-web in
// Chromium on the architecture replicas, for e2e/parity.test.ts to compare against
// onnxruntime-node. Served by that test: the page at /, the models at /models/, ORT's
// WebAssembly at /ort/.

import * as ort from 'onnxruntime-web';
import { ClipEngine } from '../../src/engine/session.ts';
import type { Backend, ModelBytes, ModelSpec } from '../../src/engine/types.ts';
import { checksum, IMAGE_SIZE, PARITY_TEXTS, parityImages } from './inputs.ts';

// Same ORT build as the extension (the JSEP bundle: WebGPU + WASM in one module). No cross-
// origin isolation here, so WASM runs one thread, as in the service worker.
ort.env.wasm.wasmPaths = { wasm: new URL('/ort/ort-wasm-simd-threaded.jsep.wasm', location.href).href };
ort.env.wasm.numThreads = 1;

export interface ParityRequest {
  prefer: 'wasm' | 'webgpu' | 'auto';
  vision: string;
  text: string;
  imageCount: number;
  /** How many of PARITY_TEXTS to embed. */
  textCount: number;
  /** Token ids per text, computed in Node with the project's tokenizer. */
  ids: number[][];
  maxBatch: number;
}

export interface ParityResult {
  backend: Backend;
  changes: [Backend, string][];
  info: unknown;
  adapter?: { architecture?: string; description?: string; features: string[] };
  pixelChecksum: number;
  images: number[][];
  texts: number[][];
  createMs: number;
  imagesMs: number;
  textsMs: number;
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

async function loadModel(name: string): Promise<ModelBytes> {
  const [model, weights] = await Promise.all([fetchBytes(`/models/${name}.onnx`), fetchBytes(`/models/${name}.bin`)]);
  return { model, externalData: [{ path: `${name}.bin`, data: weights }] };
}

async function adapterInfo(): Promise<ParityResult['adapter']> {
  const gpu = (navigator as { gpu?: { requestAdapter(): Promise<{ info?: { architecture?: string; description?: string }; features: Set<string> } | null> } }).gpu;
  const adapter = await gpu?.requestAdapter();
  if (!adapter) return undefined;
  return { architecture: adapter.info?.architecture, description: adapter.info?.description, features: [...adapter.features] };
}

async function run(req: ParityRequest): Promise<ParityResult> {
  const spec: ModelSpec = {
    id: `parity-${req.vision}-${req.text}`,
    label: 'parity',
    repo: 'local/archmodels',
    imageSize: IMAGE_SIZE,
    embedDim: 512,
    logitScale: 100,
    contextLength: req.ids[0].length,
    files: { vision: { wasm: '', webgpu: '' }, text: { wasm: '', webgpu: '' }, tokenizer: '' },
    testOnly: true,
  };
  const idsByText = new Map(PARITY_TEXTS.map((t, i) => [t, req.ids[i]]));
  const tokenizer = {
    tokenizeBatch(texts: string[]): BigInt64Array {
      const ctx = spec.contextLength;
      const out = new BigInt64Array(texts.length * ctx);
      texts.forEach((t, i) => {
        const ids = idsByText.get(t);
        if (!ids) throw new Error(`no token ids for ${JSON.stringify(t)}`);
        ids.forEach((id, j) => (out[i * ctx + j] = BigInt(id)));
      });
      return out;
    },
  };
  const files = { vision: await loadModel(req.vision), text: await loadModel(req.text) };
  const changes: [Backend, string][] = [];

  let t = performance.now();
  const engine = await ClipEngine.create({
    spec,
    ort,
    loadFiles: async () => files,
    tokenizer,
    prefer: req.prefer,
    maxBatch: req.maxBatch,
    onBackendChange: (b, reason) => changes.push([b, reason]),
  });
  if (req.prefer === 'auto') await engine.settled();
  const createMs = performance.now() - t;
  try {
    const pixels = parityImages(req.imageCount);
    t = performance.now();
    const images = await engine.embedImages(pixels, req.imageCount);
    const imagesMs = performance.now() - t;
    t = performance.now();
    const texts = await engine.embedTexts(PARITY_TEXTS.slice(0, req.textCount));
    const textsMs = performance.now() - t;
    return {
      backend: engine.backend,
      changes,
      info: engine.info,
      adapter: await adapterInfo(),
      pixelChecksum: checksum(pixels),
      images: images.map((r) => Array.from(r)),
      texts: texts.map((r) => Array.from(r)),
      createMs,
      imagesMs,
      textsMs,
    };
  } finally {
    await engine.dispose();
  }
}

(window as unknown as { parity: { run: typeof run } }).parity = { run };
document.title = 'parity ready';
