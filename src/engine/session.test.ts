// The engine on the architecture replicas (random weights) of MobileCLIP-S0: mci0 image
// tower + text_mct text tower, with onnxruntime-node ('cpu') and with onnxruntime-web's WASM
// backend running inside Node (a cheap first parity check before the browser e2e test).

import { readFileSync } from 'node:fs';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archModelSpec, CLIP_BPE_PATH, ensureArchModels, readArchModel } from '../../scripts/archmodels.ts';
import { ClipEngine, type EngineInit } from './session.ts';
import { cosine, norm } from './similarity.ts';
import { ClipTokenizer } from './tokenizer.ts';

const spec = archModelSpec('mci0', 'text_mct');
const SIZE = spec.imageSize;
const PER_IMAGE = 3 * SIZE * SIZE;

/** Deterministic, distinct images in [0,1]: smooth colour gradients plus a per-image pattern. */
function testImages(count: number, seed = 0): Float32Array {
  const out = new Float32Array(count * PER_IMAGE);
  for (let n = 0; n < count; n++) {
    const k = n + seed;
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < SIZE; y++) {
        for (let x = 0; x < SIZE; x++) {
          const v = 0.5 + 0.5 * Math.sin((x * (c + 1) + y * (k + 2)) / (9 + 3 * k) + c * k);
          out[n * PER_IMAGE + c * SIZE * SIZE + y * SIZE + x] = v;
        }
      }
    }
  }
  return out;
}

const TEXTS = ['a photo of a cat', 'a red sports car on a wet road', 'diagram of a neural network', 'sunset'];

let tokenizer: ClipTokenizer;
let files: EngineInit['loadFiles'];
let engine: ClipEngine;

beforeAll(async () => {
  ensureArchModels(['mci0', 'text_mct']);
  tokenizer = await ClipTokenizer.load(new Uint8Array(readFileSync(CLIP_BPE_PATH)));
  const vision = readArchModel('mci0');
  const text = readArchModel('text_mct');
  files = async () => ({ vision, text });
  engine = await ClipEngine.create({ spec, ort: ortNode, loadFiles: files, tokenizer, prefer: 'cpu', maxBatch: 2 });
}, 120_000);

afterAll(async () => {
  await engine?.dispose();
});

/** ||a - ref|| / ||ref||. */
function relativeError(a: Float32Array, ref: Float32Array): number {
  let d = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i] - ref[i]) ** 2;
    n += ref[i] ** 2;
  }
  return Math.sqrt(d / n);
}

// With random weights, embeddings of different inputs share a large common component: two
// different images have cosine ~0.9999 and differ by only ~1% (relative L2), different texts
// by 2-35%. So "same result" is checked as a relative error far below that, and "different
// inputs" as a relative distance above it; cosine alone could not tell rows apart.
const SAME = 1e-5;
const DIFFERENT = 1e-3;

describe('ClipEngine on onnxruntime-node (cpu)', () => {
  it('reports its backend and runtime', () => {
    expect(engine.backend).toBe('wasm'); // the CPU provider, natively compiled
    expect(engine.info.runtime).toBe('onnxruntime-node');
    expect(engine.info.openMs.wasm).toBeGreaterThan(0);
  });

  it('returns one unit-length 512-d row per image and per text', async () => {
    const images = await engine.embedImages(testImages(3), 3);
    expect(images).toHaveLength(3);
    for (const row of images) {
      expect(row).toBeInstanceOf(Float32Array);
      expect(row.length).toBe(512);
      expect(row.every(Number.isFinite)).toBe(true);
    }
    const texts = await engine.embedTexts(TEXTS);
    expect(texts.map((r) => r.length)).toEqual([512, 512, 512, 512]);
    // Unit vectors: every consumer compares by cosine.
    for (const row of [...images, ...texts]) expect(norm(row)).toBeCloseTo(1, 5);
    expect(await engine.embedImages(new Float32Array(0), 0)).toEqual([]);
    expect(await engine.embedTexts([])).toEqual([]);
  });

  it('gives the same image embeddings in a batch of 3 (split 2 + 1) as one at a time', async () => {
    const pixels = testImages(3);
    const batch = await engine.embedImages(pixels, 3);
    for (let i = 0; i < 3; i++) {
      const [single] = await engine.embedImages(pixels.slice(i * PER_IMAGE, (i + 1) * PER_IMAGE), 1);
      expect(relativeError(batch[i], single)).toBeLessThan(SAME);
      // Other rows differ clearly, so a row mix-up could not pass.
      for (let j = 0; j < 3; j++) if (j !== i) expect(relativeError(batch[j], single)).toBeGreaterThan(DIFFERENT);
    }
  });

  it('gives the same text embeddings in a batch as one at a time, in order', async () => {
    const batch = await engine.embedTexts(TEXTS);
    for (let i = 0; i < TEXTS.length; i++) {
      const [single] = await engine.embedTexts([TEXTS[i]]);
      expect(relativeError(batch[i], single)).toBeLessThan(SAME);
      for (let j = 0; j < TEXTS.length; j++) if (j !== i) expect(relativeError(batch[j], single)).toBeGreaterThan(DIFFERENT);
    }
  });

  it('answers concurrent requests correctly (runs are serialised)', async () => {
    const pixels = testImages(2, 5);
    const [a, b, t] = await Promise.all([
      engine.embedImages(pixels.subarray(0, PER_IMAGE), 1),
      engine.embedImages(pixels.subarray(PER_IMAGE), 1),
      engine.embedTexts([TEXTS[1]]),
    ]);
    const [a2, b2] = await engine.embedImages(pixels, 2);
    expect(relativeError(a[0], a2)).toBeLessThan(SAME);
    expect(relativeError(b[0], b2)).toBeLessThan(SAME);
    expect(relativeError(a[0], b2)).toBeGreaterThan(DIFFERENT);
    expect(relativeError(t[0], (await engine.embedTexts([TEXTS[1]]))[0])).toBeLessThan(SAME);
  });

  it('rejects pixel buffers that do not match the count', async () => {
    await expect(engine.embedImages(new Float32Array(PER_IMAGE + 1), 1)).rejects.toThrow(RangeError);
    await expect(engine.embedImages(new Float32Array(PER_IMAGE), 2)).rejects.toThrow(RangeError);
  });

  it('rejects a spec whose embedding size does not match the model', async () => {
    await expect(
      ClipEngine.create({ spec: { ...spec, embedDim: 768 }, ort: ortNode, loadFiles: files, tokenizer, prefer: 'cpu' }),
    ).rejects.toThrow(/512-d embeddings but .* declares 768/);
  });

  it('refuses backends onnxruntime-node cannot run', async () => {
    await expect(ClipEngine.create({ spec, ort: ortNode, loadFiles: files, tokenizer, prefer: 'webgpu' })).rejects.toThrow(
      /only runs the 'cpu' backend/,
    );
  });
});

describe("onnxruntime-web's proxy (Firefox), which transfers each input's buffer to its Worker", () => {
  it('leaves the caller\'s pixels readable: a batch split into runs, and the same pixels again, give the rows of onnxruntime-node', async () => {
    ortWeb.env.wasm.numThreads = 1;
    // As ORT's proxy runs: every input's buffer is detached on the way (structuredClone with transfer).
    const transferring = {
      ...ortWeb,
      env: { ...ortWeb.env, wasm: { ...ortWeb.env.wasm, proxy: true } },
      InferenceSession: {
        create: async (...args: Parameters<typeof ortWeb.InferenceSession.create>) => {
          const session = await ortWeb.InferenceSession.create(...args);
          return new Proxy(session, {
            get(target, key) {
              if (key !== 'run') return Reflect.get(target, key, target);
              return (feeds: Record<string, ortWeb.Tensor>, ...rest: unknown[]) => {
                const moved = Object.fromEntries(
                  Object.entries(feeds).map(([name, t]) => {
                    const data = t.data as Float32Array;
                    return [name, new ortWeb.Tensor(t.type, structuredClone(data, { transfer: [data.buffer] }), t.dims)];
                  }),
                );
                return (target.run as (...a: unknown[]) => unknown).call(target, moved, ...rest);
              };
            },
          });
        },
      },
    } as unknown as typeof ortWeb;
    const web = await ClipEngine.create({ spec, ort: transferring, loadFiles: files, tokenizer, prefer: 'wasm', maxBatch: 2 });
    try {
      const pixels = testImages(3, 4);
      const first = await web.embedImages(pixels, 3);
      expect(pixels.byteLength).toBe(3 * PER_IMAGE * 4);
      const again = await web.embedImages(pixels, 3);
      const reference = await engine.embedImages(testImages(3, 4), 3);
      first.forEach((row, i) => {
        expect(relativeError(row, reference[i])).toBeLessThan(SAME);
        expect(relativeError(again[i], reference[i])).toBeLessThan(SAME);
      });
    } finally {
      await web.dispose();
    }
  }, 120_000);
});

describe('onnxruntime-web (WASM, in Node) vs onnxruntime-node', () => {
  it('gives cosine >= 0.9999 and relative error < 1e-5 on the same inputs', async () => {
    ortWeb.env.wasm.numThreads = 1; // 2-core machine: keep it light
    const web = await ClipEngine.create({ spec, ort: ortWeb, loadFiles: files, tokenizer, prefer: 'wasm', maxBatch: 4 });
    try {
      expect(web.backend).toBe('wasm');
      expect(web.info.runtime).toBe('onnxruntime-web');
      const pixels = testImages(2, 1);
      const [webImages, nodeImages] = [await web.embedImages(pixels, 2), await engine.embedImages(pixels, 2)];
      const [webTexts, nodeTexts] = [await web.embedTexts(TEXTS), await engine.embedTexts(TEXTS)];
      const pairs = [...webImages.map((r, i) => [r, nodeImages[i]]), ...webTexts.map((r, i) => [r, nodeTexts[i]])];
      for (const [w, n] of pairs) {
        expect(cosine(w, n)).toBeGreaterThanOrEqual(0.9999);
        // Measured ~2e-7 (images) and ~5e-7 (texts): the same CPU kernels, compiled twice.
        expect(relativeError(w, n)).toBeLessThan(SAME);
      }
    } finally {
      await web.dispose();
    }
    await expect(web.embedTexts(['x'])).rejects.toThrow(/disposed/);
  }, 120_000);
});
