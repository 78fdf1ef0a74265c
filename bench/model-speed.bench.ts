// Per-image latency of each registry variant's image tower, for the speed hints the options
// page shows (registry.ts `speedMs`). Measured on the architecture replicas (same layers and
// sizes as the real towers, random weights): onnxruntime-web's WASM backend in Node, as the
// extension runs it, single-threaded (Firefox, and Chrome's fallback) and with two threads.
//
// The machine is shared while these run, so each line gives the fastest run (the least disturbed:
// what the registry takes) and the median.
//
// Run: npx tsx bench/model-speed.bench.ts [iterations] [--threads N]

import { cpus } from 'node:os';
import * as ort from 'onnxruntime-web';
import { ensureArchModels, readArchModel } from '../scripts/archmodels.ts';

const args = process.argv.slice(2);
const iterations = Number(args.find((a) => /^\d+$/.test(a)) ?? 5);
const threadsArg = args.indexOf('--threads');
const threadCounts = threadsArg >= 0 ? [Number(args[threadsArg + 1])] : [1, 2];
/** Registry variants by their image tower's replica (B and B-LT share mcib; MobileCLIP2-S0/S2 use MCi0/MCi2-sized towers). */
const TOWERS: [string, number][] = [
  ['mci0', 256],
  ['mci1', 256],
  ['mci2', 256],
  ['mcib', 224],
];

ensureArchModels(TOWERS.map(([name]) => name));

async function perImageMs(name: string, size: number, threads: number): Promise<{ fastest: number; median: number }> {
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
  return { fastest: times[0], median: times[Math.floor(times.length / 2)] };
}

console.log(`image towers, batch 1, ${iterations} runs; ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})`);
for (const threads of threadCounts) {
  for (const [name, size] of TOWERS) {
    const { fastest, median } = await perImageMs(name, size, threads);
    console.log(`${name}\t${threads} thread(s)\tfastest ${fastest.toFixed(0)} ms/image\tmedian ${median.toFixed(0)} ms/image`);
  }
}
