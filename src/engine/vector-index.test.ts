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

describe.each(['fp16', 'int8'] as const)('VectorIndex (%s)', (precision) => {
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
    const tolerance = precision === 'fp16' ? 1e-3 : 2e-2;
    hits.forEach((h) => expect(h.score).toBeCloseTo(exact.find((e) => e.id === h.id)!.score, precision === 'fp16' ? 3 : 1));
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
