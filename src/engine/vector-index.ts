// Search over a model's whole image history: N embeddings in one contiguous matrix, scored
// by dot product against a normalised query, best k picked with a bounded heap (no full sort).
//
//   const index = new VectorIndex(512, { precision: 'int8' });
//   await index.load(store.embeddingChunks(modelId));     // chunk by chunk; searchable meanwhile
//   index.search(queryEmbedding, 50)  ->  [{ id: sha256, score }, ...] best first
//
// Rows are stored either as fp16 bits (2 bytes per dimension, decoded through a table while
// scoring) or as int8 with one float32 scale per row (1 byte per dimension + 4): rows are
// L2-normalised, so a per-row scale keeps each row's relative error near 1/254.
// No extension APIs: runs in Node tests, the benchmark and any extension context.

import { float16Table, l2normalize, toFloat16Bits, type Vector } from './similarity';

export type RowPrecision = 'fp16' | 'int8';

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
  private scratch = new Float32Array(0);
  readonly precision: RowPrecision;

  constructor(
    readonly dim: number,
    options: { precision?: RowPrecision; capacity?: number } = {},
  ) {
    if (!Number.isInteger(dim) || dim <= 0) throw new RangeError(`dimension must be a positive integer, not ${dim}`);
    this.precision = options.precision ?? 'fp16';
    this.capacity = Math.max(16, options.capacity ?? 1024);
    this.half = new Uint16Array(this.precision === 'fp16' ? this.capacity * dim : 0);
    this.bytes = new Int8Array(this.precision === 'int8' ? this.capacity * dim : 0);
    this.scales = new Float32Array(this.precision === 'int8' ? this.capacity : 0);
  }

  get size(): number {
    return this.ids.length;
  }

  has(id: string): boolean {
    return this.rowOf.has(id);
  }

  /** Matrix bytes per embedding (ids and the id map come on top). */
  get bytesPerEmbedding(): number {
    return this.precision === 'fp16' ? 2 * this.dim : this.dim + 4;
  }

  private grow(needed: number): void {
    if (needed <= this.capacity) return;
    while (this.capacity < needed) this.capacity *= 2;
    if (this.precision === 'fp16') {
      const half = new Uint16Array(this.capacity * this.dim);
      half.set(this.half);
      this.half = half;
    } else {
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
      if (this.precision === 'fp16') this.half.set(bits, at * this.dim);
      else {
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
    if (this.precision === 'int8') return this.quantise(at, unit);
    for (let d = 0; d < this.dim; d++) this.half[at * this.dim + d] = toFloat16Bits(unit[d]);
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
      if (this.precision === 'fp16') this.half.copyWithin(at * this.dim, last * this.dim, (last + 1) * this.dim);
      else {
        this.bytes.copyWithin(at * this.dim, last * this.dim, (last + 1) * this.dim);
        this.scales[at] = this.scales[last];
      }
    }
    this.ids.pop();
    this.rowOf.delete(id);
    return true;
  }

  /** The similarity step: the dot product of the (normalised) query with every row, in row order (a view, valid until the next call). */
  scores(query: Vector): Float32Array {
    if (query.length !== this.dim) throw new RangeError(`query has ${query.length} dimensions, the index ${this.dim}`);
    const q = l2normalize(query);
    const n = this.size;
    if (this.scratch.length < n) this.scratch = new Float32Array(this.capacity);
    const out = this.scratch;
    const dim = this.dim;
    if (this.precision === 'fp16') {
      const table = float16Table();
      const half = this.half;
      for (let r = 0, base = 0; r < n; r++, base += dim) {
        let s = 0;
        for (let d = 0; d < dim; d++) s += q[d] * table[half[base + d]];
        out[r] = s;
      }
    } else {
      const bytes = this.bytes;
      for (let r = 0, base = 0; r < n; r++, base += dim) {
        let s = 0;
        for (let d = 0; d < dim; d++) s += q[d] * bytes[base + d];
        out[r] = s * this.scales[r];
      }
    }
    return out.subarray(0, n);
  }

  /** The k rows most similar to the query, best first. */
  search(query: Vector, k: number): Hit[] {
    const scores = this.scores(query);
    return topK(scores, k).map(({ index, score }) => ({ id: this.ids[index], score }));
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
