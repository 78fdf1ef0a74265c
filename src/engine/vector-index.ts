// Search over a model's whole image history: N embeddings in one contiguous matrix, scored
// by dot product against a normalised query, best k picked with a bounded heap (no full sort).
//
//   const index = new VectorIndex(512, { precision: 'int8' });
//   await index.load(store.embeddingChunks(modelId));     // chunk by chunk; searchable meanwhile
//   index.search(queryEmbedding, 50)  ->  [{ id: sha256, score }, ...] best first
//
// Rows are stored as fp16 bits (2 bytes per dimension, decoded through a table while
// scoring), as int8 with one float32 scale per row (1 byte per dimension + 4: rows are
// L2-normalised, so a per-row scale keeps each row's relative error near 1/254), or both
// ('int8+fp16'): search() then scores every row in int8, rescores the best few hundred in
// fp16, and widens the candidates until the int8 error bound proves no other row can reach
// the k-th score, so its ranking is exactly the fp16 ranking at close to the int8 cost.
// No extension APIs: runs in Node tests, the benchmark and any extension context.

import { float16Table, l2normalize, toFloat16Bits, type Vector } from './similarity';

export type RowPrecision = 'fp16' | 'int8' | 'int8+fp16';

/** Candidates the int8 pass hands to fp16 rescoring, at least (more for a large k). */
export const RESCORE_CANDIDATES = 400;

export interface Hit {
  id: string;
  score: number;
}

export interface RowChunk {
  sha256s: readonly string[];
  /** fp16 bits, `dim` per row. */
  rows: Uint16Array;
  dim: number;
}

/**
 * The k largest scores among the first `count`, best first (ties: lower index first).
 * A min-heap of size k keeps the current best; each score costs O(log k) at worst.
 */
export function topK(scores: Float32Array, k: number, count = scores.length): { index: number; score: number }[] {
  const size = Math.min(k, count);
  if (size <= 0) return [];
  const heap = new Int32Array(size);
  // "a ranks below b" in the final order: lower score, or equal score and later index.
  const below = (a: number, b: number) => scores[a] < scores[b] || (scores[a] === scores[b] && a > b);
  const siftDown = (from: number, n: number) => {
    for (let i = from; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && below(heap[l], heap[m])) m = l;
      if (r < n && below(heap[r], heap[m])) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  };
  for (let i = 0; i < size; i++) heap[i] = i;
  for (let i = (size >> 1) - 1; i >= 0; i--) siftDown(i, size);
  for (let i = size; i < count; i++) {
    if (below(heap[0], i)) {
      heap[0] = i;
      siftDown(0, size);
    }
  }
  // Pop the heap's minimum to the end each time: the array ends up best first.
  for (let n = size - 1; n > 0; n--) {
    [heap[0], heap[n]] = [heap[n], heap[0]];
    siftDown(0, n);
  }
  return Array.from(heap, (index) => ({ index, score: scores[index] }));
}

export class VectorIndex {
  private ids: string[] = [];
  private readonly rowOf = new Map<string, number>();
  private capacity: number;
  private half: Uint16Array;
  private bytes: Int8Array;
  private scales: Float32Array;
  /** The largest int8 scale among the rows (never lowered on removal: the error bound stays safe). */
  private maxScale = 0;
  private scratch = new Float32Array(0);
  private readonly hasHalf: boolean;
  private readonly hasBytes: boolean;
  readonly precision: RowPrecision;
  /** How many int8+fp16 searches had to widen their candidates (or fall back to a full fp16 pass), for the benchmark. */
  widened = 0;

  constructor(
    readonly dim: number,
    options: { precision?: RowPrecision; capacity?: number } = {},
  ) {
    if (!Number.isInteger(dim) || dim <= 0) throw new RangeError(`dimension must be a positive integer, not ${dim}`);
    this.precision = options.precision ?? 'fp16';
    this.hasHalf = this.precision !== 'int8';
    this.hasBytes = this.precision !== 'fp16';
    this.capacity = Math.max(16, options.capacity ?? 1024);
    this.half = new Uint16Array(this.hasHalf ? this.capacity * dim : 0);
    this.bytes = new Int8Array(this.hasBytes ? this.capacity * dim : 0);
    this.scales = new Float32Array(this.hasBytes ? this.capacity : 0);
  }

  get size(): number {
    return this.ids.length;
  }

  has(id: string): boolean {
    return this.rowOf.has(id);
  }

  /** Matrix bytes per embedding (ids and the id map come on top). */
  get bytesPerEmbedding(): number {
    return (this.hasHalf ? 2 * this.dim : 0) + (this.hasBytes ? this.dim + 4 : 0);
  }

  private grow(needed: number): void {
    if (needed <= this.capacity) return;
    while (this.capacity < needed) this.capacity *= 2;
    if (this.hasHalf) {
      const half = new Uint16Array(this.capacity * this.dim);
      half.set(this.half);
      this.half = half;
    }
    if (this.hasBytes) {
      const bytes = new Int8Array(this.capacity * this.dim);
      bytes.set(this.bytes);
      this.bytes = bytes;
      const scales = new Float32Array(this.capacity);
      scales.set(this.scales);
      this.scales = scales;
    }
  }

  /** Adds (or replaces) rows given as fp16 bits, as the store hands them out. */
  addRows(ids: readonly string[], rows: Uint16Array): void {
    if (rows.length !== ids.length * this.dim) throw new RangeError(`${ids.length} ids need ${ids.length * this.dim} values, got ${rows.length}`);
    this.grow(this.size + ids.length);
    const table = float16Table();
    const row = new Float32Array(this.dim);
    ids.forEach((id, i) => {
      const at = this.slot(id);
      const bits = rows.subarray(i * this.dim, (i + 1) * this.dim);
      if (this.hasHalf) this.half.set(bits, at * this.dim);
      if (this.hasBytes) {
        for (let d = 0; d < this.dim; d++) row[d] = table[bits[d]];
        this.quantise(at, row);
      }
    });
  }

  /** Adds (or replaces) one embedding; it is normalised first. */
  add(id: string, vector: Vector): void {
    if (vector.length !== this.dim) throw new RangeError(`expected ${this.dim} dimensions, got ${vector.length}`);
    this.grow(this.size + 1);
    const unit = l2normalize(vector);
    const at = this.slot(id);
    if (this.hasHalf) {
      for (let d = 0; d < this.dim; d++) this.half[at * this.dim + d] = toFloat16Bits(unit[d]);
    }
    if (this.hasBytes) {
      // Quantised from the fp16 values when both are kept, so the int8 error bound is against what fp16 scores.
      const table = float16Table();
      const row = this.hasHalf ? Float32Array.from(this.half.subarray(at * this.dim, (at + 1) * this.dim), (b) => table[b]) : Float32Array.from(unit);
      this.quantise(at, row);
    }
  }

  private slot(id: string): number {
    const known = this.rowOf.get(id);
    if (known !== undefined) return known;
    this.rowOf.set(id, this.ids.length);
    this.ids.push(id);
    return this.ids.length - 1;
  }

  private quantise(at: number, row: Float32Array): void {
    let max = 0;
    for (let d = 0; d < this.dim; d++) max = Math.max(max, Math.abs(row[d]));
    const scale = max / 127;
    this.scales[at] = scale;
    this.maxScale = Math.max(this.maxScale, scale);
    const base = at * this.dim;
    for (let d = 0; d < this.dim; d++) this.bytes[base + d] = scale === 0 ? 0 : Math.round(row[d] / scale);
  }

  /** Removes a row by moving the last row into its place (order is not meaningful). */
  remove(id: string): boolean {
    const at = this.rowOf.get(id);
    if (at === undefined) return false;
    const last = this.ids.length - 1;
    if (at !== last) {
      const lastId = this.ids[last];
      this.ids[at] = lastId;
      this.rowOf.set(lastId, at);
      if (this.hasHalf) this.half.copyWithin(at * this.dim, last * this.dim, (last + 1) * this.dim);
      if (this.hasBytes) {
        this.bytes.copyWithin(at * this.dim, last * this.dim, (last + 1) * this.dim);
        this.scales[at] = this.scales[last];
      }
    }
    this.ids.pop();
    this.rowOf.delete(id);
    return true;
  }

  private normalisedQuery(query: Vector): Float32Array {
    if (query.length !== this.dim) throw new RangeError(`query has ${query.length} dimensions, the index ${this.dim}`);
    return l2normalize(query);
  }

  private scoreBuffer(): Float32Array {
    if (this.scratch.length < this.size) this.scratch = new Float32Array(this.capacity);
    return this.scratch;
  }

  /**
   * The similarity step: the dot product of the (normalised) query with every row, in row
   * order (a view, valid until the next call). Exact fp16 scores whenever fp16 rows are kept.
   */
  scores(query: Vector): Float32Array {
    const q = this.normalisedQuery(query);
    const out = this.scoreBuffer();
    if (this.hasHalf) scoreHalf(q, this.half, this.dim, this.size, out);
    else scoreBytes(q, this.bytes, this.scales, this.dim, this.size, out);
    return out.subarray(0, this.size);
  }

  /** The k rows most similar to the query, best first. */
  search(query: Vector, k: number): Hit[] {
    if (this.precision !== 'int8+fp16') return topK(this.scores(query), k).map(({ index, score }) => ({ id: this.ids[index], score }));
    return this.rescored(this.normalisedQuery(query), k).map(({ index, score }) => ({ id: this.ids[index], score }));
  }

  /**
   * int8 pass over every row, fp16 rescoring of the best candidates. Every int8 score is
   * within maxScale / 2 * |q|_1 of its row's fp16 score (each component is off by at most
   * half a step), so once the k-th rescored score beats the best int8 score left out by more
   * than that, no row outside can rank in the top k: the result equals fp16's topK.
   */
  private rescored(q: Float32Array, k: number): { index: number; score: number }[] {
    const n = this.size;
    const coarse = this.scoreBuffer();
    scoreBytes(q, this.bytes, this.scales, this.dim, n, coarse);
    let l1 = 0;
    for (let d = 0; d < this.dim; d++) l1 += Math.abs(q[d]);
    // The float32 sums of either pass add a rounding error far below this slack.
    const bound = (this.maxScale / 2) * l1 + 1e-5;
    for (let want = Math.max(RESCORE_CANDIDATES, 4 * k); ; want *= 4) {
      if (want >= n) {
        if (want !== Math.max(RESCORE_CANDIDATES, 4 * k)) this.widened++;
        return topK(scoreHalf(q, this.half, this.dim, n, new Float32Array(n)), k);
      }
      const candidates = topK(coarse.subarray(0, n), want + 1);
      const outside = candidates.pop()!.score; // the best int8 score not rescored
      const exact = candidates.map(({ index }) => ({ index, score: Math.fround(dotHalf(q, this.half, index * this.dim, this.dim)) }));
      exact.sort((a, b) => b.score - a.score || a.index - b.index);
      const best = exact.slice(0, k);
      if (best.length === Math.min(k, n) && best[best.length - 1].score > outside + bound) return best;
      this.widened++;
    }
  }

  /**
   * Fills the index from a chunked source, yielding to the event loop between chunks so
   * searches and messages are served while a long history loads. Resolves with the row count.
   */
  async load(chunks: AsyncIterable<RowChunk>, onChunk?: (loaded: number) => void): Promise<number> {
    for await (const chunk of chunks) {
      if (chunk.dim !== this.dim) throw new RangeError(`stored rows have ${chunk.dim} dimensions, the index ${this.dim}`);
      this.addRows(chunk.sha256s, chunk.rows);
      onChunk?.(this.size);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    return this.size;
  }
}

// The scoring loops keep four running sums: independent additions the CPU overlaps, where
// one sum makes every addition wait for the one before.

/** fp16 row · query; scoreHalf stores exactly this, rounded to float32. */
function dotHalf(q: Float32Array, half: Uint16Array, base: number, dim: number): number {
  const table = float16Table();
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let d = 0;
  for (let i = base; d + 3 < dim; d += 4, i += 4) {
    s0 += q[d] * table[half[i]];
    s1 += q[d + 1] * table[half[i + 1]];
    s2 += q[d + 2] * table[half[i + 2]];
    s3 += q[d + 3] * table[half[i + 3]];
  }
  for (; d < dim; d++) s0 += q[d] * table[half[base + d]];
  return s0 + s1 + (s2 + s3);
}

function scoreHalf(q: Float32Array, half: Uint16Array, dim: number, n: number, out: Float32Array): Float32Array {
  for (let r = 0, base = 0; r < n; r++, base += dim) out[r] = dotHalf(q, half, base, dim);
  return out;
}

function scoreBytes(q: Float32Array, bytes: Int8Array, scales: Float32Array, dim: number, n: number, out: Float32Array): Float32Array {
  for (let r = 0, base = 0; r < n; r++, base += dim) {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let d = 0;
    for (let i = base; d + 3 < dim; d += 4, i += 4) {
      s0 += q[d] * bytes[i];
      s1 += q[d + 1] * bytes[i + 1];
      s2 += q[d + 2] * bytes[i + 2];
      s3 += q[d + 3] * bytes[i + 3];
    }
    for (; d < dim; d++) s0 += q[d] * bytes[base + d];
    out[r] = (s0 + s1 + (s2 + s3)) * scales[r];
  }
  return out;
}
