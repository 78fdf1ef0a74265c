import { describe, expect, it } from 'vitest';
import {
  classifyZeroShot,
  combineQueries,
  cosine,
  decodeEmbedding,
  encodeEmbedding,
  fromFloat16Bits,
  l2normalize,
  meanEmbedding,
  norm,
  rankBySimilarity,
  rankMatches,
  softmax,
  toFloat16Bits,
  zeroShot,
} from './similarity.ts';

// Deterministic pseudo-random numbers (mulberry32) so failures reproduce.
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussianVector(dim: number, next: () => number): Float32Array {
  const v = new Float32Array(dim);
  for (let i = 0; i < dim; i++) v[i] = Math.sqrt(-2 * Math.log(next() + 1e-12)) * Math.cos(2 * Math.PI * next());
  return v;
}

describe('l2normalize / cosine', () => {
  it('normalises to unit length and keeps direction', () => {
    const v = l2normalize([3, 4]);
    expect(Array.from(v)).toEqual([Math.fround(0.6), Math.fround(0.8)]);
    expect(norm(l2normalize(gaussianVector(512, rng(1))))).toBeCloseTo(1, 6);
  });

  it('keeps a zero vector zero rather than NaN', () => {
    expect(Array.from(l2normalize([0, 0, 0]))).toEqual([0, 0, 0]);
    expect(cosine([0, 0], [1, 2])).toBe(0);
  });

  it('computes cosine independent of scale', () => {
    expect(cosine([1, 0], [0, 5])).toBe(0);
    expect(cosine([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 12);
    expect(cosine([1, 2, 3], [-1, -2, -3])).toBeCloseTo(-1, 12);
    expect(cosine([1, 1], [1, 0])).toBeCloseTo(Math.SQRT1_2, 12);
  });

  it('rejects vectors of different length', () => {
    expect(() => cosine([1, 2], [1, 2, 3])).toThrow(/lengths differ/);
  });
});

describe('rankBySimilarity', () => {
  it('orders by cosine, best first, with ties in input order', () => {
    const items = [
      { id: 'a', embedding: [0, 1] },
      { id: 'b', embedding: [10, 0.1] },
      { id: 'c', embedding: [-1, 0] },
      { id: 'd', embedding: [0, 2] },
    ];
    const ranked = rankBySimilarity([0, 3], items);
    expect(ranked.map((r) => r.item.id)).toEqual(['a', 'd', 'b', 'c']);
    expect(ranked.map((r) => r.index)).toEqual([0, 3, 1, 2]);
    expect(ranked[0].score).toBeCloseTo(1, 6);
    expect(ranked[3].score).toBeCloseTo(0, 6);
  });
});

describe('rankMatches', () => {
  /** An embedding whose cosine with the query [1, 0] is exactly `score`. */
  const items = (scores: number[]) => scores.map((score, id) => ({ id, embedding: [score, Math.sqrt(1 - score * score)] }));
  const scale = { unrelated: 0.1, floor: 0.18, clear: 0.3 };

  it('ranks by cosine, judges matches on the scale and gives each a relevance', () => {
    const ranked = rankMatches([2, 0], items([0.1, 0.3, 0.2]), scale);
    expect(ranked.map((r) => r.item.id)).toEqual([1, 2, 0]);
    expect(ranked[0].score).toBeCloseTo(0.3, 6);
    expect(ranked.map((r) => r.match)).toEqual([true, false, false]);
    expect(ranked.map((r) => +r.relevance.toFixed(3))).toEqual([1, 0.5, 0]);
    // Nothing above the floor: no match at all, not even the best.
    expect(rankMatches([1, 0], items([0.12, 0.16, 0.11]), scale).some((r) => r.match)).toBe(false);
    expect(rankMatches([1, 0], [], scale)).toEqual([]);
  });
});

describe('softmax / zeroShot', () => {
  it('gives a probability distribution and survives large logits', () => {
    const p = softmax([1, 2, 3]);
    const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
    const s = e[0] + e[1] + e[2];
    expect(Array.from(p).map((x) => +x.toFixed(6))).toEqual(e.map((x) => +(x / s).toFixed(6)));
    const big = softmax([1000, 1001]);
    expect(big[0] + big[1]).toBeCloseTo(1, 6);
    expect(big[1]).toBeCloseTo(1 / (1 + Math.exp(-1)), 6);
    expect(softmax([]).length).toBe(0);
  });

  it('classifies by scaled cosine, sharper with a larger logit scale', () => {
    const image = [1, 0.2, 0];
    const labels = [
      [0, 1, 0],
      [1, 0, 0],
      [0, 0, 1],
    ];
    const p100 = zeroShot(image, labels, 100);
    const p1 = zeroShot(image, labels, 1);
    expect(p100.indexOf(Math.max(...p100))).toBe(1);
    expect(p100[1]).toBeGreaterThan(p1[1]);
    // Exactly softmax(scale * cos).
    const cos = labels.map((l) => cosine(image, l));
    const expected = softmax(cos.map((c) => 100 * c));
    for (let i = 0; i < 3; i++) expect(p100[i]).toBeCloseTo(expected[i], 6);
    // Named and ordered, most probable first.
    const named = classifyZeroShot(image, ['up', 'right', 'out'].map((label, i) => ({ label, embedding: labels[i] })), 100);
    expect(named.map((l) => l.label)).toEqual(['right', 'up', 'out']);
    expect(named[0].probability).toBeCloseTo(p100[1], 6);
    // Raw vs normalised image embedding gives the same answer.
    const pn = zeroShot(l2normalize(image).map((x) => x * 7), labels, 100);
    for (let i = 0; i < 3; i++) expect(pn[i]).toBeCloseTo(p100[i], 5);
  });
});

describe('combineQueries', () => {
  it('adds normalised terms and renormalises', () => {
    const a = [10, 0, 0]; // raw lengths differ on purpose: each term counts once
    const b = [0, 0.5, 0];
    const sum = combineQueries([
      { embedding: a, sign: 1 },
      { embedding: b, sign: 1 },
    ]);
    expect(norm(sum)).toBeCloseTo(1, 6);
    expect(cosine(sum, a)).toBeCloseTo(Math.SQRT1_2, 6);
    expect(cosine(sum, b)).toBeCloseTo(Math.SQRT1_2, 6);
  });

  it('subtracts: a - b moves away from b', () => {
    const next = rng(7);
    const a = gaussianVector(64, next);
    const b = gaussianVector(64, next);
    const diff = combineQueries([
      { embedding: a, sign: 1 },
      { embedding: b, sign: -1 },
    ]);
    expect(cosine(diff, b)).toBeLessThan(cosine(a, b));
    const expected = l2normalize(l2normalize(a).map((x, i) => x - l2normalize(b)[i]));
    for (let i = 0; i < 64; i++) expect(diff[i]).toBeCloseTo(expected[i], 6);
  });

  it('gives zero when terms cancel, and rejects mismatched lengths', () => {
    const v = combineQueries([
      { embedding: [1, 2], sign: 1 },
      { embedding: [2, 4], sign: -1 },
    ]);
    expect(Array.from(v)).toEqual([0, 0]);
    expect(() => combineQueries([])).toThrow();
    expect(() =>
      combineQueries([
        { embedding: [1, 2], sign: 1 },
        { embedding: [1], sign: 1 },
      ]),
    ).toThrow(/differ/);
  });

  it('meanEmbedding averages prompt embeddings', () => {
    const m = meanEmbedding([
      [2, 0],
      [0, 3],
    ]);
    expect(m[0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(m[1]).toBeCloseTo(Math.SQRT1_2, 6);
  });
});

describe('float16 encoding', () => {
  it('encodes known values exactly', () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.1, 0x2e66],
      [65504, 0x7bff], // largest finite half
      [65520, 0x7c00], // halfway to the next (non-existent) value rounds up to Infinity
      [1e6, 0x7c00],
      [-Infinity, 0xfc00],
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -25, 0x0000], // halfway between 0 and 2^-24: ties to even (0)
      [1.5 * 2 ** -25, 0x0001],
      [2 ** -14, 0x0400], // smallest normal
      [1 + 2 ** -11, 0x3c00], // halfway between 1 and 1+2^-10: ties to even
      [1 + 3 * 2 ** -11, 0x3c02], // halfway between odd and even: rounds up to even
    ];
    for (const [x, bits] of cases) expect([x, toFloat16Bits(x)]).toEqual([x, bits]);
    expect(toFloat16Bits(NaN) & 0x7c00).toBe(0x7c00);
    expect(toFloat16Bits(NaN) & 0x3ff).not.toBe(0);
    expect(fromFloat16Bits(0x7e00)).toBeNaN();
  });

  it('round-trips every non-NaN half value', () => {
    for (let h = 0; h < 65536; h++) {
      const isNaN = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
      if (isNaN) continue;
      if (toFloat16Bits(fromFloat16Bits(h)) !== h) throw new Error(`round trip failed for 0x${h.toString(16)}`);
    }
  });

  it('rounds to the nearest representable half', () => {
    const next = rng(3);
    for (let i = 0; i < 20000; i++) {
      const x = Math.fround((next() * 2 - 1) * 2 ** Math.floor(next() * 40 - 26));
      const h = toFloat16Bits(x);
      const err = Math.abs(fromFloat16Bits(h) - x);
      // Neither neighbour of the chosen encoding is strictly closer.
      for (const n of [h - 1, h + 1]) {
        if (n < 0 || n > 0xffff || ((n & 0x7c00) === 0x7c00 && n & 0x3ff)) continue;
        if ((n & 0x7fff) === 0 && (h & 0x7fff) === 0) continue;
        if ((n ^ h) & 0x8000) continue; // crossed the sign boundary
        expect(Math.abs(fromFloat16Bits(n) - x)).toBeGreaterThanOrEqual(err);
      }
    }
  });

  it('stores normalised embeddings with small measured error', () => {
    const next = rng(11);
    let maxAbs = 0;
    let maxRel = 0;
    let minCos = 1;
    for (let k = 0; k < 200; k++) {
      const v = l2normalize(gaussianVector(512, next));
      const bits = encodeEmbedding(v);
      expect(bits.byteLength).toBe(1024); // half of float32
      const back = decodeEmbedding(bits);
      for (let i = 0; i < v.length; i++) {
        const err = Math.abs(back[i] - v[i]);
        maxAbs = Math.max(maxAbs, err);
        // Below 2^-14 halves are subnormal with a fixed spacing of 2^-24.
        if (Math.abs(v[i]) >= 2 ** -14) maxRel = Math.max(maxRel, err / Math.abs(v[i]));
        else expect(err).toBeLessThanOrEqual(2 ** -25);
      }
      minCos = Math.min(minCos, cosine(v, back));
    }
    // Bounds from the format: 11 significant bits give relative error <= 2^-11 (4.9e-4), and
    // |x| < 1 gives absolute error <= 2^-12. Measured here: max abs error 6.1e-5 (the largest
    // components of a 512-d unit vector are ~0.2), max relative error 4.87e-4,
    // cosine to the original >= 0.99999997.
    expect(maxRel).toBeLessThanOrEqual(2 ** -11);
    expect(maxAbs).toBeLessThanOrEqual(2 ** -12);
    expect(minCos).toBeGreaterThan(0.99999);
  });
});
