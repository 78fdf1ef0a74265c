import { describe, expect, it } from 'vitest';
import { cosine, encodeEmbedding, l2normalize } from './similarity';
import { topK, VectorIndex } from './vector-index';
import { seededRandom as rng } from './seeded-random';

const randomUnit = (next: () => number, dim: number) => l2normalize(Float32Array.from({ length: dim }, () => next() - 0.5));

describe('topK', () => {
  it('matches a full sort, ties broken by position', () => {
    const next = rng(1);
    for (const [n, k] of [[0, 5], [1, 5], [10, 3], [1000, 50], [1000, 1000], [7, 100]]) {
      // Coarse values force many ties.
      const scores = Float32Array.from({ length: n }, () => Math.round(next() * 20) / 20);
      const expected = [...scores].map((score, index) => ({ index, score })).sort((a, b) => b.score - a.score || a.index - b.index).slice(0, k);
      expect(topK(scores, k)).toEqual(expected);
    }
  });

  it('looks only at the first `count` scores', () => {
    expect(topK(Float32Array.of(0.1, 0.9, 0.5, 1), 2, 3).map((h) => h.index)).toEqual([1, 2]);
  });
});

describe.each(['fp16', 'int8', 'int8+fp16'] as const)('VectorIndex (%s)', (precision) => {
  const dim = 64;
  const next = rng(7);
  const vectors = Array.from({ length: 300 }, () => randomUnit(next, dim));
  const ids = vectors.map((_, i) => `id${i}`);

  function filled(): VectorIndex {
    const index = new VectorIndex(dim, { precision, capacity: 16 }); // grows several times
    const rows = new Uint16Array(vectors.length * dim);
    vectors.forEach((v, i) => rows.set(encodeEmbedding(v), i * dim));
    index.addRows(ids, rows);
    return index;
  }

  it('ranks like exact cosine similarity', () => {
    const index = filled();
    const query = randomUnit(next, dim);
    const exact = vectors.map((v, i) => ({ id: ids[i], score: cosine(query, v) })).sort((a, b) => b.score - a.score);
    const hits = index.search(query, 10);
    const tolerance = precision === 'int8' ? 2e-2 : 1e-3;
    hits.forEach((h) => expect(h.score).toBeCloseTo(exact.find((e) => e.id === h.id)!.score, precision === 'int8' ? 1 : 3));
    // The best hit is the exact best unless two scores lie within the quantisation error.
    if (exact[0].score - exact[1].score > tolerance) expect(hits[0].id).toBe(exact[0].id);
    expect(new Set(hits.map((h) => h.id)).size).toBe(10);
  });

  it('replaces, removes and normalises', () => {
    const index = filled();
    index.add('id5', vectors[9].map((x) => x * 3)); // replacing keeps one row per id
    expect(index.size).toBe(300);
    expect(index.search(vectors[9], 2).map((h) => h.id).sort()).toEqual(['id5', 'id9']);
    expect(index.remove('id9')).toBe(true);
    expect(index.remove('id9')).toBe(false);
    expect(index.size).toBe(299);
    expect(index.search(vectors[299], 1)[0].id).toBe('id299'); // the row moved into the hole still answers
    expect(index.search(vectors[9], 1)[0]).toMatchObject({ id: 'id5' });
    expect(index.search(vectors[9], 1)[0].score).toBeCloseTo(1, 1);
  });

  it('loads chunk by chunk and answers between chunks', async () => {
    const index = new VectorIndex(dim, { precision });
    const seen: number[] = [];
    async function* chunks() {
      for (let at = 0; at < 300; at += 100) {
        const rows = new Uint16Array(100 * dim);
        for (let i = 0; i < 100; i++) rows.set(encodeEmbedding(vectors[at + i]), i * dim);
        yield { sha256s: ids.slice(at, at + 100), rows, dim };
        seen.push(index.search(vectors[0], 1).length);
      }
    }
    expect(await index.load(chunks(), () => undefined)).toBe(300);
    expect(seen).toEqual([1, 1, 1]);
    expect(index.search(vectors[250], 1)[0].id).toBe('id250');
  });

  it('refuses rows of the wrong width', async () => {
    const index = new VectorIndex(dim, { precision });
    expect(() => index.add('x', new Float32Array(dim + 1))).toThrow(RangeError);
    expect(() => index.addRows(['x'], new Uint16Array(dim - 1))).toThrow(RangeError);
    expect(() => index.scores(new Float32Array(3))).toThrow(RangeError);
    async function* wrong() {
      yield { sha256s: ['x'], rows: new Uint16Array(8), dim: 8 };
    }
    await expect(index.load(wrong())).rejects.toThrow(/8 dimensions/);
  });
});

describe('VectorIndex int8+fp16', () => {
  const dim = 64;
  /** Clustered rows: many near-equal scores, where a coarse pass alone would misrank. */
  function clustered(n: number, seed: number): Float32Array[] {
    const next = rng(seed);
    const centres = Array.from({ length: 8 }, () => randomUnit(next, dim));
    return Array.from({ length: n }, (_, i) => l2normalize(centres[i % 8].map((c) => c + (next() - 0.5) * 0.15)));
  }
  function build(precision: 'fp16' | 'int8+fp16', vectors: Float32Array[]): VectorIndex {
    const index = new VectorIndex(dim, { precision });
    const rows = new Uint16Array(vectors.length * dim);
    vectors.forEach((v, i) => rows.set(encodeEmbedding(v), i * dim));
    index.addRows(vectors.map((_, i) => `id${i}`), rows);
    return index;
  }

  it('returns exactly the fp16 ranking (ids, order and scores), widening its candidates when the bound requires', () => {
    const vectors = clustered(5000, 3);
    const fp16 = build('fp16', vectors);
    const hybrid = build('int8+fp16', vectors);
    const next = rng(11);
    for (let i = 0; i < 40; i++) {
      // Queries near a cluster centre: the hard case, hundreds of close scores.
      const query = i % 2 ? randomUnit(next, dim) : l2normalize(vectors[i * 37].map((x) => x + (next() - 0.5) * 0.05));
      for (const k of [1, 10, 50, 120]) expect(hybrid.search(query, k)).toEqual(fp16.search(query, k));
    }
    expect(hybrid.bytesPerEmbedding).toBe(2 * dim + dim + 4);
  });

  it('stays exact after replacing and removing rows', () => {
    const vectors = clustered(1200, 5);
    const fp16 = build('fp16', vectors);
    const hybrid = build('int8+fp16', vectors);
    for (const index of [fp16, hybrid]) {
      index.add('id3', vectors[700]);
      index.remove('id10');
    }
    for (const q of [vectors[700], vectors[10], vectors[5]]) expect(hybrid.search(q, 30)).toEqual(fp16.search(q, 30));
  });
});
