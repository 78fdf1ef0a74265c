// Vector maths on CLIP embeddings: normalisation, cosine ranking, zero-shot
// classification, query arithmetic, and a compact float16 storage encoding.
//
// Everything that compares two embeddings uses cosine similarity, so callers may pass raw or
// unit vectors alike; the background ranks and classifies with these functions only.

import { compareScores, judgeMatches, relevance, type RelevanceScale } from './relevance';

/** Any dense vector: model output rows, decoded stored vectors, plain arrays in tests. */
export type Vector = ArrayLike<number>;

function checkSameLength(a: Vector, b: Vector): void {
  if (a.length !== b.length) throw new Error(`Vector lengths differ: ${a.length} vs ${b.length}`);
}

export function dot(a: Vector, b: Vector): number {
  checkSameLength(a, b);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function norm(v: Vector): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/**
 * Unit-length copy of v. A zero vector stays zero instead of becoming NaN: a NaN would
 * silently poison every later score, while zero simply scores 0 against everything.
 */
export function l2normalize(v: Vector): Float32Array {
  const n = norm(v);
  const out = new Float32Array(v.length);
  if (n === 0) return out;
  for (let i = 0; i < v.length; i++) out[i] = v[i] / n;
  return out;
}

/** Cosine similarity in [-1, 1]; 0 when either vector is zero. */
export function cosine(a: Vector, b: Vector): number {
  checkSameLength(a, b);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa === 0 || bb === 0 ? 0 : ab / Math.sqrt(aa * bb);
}

export interface Ranked<T> {
  item: T;
  /** Position of the item in the input array. */
  index: number;
  /** Cosine similarity to the query. */
  score: number;
}

/** Items ordered by cosine similarity to query, best first (equal scores keep input order, see compareScores). */
export function rankBySimilarity<T extends { embedding: Vector }>(query: Vector, items: readonly T[]): Ranked<T>[] {
  const q = l2normalize(query);
  const ranked = items.map((item, index) => ({ item, index, score: cosine(q, item.embedding) }));
  // Array.prototype.sort is stable, so equal scores stay in input order.
  return ranked.sort((x, y) => compareScores(x.score, y.score));
}

export interface RankedMatch<T> extends Ranked<T> {
  /** Passes the model's floor and stands out from the other items' scores (see relevance.ts). */
  match: boolean;
  /** 0..1 on the model's calibrated scale (see relevance.ts). */
  relevance: number;
}

/** rankBySimilarity, plus which items are matches and how relevant each reads (rule in relevance.ts). */
export function rankMatches<T extends { embedding: Vector }>(query: Vector, items: readonly T[], scale: RelevanceScale): RankedMatch<T>[] {
  const ranked = rankBySimilarity(query, items);
  const matches = judgeMatches(ranked.map((r) => r.score), scale);
  return ranked.map((r, i) => ({ ...r, match: matches[i], relevance: relevance(r.score, scale) }));
}

/** Numerically stable softmax (subtracts the maximum before exponentiating). */
export function softmax(logits: Vector): Float32Array {
  const out = new Float32Array(logits.length);
  if (logits.length === 0) return out;
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const e = Math.exp(logits[i] - max);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

/**
 * CLIP zero-shot classification: probabilities over labels of
 * softmax(logitScale * cosine(image, label)). Label embeddings are typically the mean of
 * the normalised embeddings of several prompt templates per label.
 */
export function zeroShot(imageEmbedding: Vector, labelEmbeddings: readonly Vector[], logitScale: number): Float32Array {
  const img = l2normalize(imageEmbedding);
  return softmax(labelEmbeddings.map((label) => logitScale * cosine(img, label)));
}

/** zeroShot with the labels named, most probable first (ties keep label order). */
export function classifyZeroShot(
  imageEmbedding: Vector,
  labels: readonly { label: string; embedding: Vector }[],
  logitScale: number,
): { label: string; probability: number }[] {
  const probabilities = zeroShot(imageEmbedding, labels.map((l) => l.embedding), logitScale);
  return labels.map(({ label }, i) => ({ label, probability: probabilities[i] })).sort((a, b) => b.probability - a.probability);
}

/** Mean of the normalised vectors, renormalised: one label embedding from several prompts. */
export function meanEmbedding(vectors: readonly Vector[]): Float32Array {
  return combineQueries(vectors.map((embedding) => ({ embedding, sign: 1 })));
}

export interface QueryTerm {
  embedding: Vector;
  /** +1 adds the concept (`a + b`), -1 moves away from it (`a - b`). */
  sign: 1 | -1;
}

/**
 * Query arithmetic on text embeddings: each term is normalised first (so no term dominates
 * through its raw length), then summed with its sign, then the result is normalised again.
 * Cancelling terms (`a - a`) give a zero vector, which scores 0 against everything.
 */
export function combineQueries(terms: readonly QueryTerm[]): Float32Array {
  if (terms.length === 0) throw new Error('combineQueries needs at least one term');
  const dim = terms[0].embedding.length;
  const sum = new Float64Array(dim);
  for (const { embedding, sign } of terms) {
    if (embedding.length !== dim) throw new Error(`Query terms differ in length: ${embedding.length} vs ${dim}`);
    const unit = l2normalize(embedding);
    for (let i = 0; i < dim; i++) sum[i] += sign * unit[i];
  }
  return l2normalize(sum);
}

// ---------------------------------------------------------------------------------------
// Compact storage: IEEE 754 binary16 (half precision) in a Uint16Array.
//
// Half precision keeps 11 significant bits, so every component of a normalised embedding
// (|x| <= 1) is stored with absolute error <= 2^-12 (about 2.4e-4) and relative error
// <= 2^-11; measured on random 512-d unit vectors (similarity.test.ts): max absolute error
// 6.1e-5, cosine between an embedding and its decoded copy >= 0.99999997. That halves
// storage against float32 with no visible effect on rankings. Node 20 has no Float16Array,
// hence the bit manipulation.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 -> binary16 bits, round to nearest even; overflow gives ±Infinity, NaN stays NaN. */
export function toFloat16Bits(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero): value = m * 2^-24 with the implicit bit made explicit.
    if (e < -10) return sign;
    const full = mant | 0x800000;
    const shift = 14 - e;
    const m = full >>> shift;
    const rem = full & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    // A carry out of the mantissa yields the smallest normal, which is the right encoding.
    return sign | (m + (rem > half || (rem === half && m & 1) ? 1 : 0));
  }
  const h = sign | (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry here can ripple into the exponent (and up to Infinity), which is correct rounding.
  return h + (rem > 0x1000 || (rem === 0x1000 && h & 1) ? 1 : 0);
}

/** binary16 bits -> number (exact). */
export function fromFloat16Bits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : sign * Infinity;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

// Decoding is the hot path (every stored vector is decoded when searching), so it goes
// through a 65536-entry table (256 KB), built on first use.
let decodeTable: Float32Array | undefined;
/** binary16 bits -> float32, all 65536 of them (for loops that decode as they go, e.g. VectorIndex). */
export function float16Table(): Float32Array {
  if (!decodeTable) {
    decodeTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) decodeTable[h] = fromFloat16Bits(h);
  }
  return decodeTable;
}

/** Embedding -> half-precision bits for storage (2 bytes per component). */
export function encodeEmbedding(v: Vector): Uint16Array {
  const out = new Uint16Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = toFloat16Bits(v[i]);
  return out;
}

/** Stored half-precision bits -> float32 embedding. */
export function decodeEmbedding(bits: Uint16Array): Float32Array {
  const t = float16Table();
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = t[bits[i]];
  return out;
}
