// Per-image latency of each registry variant's image tower, for the speed hints the options
// page shows (registry.ts `speedMs`). Measured on the architecture replicas (same layers and
// sizes as the real towers, random weights): onnxruntime-web's WASM backend in Node, as the
// extension runs it, single-threaded (Firefox, and Chrome's fallback) and with two threads.
//
// Run: npx tsx bench/model-speed.bench.ts [iterations]

import { cpus } from 'node:os';
import * as ort from 'onnxruntime-web';
import { ensureArchModels, readArchModel } from '../scripts/archmodels.ts';

const iterations = Number(process.argv[2] ?? 5);
/** Registry variants by their image tower's replica (B and B-LT share mcib; MobileCLIP2-S0/S2 use MCi0/MCi2-sized towers). */
const TOWERS: [string, number][] = [
  ['mci0', 256],
  ['mci1', 256],
  ['mci2', 256],
  ['mcib', 224],
];

ensureArchModels(TOWERS.map(([name]) => name));

async function perImageMs(name: string, size: number, threads: number): Promise<number> {
  ort.env.wasm.numThreads = threads;
  const bytes = readArchModel(name);
  const session = await ort.InferenceSession.create(bytes.model, {
    executionProviders: ['wasm'],
    externalData: bytes.externalData?.map((d) => ({ path: d.path, data: d.data })),
  });
  const pixels = new Float32Array(3 * size * size).map((_, i) => ((i * 2654435761) % 1000) / 1000);
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', pixels, [1, 3, size, size]) };
  await session.run(feeds); // warm-up
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    await session.run(feeds);
    times.push(performance.now() - start);
  }
  await session.release();
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

console.log(`image towers, batch 1, median of ${iterations}; ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})`);
for (const threads of [1, 2]) {
  for (const [name, size] of TOWERS) {
    console.log(`${name}\t${threads} thread(s)\t${(await perImageMs(name, size, threads)).toFixed(0)} ms/image`);
  }
}
