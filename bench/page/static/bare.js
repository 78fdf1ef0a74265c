// The hosting ceiling (bench/page/baselines.ts): onnxruntime-web alone in a cross-origin-isolated
// page, default session options as the extension's engine uses them, the WASM build the
// offscreen document loads. Pixels arrive preprocessed; only session.run is timed.
import * as ort from '/ort/ort.wasm.min.mjs';
import { toPixelValues } from '/pixels.js';

let session;
let pixels;

/** { model, externalData?: [{ path, url }], threads }: loads once per page (numThreads is fixed at first use). */
export async function open({ model, externalData, threads }) {
  ort.env.wasm.wasmPaths = '/ort/';
  ort.env.wasm.numThreads = threads;
  const started = performance.now();
  const options = { executionProviders: ['wasm'] };
  if (externalData) options.externalData = externalData.map((e) => ({ path: e.path, data: e.url }));
  session = await ort.InferenceSession.create(model, options);
  return { openMs: performance.now() - started, crossOriginIsolated, threads: ort.env.wasm.numThreads };
}

/** RGB crops (HWC bytes) → float32 NCHW in [0,1], kept for run(). */
export async function load({ url, size, count }) {
  pixels = toPixelValues(new Uint8Array(await (await fetch(url)).arrayBuffer()), size, count);
}

/** Embeds the first `count` loaded images in batches; returns the total ms of the session.run calls. */
export async function run({ size, count, batch }) {
  const plane = 3 * size * size;
  let ms = 0;
  for (let start = 0; start < count; start += batch) {
    const n = Math.min(batch, count - start);
    const input = new ort.Tensor('float32', pixels.subarray(start * plane, (start + n) * plane), [n, 3, size, size]);
    const t0 = performance.now();
    const out = await session.run({ [session.inputNames[0]]: input });
    ms += performance.now() - t0;
    for (const t of Object.values(out)) t.dispose?.();
  }
  return ms;
}
