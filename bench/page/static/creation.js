// The cold-start baseline (bench/page/baselines.ts): creating the engine's sessions with
// onnxruntime-web alone, in a fresh cross-origin-isolated tab, so that the module's import and
// the WASM compile are part of it as they are of the extension's cold start. Text session
// first, then the vision one, as the engine opens them (src/engine/towers.ts, textFirst).
// Files come by URL from the local hub, as the extension reads its bundled ones by URL.

/** onnxruntime-web imported, then the text session and the vision session created; ms from `started` to each. */
async function openSessions({ text, vision, threads }, started) {
  const ort = await import('/ort/ort.wasm.min.mjs');
  ort.env.wasm.wasmPaths = '/ort/';
  ort.env.wasm.numThreads = threads;
  const options = { executionProviders: ['wasm'] };
  const textSession = await ort.InferenceSession.create(text, options);
  const textMs = performance.now() - started;
  const visionSession = await ort.InferenceSession.create(vision, options);
  const bothMs = performance.now() - started;
  return { ort, textSession, visionSession, textMs, bothMs };
}

/** { text, vision, threads } → ms from before the import to each session created. */
export async function create(files) {
  const { ort, textSession, visionSession, textMs, bothMs } = await openSessions(files, performance.now());
  await Promise.all([textSession.release(), visionSession.release()]);
  return { textMs, bothMs, crossOriginIsolated, threads: ort.env.wasm.numThreads };
}

/**
 * A profile's first life, untimed: both sessions created and each run `runs` times (the text
 * tower on one query, the vision tower on a batch), so that V8 tiers onnxruntime-web's hot code
 * up and the browser may keep it in its code cache, as the extension's first page leaves it.
 */
export async function warmUp({ size, batch, runs, ...files }) {
  const { ort, textSession, visionSession } = await openSessions(files, performance.now());
  const ids = new BigInt64Array(77);
  ids[0] = 49406n;
  ids[1] = 49407n;
  const pixels = new Float32Array(batch * 3 * size * size).fill(0.5);
  for (let i = 0; i < runs; i++) {
    await textSession.run({ [textSession.inputNames[0]]: new ort.Tensor('int64', ids, [1, 77]) });
    await visionSession.run({ [visionSession.inputNames[0]]: new ort.Tensor('float32', pixels, [batch, 3, size, size]) });
  }
  await Promise.all([textSession.release(), visionSession.release()]);
}
