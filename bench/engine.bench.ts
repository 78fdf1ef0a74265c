// Engine latency on the MobileCLIP-S0 architecture replicas (mci0 image tower + text_mct text
// tower, random weights: speed only), through the ClipEngine API as the extension calls it.
// Reports medians per image / per text at batch 1 and batch 8, and batch 8's per-item time as
// a ratio of batch 1's (the baseline, measured in the same run).
//
// Run: npx tsx bench/engine.bench.ts [iterations] [--web]
//   --web  also onnxruntime-web's WASM backend inside Node (1 thread), as a preview of the
//          browser's single-threaded WASM; browser thread-count comparisons live elsewhere.

import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { archModelSpec, CLIP_BPE_PATH, ensureArchModels, readArchModel } from '../scripts/archmodels.ts';
import { ClipEngine, type OrtModule } from '../src/engine/session.ts';
import { ClipTokenizer } from '../src/engine/tokenizer.ts';

const args = process.argv.slice(2);
const iterations = Number(args.find((a) => /^\d+$/.test(a)) ?? 7);
const withWeb = args.includes('--web');
const BATCH = 8;

ensureArchModels(['mci0', 'text_mct']);
const spec = archModelSpec('mci0', 'text_mct');
const files = { vision: readArchModel('mci0'), text: readArchModel('text_mct') };
const tokenizer = await ClipTokenizer.load(new Uint8Array(readFileSync(CLIP_BPE_PATH)));

const per = 3 * spec.imageSize * spec.imageSize;
const pixels = new Float32Array(BATCH * per).map((_, i) => ((i * 2654435761) % 1000) / 1000);
const texts = Array.from({ length: BATCH }, (_, i) => `a photo of object number ${i} on a table`);

async function median(fn: () => Promise<unknown>): Promise<number> {
  await fn(); // one untimed run: allocator and thread-pool warm-up beyond the engine's own
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

async function measure(name: string, ort: OrtModule, prefer: 'cpu' | 'wasm'): Promise<string[][]> {
  const t0 = performance.now();
  const engine = await ClipEngine.create({ spec, ort, loadFiles: async () => files, tokenizer, prefer, maxBatch: BATCH });
  const openMs = performance.now() - t0;
  const image1 = await median(() => engine.embedImages(pixels.subarray(0, per), 1));
  const image8 = (await median(() => engine.embedImages(pixels, BATCH))) / BATCH;
  const text1 = await median(() => engine.embedTexts(texts.slice(0, 1)));
  const text8 = (await median(() => engine.embedTexts(texts))) / BATCH;
  await engine.dispose();
  return [
    [name, 'image', image1.toFixed(1), image8.toFixed(1), (image8 / image1).toFixed(2), openMs.toFixed(0)],
    [name, 'text', text1.toFixed(1), text8.toFixed(1), (text8 / text1).toFixed(2), ''],
  ];
}

const rows: string[][] = [['runtime', 'tower', 'batch 1 ms/item', `batch ${BATCH} ms/item`, `b${BATCH}/b1`, 'open+warm-up ms']];
rows.push(...(await measure('onnxruntime-node (cpu)', ortNode, 'cpu')));
if (withWeb) {
  ortWeb.env.wasm.numThreads = 1;
  rows.push(...(await measure('onnxruntime-web wasm, 1 thread (Node)', ortWeb, 'wasm')));
}

const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
console.log(`mci0 + text_mct replicas, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), median of ${iterations} runs`);
for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c])).join('  '));
