// One vision session with its own onnxruntime-web module, in a Worker of page.html: the lane of
// vision-lanes.bench.ts (the extension's are src/offscreen/vision-lanes.ts and vision-lane-worker.ts).
import * as ort from '/ort/ort.wasm.min.mjs';

let session;
let pixels;
let size;

onmessage = async ({ data }) => {
  try {
    if (data.op === 'open') {
      ort.env.wasm.wasmPaths = '/ort/';
      ort.env.wasm.numThreads = data.threads;
      size = data.size;
      session = await ort.InferenceSession.create(data.model, { executionProviders: ['wasm'], externalData: data.externalData });
      // Random pixels: the weights are random too, only the time counts.
      pixels = new Float32Array(data.batch * 3 * size * size).map(() => Math.random());
      postMessage({ ok: true });
    } else {
      const t0 = performance.now();
      for (let i = 0; i < data.runs; i++) {
        const input = new ort.Tensor('float32', pixels.subarray(0, data.count * 3 * size * size), [data.count, 3, size, size]);
        const out = await session.run({ [session.inputNames[0]]: input });
        for (const t of Object.values(out)) t.dispose?.();
      }
      postMessage({ ok: true, ms: performance.now() - t0 });
    }
  } catch (error) {
    postMessage({ ok: false, error: String(error) });
  }
};
