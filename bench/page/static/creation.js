// The cold-start baseline (bench/page/baselines.ts): creating the engine's sessions with
// onnxruntime-web alone, in a fresh cross-origin-isolated tab, so that the module's import and
// the WASM compile are part of it as they are of the extension's cold start. Text session
// first, then the vision one, as the engine opens them (src/engine/towers.ts, textFirst).
// Files come by URL from the local hub, as the extension reads its bundled ones by URL.

/** { text, vision, threads } → ms from before the import to each session created. */
export async function create({ text, vision, threads }) {
  const started = performance.now();
  const ort = await import('/ort/ort.wasm.min.mjs');
  ort.env.wasm.wasmPaths = '/ort/';
  ort.env.wasm.numThreads = threads;
  const options = { executionProviders: ['wasm'] };
  const textSession = await ort.InferenceSession.create(text, options);
  const textMs = performance.now() - started;
  const visionSession = await ort.InferenceSession.create(vision, options);
  const bothMs = performance.now() - started;
  await Promise.all([textSession.release(), visionSession.release()]);
  return { textMs, bothMs, crossOriginIsolated, threads: ort.env.wasm.numThreads };
}
