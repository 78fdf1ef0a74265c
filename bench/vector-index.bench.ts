// VectorIndex over a whole image history: the similarity step (dot product with every row)
// and the whole query (similarity + top 50, text already embedded) at 1k / 10k / 50k
// embeddings of 512 dimensions, fp16 and int8 rows. Baseline in the same run: today's path
// (decoded Float32Array per image, rankBySimilarity = cosine per item and a full sort).
// Then how far int8 rows change rankings against fp16: top-10 overlap per query, and whether
// int8+fp16 (int8 pass, fp16 rescoring under the int8 error bound) returns exactly fp16's top 50.
//
// Ranking agreement needs an embedding geometry. Two sources, both printed with their spread:
//  - synthetic: unit vectors built as shared "modality" direction + one of 64 topic centres +
//    noise, tuned so pairwise image cosines and text-image cosines fall in the ranges CLIP
//    models show (image-image around 0.3-0.6, text-image around 0.1-0.35);
//  - replica: the MobileCLIP-S0 architecture replicas (mci0 + text_mct, RANDOM weights) on
//    procedural images and prompts. Random weights reproduce the architecture's output
//    statistics only partly (no learned semantics), so treat both as indications.
//
// Run: npx tsx bench/vector-index.bench.ts [runs] [--no-replica] [--replica-images=1200]
// (node --expose-gc --import tsx bench/vector-index.bench.ts gives steadier memory figures)

import { cpus } from 'node:os';
import { encodeEmbedding, l2normalize, rankBySimilarity, decodeEmbedding, cosine } from '../src/engine/similarity.ts';
import { VectorIndex, type RowPrecision } from '../src/engine/vector-index.ts';
import { seededRandom as rng } from '../src/engine/seeded-random.ts';

const args = process.argv.slice(2);
const runs = Number(args.find((a) => /^\d+$/.test(a)) ?? 15);
const withReplica = !args.includes('--no-replica');
/** Replica images embedded for the agreement table (more than RESCORE_CANDIDATES exercises int8+fp16's rescoring). */
const replicaImages = Number(args.find((a) => a.startsWith('--replica-images='))?.split('=')[1] ?? 1200);
const DIM = 512;
const K = 50;

const next = rng(42);
const gauss = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
const randomUnit = () => l2normalize(Float32Array.from({ length: DIM }, gauss));

const imageMode = randomUnit();
const textMode = randomUnit();
const topics = Array.from({ length: 64 }, randomUnit);
function mix(parts: [Float32Array, number][], noise: number): Float32Array {
  const v = Float32Array.from({ length: DIM }, () => gauss() * noise / Math.sqrt(DIM));
  for (const [p, w] of parts) for (let i = 0; i < DIM; i++) v[i] += w * p[i];
  return l2normalize(v);
}
const syntheticImage = () => mix([[imageMode, 0.6], [topics[Math.floor(next() * topics.length)], 0.5]], 0.75);
const syntheticText = () => mix([[imageMode, 0.25], [textMode, 0.5], [topics[Math.floor(next() * topics.length)], 0.5]], 0.5);

function stats(xs: number[]): { median: number; min: number; max: number; mean: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1], mean: xs.reduce((a, b) => a + b, 0) / xs.length };
}

function time(fn: () => unknown): number[] {
  fn();
  return Array.from({ length: runs }, () => {
    const t = performance.now();
    fn();
    return performance.now() - t;
  });
}

const fmt = (xs: number[]) => {
  const s = stats(xs);
  return `${s.median.toFixed(2)} (${s.min.toFixed(2)}-${s.max.toFixed(2)})`;
};

function fp16Rows(vectors: Float32Array[]): Uint16Array {
  const rows = new Uint16Array(vectors.length * DIM);
  vectors.forEach((v, i) => rows.set(encodeEmbedding(v), i * DIM));
  return rows;
}

/** The index, and what it added to the heap per row (ids and their map included), measured after the input rows are gone. */
function buildIndex(precision: RowPrecision, vectors: Float32Array[]): { index: VectorIndex; heapPerRow: number } {
  globalThis.gc?.();
  const before = process.memoryUsage();
  const index = new VectorIndex(DIM, { precision, capacity: vectors.length });
  const chunk = 2048;
  for (let at = 0; at < vectors.length; at += chunk) {
    const part = vectors.slice(at, at + chunk);
    index.addRows(part.map((_, i) => (at + i).toString(16).padStart(64, '0')), fp16Rows(part));
  }
  globalThis.gc?.();
  const after = process.memoryUsage();
  const grown = after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers;
  return { index, heapPerRow: grown / vectors.length };
}

console.log(`VectorIndex, ${DIM}-d, top ${K}, median (min-max) ms over ${runs} runs, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})${globalThis.gc ? '' : ', memory without forced GC (run with node --expose-gc for steadier figures)'}`);
const rows: string[][] = [['N', 'rows', 'similarity ms', 'query top-50 ms', 'query vs baseline', 'matrix B/emb', 'measured B/emb', 'widened']];
const query = syntheticText();
for (const n of [1_000, 10_000, 50_000]) {
  const vectors = Array.from({ length: n }, syntheticImage);
  const stored = vectors.map((v) => ({ embedding: decodeEmbedding(encodeEmbedding(v)) }));
  const baseline = time(() => rankBySimilarity(query, stored).slice(0, K));
  rows.push([String(n), 'baseline: Float32Array[] + full sort', '', fmt(baseline), '1.00', String(DIM * 4), '', '']);
  for (const precision of ['fp16', 'int8', 'int8+fp16'] as const) {
    const { index, heapPerRow } = buildIndex(precision, vectors);
    // int8+fp16 has no separate similarity step: its scoring is part of search (int8 pass + rescoring).
    const similarity = precision === 'int8+fp16' ? null : time(() => index.scores(query));
    const whole = time(() => index.search(query, K));
    const widened = precision === 'int8+fp16' ? `${index.widened}/${runs + 1}` : '';
    rows.push([String(n), precision, similarity ? fmt(similarity) : '(in query)', fmt(whole), (stats(whole).median / stats(baseline).median).toFixed(2), String(index.bytesPerEmbedding), heapPerRow.toFixed(0), widened]);
  }
}
printTable(rows);

function agreement(name: string, images: Float32Array[], queries: Float32Array[]): string[] {
  const fp16 = buildIndex('fp16', images).index;
  const int8 = buildIndex('int8', images).index;
  const hybrid = buildIndex('int8+fp16', images).index;
  const overlaps: number[] = [];
  let identical = 0;
  const exactOverlaps: number[] = [];
  for (const q of queries) {
    const a = new Set(fp16.search(q, 10).map((h) => h.id));
    const b = int8.search(q, 10).map((h) => h.id);
    overlaps.push(b.filter((id) => a.has(id)).length / 10);
    if (JSON.stringify(hybrid.search(q, K)) === JSON.stringify(fp16.search(q, K))) identical++;
    const exact = new Set(rankBySimilarity(q, images.map((embedding, i) => ({ embedding, id: i.toString(16).padStart(64, '0') }))).slice(0, 10).map((r) => r.item.id));
    exactOverlaps.push([...a].filter((id) => exact.has(id)).length / 10);
  }
  const pair = (xs: Float32Array[], ys: Float32Array[], count: number) => Array.from({ length: count }, (_, i) => cosine(xs[i % xs.length], ys[(i * 7 + 3) % ys.length]));
  const ii = stats(pair(images, images.slice(1), 2000));
  const ti = stats(pair(queries, images, 2000));
  const o = stats(overlaps);
  const e = stats(exactOverlaps);
  return [name, `${images.length} x ${queries.length}`, `${ii.mean.toFixed(2)} [${ii.min.toFixed(2)}, ${ii.max.toFixed(2)}]`, `${ti.mean.toFixed(2)} [${ti.min.toFixed(2)}, ${ti.max.toFixed(2)}]`, `${o.mean.toFixed(3)} (min ${o.min.toFixed(1)})`, `${e.mean.toFixed(3)} (min ${e.min.toFixed(1)})`, `${(identical / queries.length).toFixed(3)} (widened ${hybrid.widened})`];
}

const agreeRows: string[][] = [['embeddings', 'images x queries', 'image-image cos mean [min,max]', 'text-image cos', 'top-10 overlap int8 vs fp16', 'fp16 vs exact fp32', 'int8+fp16 top-50 = fp16']];
agreeRows.push(agreement('synthetic CLIP-like', Array.from({ length: 50_000 }, syntheticImage), Array.from({ length: 200 }, syntheticText)));
if (withReplica) agreeRows.push(agreement('replica mci0 + text_mct (random weights)', ...(await replicaEmbeddings(replicaImages, 100))));
console.log('\nranking agreement: int8 and int8+fp16 against fp16');
printTable(agreeRows);

async function replicaEmbeddings(imageCount: number, queryCount: number): Promise<[Float32Array[], Float32Array[]]> {
  const { readFileSync } = await import('node:fs');
  const ort = await import('onnxruntime-node');
  const { archModelSpec, CLIP_BPE_PATH, ensureArchModels, readArchModel } = await import('../scripts/archmodels.ts');
  const { ClipEngine } = await import('../src/engine/session.ts');
  const { ClipTokenizer } = await import('../src/engine/tokenizer.ts');
  ensureArchModels(['mci0', 'text_mct']);
  const spec = archModelSpec('mci0', 'text_mct');
  const files = { vision: readArchModel('mci0'), text: readArchModel('text_mct') };
  const tokenizer = await ClipTokenizer.load(new Uint8Array(readFileSync(CLIP_BPE_PATH)));
  const engine = await ClipEngine.create({ spec, ort, loadFiles: async () => files, tokenizer, prefer: 'cpu', maxBatch: 8 });
  const size = spec.imageSize;
  const per = 3 * size * size;
  const images: Float32Array[] = [];
  // Procedural pictures: a colour gradient, a bright disc and stripes, all varying per image.
  for (let at = 0; at < imageCount; at += 8) {
    const batch = Math.min(8, imageCount - at);
    const pixels = new Float32Array(batch * per);
    for (let b = 0; b < batch; b++) {
      const r = rng(at + b + 1);
      const [c0, c1, c2, cx, cy, rad, freq] = Array.from({ length: 7 }, r);
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const disc = (x / size - cx) ** 2 + (y / size - cy) ** 2 < (rad * 0.3) ** 2 ? 0.5 : 0;
          const stripe = 0.2 * Math.sin((x + y) * freq * 0.2);
          const i = y * size + x;
          pixels[b * per + i] = Math.min(1, Math.max(0, c0 * (x / size) + disc + stripe));
          pixels[b * per + size * size + i] = Math.min(1, Math.max(0, c1 * (y / size) + disc - stripe));
          pixels[b * per + 2 * size * size + i] = Math.min(1, Math.max(0, c2 + stripe));
        }
      }
    }
    images.push(...(await engine.embedImages(pixels, batch)).map(l2normalize));
  }
  const nouns = ['dog', 'cat', 'car', 'red dress', 'mountain lake', 'city street at night', 'pizza', 'bicycle', 'sunset over the sea', 'laptop on a desk'];
  const texts = Array.from({ length: queryCount }, (_, i) => `a photo of a ${nouns[i % nouns.length]} number ${i}`);
  const queries: Float32Array[] = [];
  for (let at = 0; at < texts.length; at += 8) queries.push(...(await engine.embedTexts(texts.slice(at, at + 8))).map(l2normalize));
  await engine.dispose();
  return [images, queries];
}

function printTable(table: string[][]): void {
  const widths = table[0].map((_, c) => Math.max(...table.map((r) => r[c].length)));
  for (const r of table) console.log(r.map((cell, c) => cell.padEnd(widths[c])).join('  '));
}
