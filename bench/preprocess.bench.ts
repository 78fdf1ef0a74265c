// Preprocessing speed on the reference image sizes: the cropped resize the engine uses versus
// a naive full-image resize followed by a crop (same arithmetic, so the same pixels).
// Run: npx tsx bench/preprocess.bench.ts [iterations]

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodePng } from '../src/engine/png';
import {
  cropOffsets,
  preprocess,
  resizeAndCrop,
  resizedSize,
  resizeImage,
  type RGBAImage,
} from '../src/engine/preprocess';

const SIZE = 256;
const iterations = Number(process.argv[2] ?? 30);
const refDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shared/refs/preprocess');
const cases: { name: string }[] = JSON.parse(readFileSync(path.join(refDir, 'cases.json'), 'utf8'));

function naiveResizeAndCrop(image: RGBAImage, size: number): Uint8Array {
  const [width, height] = resizedSize(image.width, image.height, size);
  const [left, top] = cropOffsets(width, height, size);
  const full = resizeImage(image, width, height);
  const out = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    const start = ((top + y) * width + left) * 3;
    out.set(full.subarray(start, start + size * 3), y * size * 3);
  }
  return out;
}

function median(fn: () => unknown): number {
  for (let i = 0; i < 5; i++) fn(); // warm up the JIT and the coefficient cache
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const rows: string[][] = [['case', 'input', 'cropped ms', 'naive ms', 'naive/cropped', '+toPixelValues ms']];
for (const { name } of cases) {
  const image = decodePng(readFileSync(path.join(refDir, `${name}.png`)));
  const cropped = median(() => resizeAndCrop(image, SIZE));
  const naive = median(() => naiveResizeAndCrop(image, SIZE));
  const full = median(() => preprocess(image, { imageSize: SIZE }));
  rows.push([
    name,
    `${image.width}x${image.height}`,
    cropped.toFixed(2),
    naive.toFixed(2),
    (naive / cropped).toFixed(2),
    full.toFixed(2),
  ]);
}

const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
console.log(`median of ${iterations} runs, size ${SIZE}`);
for (const row of rows) console.log(row.map((cell, i) => cell.padStart(widths[i])).join('  '));
