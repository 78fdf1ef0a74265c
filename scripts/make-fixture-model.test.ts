// Runs the generated fixture towers in onnxruntime-node and checks the MobileCLIP I/O
// contract plus the colour semantics browser tests rely on.

import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireModel } from '../src/engine/registry';
import { ClipTokenizer } from '../src/engine/tokenizer';
import { makeFixtureModel } from './make-fixture-model';

const SIZE = 256;
const BPE = path.resolve(import.meta.dirname, '../../shared/clip-bpe/bpe_simple_vocab_16e6.txt.gz');

type RGB = readonly [number, number, number];
type Painter = (x: number, y: number) => RGB;

/** Two palettes: CSS named colours (what e2e pages are likely to use) and off-prototype shades. */
const CSS: Record<string, RGB> = {
  red: [1, 0, 0],
  green: [0, 128 / 255, 0],
  blue: [0, 0, 1],
  yellow: [1, 1, 0],
  black: [0, 0, 0],
  white: [1, 1, 1],
  orange: [1, 165 / 255, 0],
  purple: [128 / 255, 0, 128 / 255],
  pink: [1, 192 / 255, 203 / 255],
  gray: [128 / 255, 128 / 255, 128 / 255],
  brown: [165 / 255, 42 / 255, 42 / 255],
  cyan: [0, 1, 1],
};
const SHADES: Record<string, RGB> = {
  red: [0.9, 0.1, 0.05],
  green: [0.1, 0.6, 0.15],
  blue: [0.1, 0.2, 0.85],
  yellow: [0.98, 0.93, 0.1],
  black: [0.05, 0.04, 0.06],
  white: [0.96, 0.97, 0.95],
  orange: [0.95, 0.55, 0.1],
  purple: [0.45, 0.1, 0.55],
  pink: [1, 0.6, 0.75],
  gray: [0.55, 0.55, 0.52],
  brown: [0.5, 0.3, 0.12],
  cyan: [0.15, 0.85, 0.9],
};
const NAMES = Object.keys(CSS);

let dir: string;
let vision: ort.InferenceSession;
let text: ort.InferenceSession;
let tokenizer: ClipTokenizer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'fixture-model-'));
  await makeFixtureModel(dir, { bpePath: BPE });
  vision = await ort.InferenceSession.create(path.join(dir, 'onnx/vision_model.onnx'));
  text = await ort.InferenceSession.create(path.join(dir, 'onnx/text_model.onnx'));
  tokenizer = await ClipTokenizer.load(new Uint8Array(await readFile(path.join(dir, 'bpe_simple_vocab_16e6.txt.gz'))));
});

afterAll(async () => {
  await vision?.release();
  await text?.release();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Paints images into one [N,3,256,256] tensor (planar RGB in [0,1], as the preprocessing produces). */
function pixelTensor(painters: Painter[]): ort.Tensor {
  const plane = SIZE * SIZE;
  const data = new Float32Array(painters.length * 3 * plane);
  painters.forEach((paint, n) => {
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        const rgb = paint(x, y);
        for (let c = 0; c < 3; c++) data[(n * 3 + c) * plane + y * SIZE + x] = rgb[c];
      }
    }
  });
  return new ort.Tensor('float32', data, [painters.length, 3, SIZE, SIZE]);
}

function rows(t: ort.Tensor): number[][] {
  const [n, d] = t.dims;
  const data = t.data as Float32Array;
  return Array.from({ length: n }, (_, i) => Array.from(data.subarray(i * d, (i + 1) * d)));
}

async function embedImages(painters: Painter[]): Promise<ort.Tensor> {
  const out = await vision.run({ pixel_values: pixelTensor(painters) });
  return out.image_embeds;
}

async function embedTexts(texts: string[]): Promise<ort.Tensor> {
  const ids = tokenizer.tokenizeBatch(texts);
  const out = await text.run({ input_ids: new ort.Tensor('int64', ids, [texts.length, 77]) });
  return out.text_embeds;
}

const norm = (v: number[]) => Math.hypot(...v);
const cosine = (a: number[], b: number[]) => a.reduce((s, x, k) => s + x * b[k], 0) / (norm(a) * norm(b));
const solid = (rgb: RGB): Painter => () => rgb;
/** Buffer.equals: toEqual compares megabyte buffers element by element, far too slowly. */
const sameBytes = (a: Buffer, b: Buffer) => a.equals(b);

/** Index of the candidate most similar to `query`. */
function nearest(query: number[], candidates: number[][]): number {
  const sims = candidates.map((c) => cosine(query, c));
  return sims.indexOf(Math.max(...sims));
}

describe('fixture model files', () => {
  it('writes the Hugging Face-like layout and a manifest describing it', async () => {
    const manifest = JSON.parse(await readFile(path.join(dir, 'fixture.json'), 'utf8'));
    expect(manifest.embedDim).toBe(32);
    expect(manifest.imageSize).toBe(256);
    expect(manifest.note).toMatch(/test fixture/i);
    expect(manifest.colours.map((c: { name: string }) => c.name).sort()).toEqual([...NAMES].sort());
    expect(Object.keys(manifest.files).sort()).toEqual(
      ['bpe_simple_vocab_16e6.txt.gz', 'onnx/text_model.onnx', 'onnx/vision_model.onnx'].sort(),
    );
    expect(sameBytes(await readFile(path.join(dir, 'bpe_simple_vocab_16e6.txt.gz')), await readFile(BPE))).toBe(true);
    // The recorded token of each colour word is the one it encodes to (its first piece for 'cyan').
    for (const c of manifest.colours) {
      c.words.forEach((w: string, k: number) => expect(tokenizer.encode(w)[0], w).toBe(c.tokenIds[k]));
    }
  });

  it('makes exactly the files the registry pins for the fixture (size and SHA-256)', async () => {
    for (const [rel, pin] of Object.entries(requireModel('fixture').source!.files)) {
      const bytes = await readFile(path.join(dir, rel));
      expect({ rel, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }).toEqual({ rel, ...pin });
    }
  });

  it('is byte-identical across runs, skips up-to-date output and repairs damaged output', async () => {
    const other = await mkdtemp(path.join(os.tmpdir(), 'fixture-model-'));
    try {
      await makeFixtureModel(other, { bpePath: BPE });
      for (const rel of ['onnx/vision_model.onnx', 'onnx/text_model.onnx', 'fixture.json']) {
        expect(sameBytes(await readFile(path.join(other, rel)), await readFile(path.join(dir, rel))), rel).toBe(true);
      }

      const visionFile = path.join(other, 'onnx/vision_model.onnx');
      const original = await readFile(visionFile);
      const before = (await stat(visionFile)).mtimeMs;
      await new Promise((r) => setTimeout(r, 20));
      await makeFixtureModel(other, { bpePath: BPE });
      expect((await stat(visionFile)).mtimeMs).toBe(before);

      await writeFile(visionFile, original.subarray(0, 100));
      await makeFixtureModel(other, { bpePath: BPE });
      expect(sameBytes(await readFile(visionFile), original)).toBe(true);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});

describe('fixture model I/O contract', () => {
  it('declares the MobileCLIP input and output names', () => {
    expect(vision.inputNames).toEqual(['pixel_values']);
    expect(vision.outputNames).toEqual(['image_embeds']);
    expect(text.inputNames).toEqual(['input_ids']);
    expect(text.outputNames).toEqual(['text_embeds']);
  });

  it('embeds batches of any size to [N,32] un-normalised vectors, each row independent of the batch', async () => {
    const painters = [solid(CSS.red), solid(CSS.white), solid(CSS.black)];
    const batch = await embedImages(painters);
    expect(batch.dims).toEqual([3, 32]);
    const single = await embedImages([painters[1]]);
    expect(single.dims).toEqual([1, 32]);
    rows(single)[0].forEach((x, k) => expect(x).toBeCloseTo(rows(batch)[1][k], 5));

    const texts = ['red', 'a photo of a dog', 'white sneakers', 'black'];
    const tBatch = await embedTexts(texts);
    expect(tBatch.dims).toEqual([4, 32]);
    const tSingle = await embedTexts([texts[2]]);
    rows(tSingle)[0].forEach((x, k) => expect(x).toBeCloseTo(rows(tBatch)[2][k], 5));

    for (const v of [...rows(batch), ...rows(tBatch)]) {
      expect(Math.abs(norm(v) - 1)).toBeGreaterThan(0.1);
    }
  });

  it('scores a matching pair in the real model\'s cosine range (~0.3), unrelated ones near 0', async () => {
    const [red] = rows(await embedImages([solid(CSS.red)]));
    const [tRed, tBlue] = rows(await embedTexts(['red', 'blue']));
    expect(cosine(red, tRed)).toBeGreaterThan(0.25);
    expect(cosine(red, tRed)).toBeLessThan(0.35);
    expect(Math.abs(cosine(red, tBlue))).toBeLessThan(0.05);
  });
});

describe('fixture model colour semantics', () => {
  for (const [paletteName, palette] of [['CSS named colours', CSS], ['other shades', SHADES]] as const) {
    it(`matches each solid colour image to its colour word and back (${paletteName})`, async () => {
      const images = rows(await embedImages(NAMES.map((n) => solid(palette[n]))));
      const words = rows(await embedTexts(NAMES));
      NAMES.forEach((name, i) => {
        expect(NAMES[nearest(images[i], words)], `image ${name} -> word`).toBe(name);
        expect(NAMES[nearest(words[i], images)], `word ${name} -> image`).toBe(name);
      });
    });
  }

  it('understands synonyms', async () => {
    const images = rows(await embedImages(NAMES.map((n) => solid(SHADES[n]))));
    const synonyms: Record<string, string> = { grey: 'gray', silver: 'gray', violet: 'purple', navy: 'blue', teal: 'cyan', turquoise: 'cyan', aqua: 'cyan' };
    const embeds = rows(await embedTexts(Object.keys(synonyms)));
    Object.values(synonyms).forEach((colour, i) => expect(NAMES[nearest(embeds[i], images)]).toBe(colour));
  });

  it('still matches colours inside longer prompts', async () => {
    const images = rows(await embedImages(NAMES.map((n) => solid(SHADES[n]))));
    for (const template of ['a photo of something {}', '{} sneakers', 'a {} car parked in the street.', 'A close-up photo of a {} wall']) {
      const prompts = rows(await embedTexts(NAMES.map((n) => template.replace('{}', n))));
      NAMES.forEach((name, i) => {
        expect(NAMES[nearest(images[i], prompts)], `image ${name} -> "${template}"`).toBe(name);
        expect(NAMES[nearest(prompts[i], images)], `"${template}" (${name}) -> image`).toBe(name);
      });
    }
  });

  it('leans to the dominant colour of mixed images', async () => {
    const side = Math.round(Math.sqrt(0.6) * SIZE); // a centred square covering 60% of the image
    const lo = (SIZE - side) / 2;
    const inSquare = (x: number, y: number) => x >= lo && x < lo + side && y >= lo && y < lo + side;
    const mixed: Record<string, Painter> = {
      red: (x, y) => (inSquare(x, y) ? CSS.red : CSS.white),
      blue: (x, y) => (y % 32 < 22 ? CSS.blue : CSS.yellow), // ~69% blue, yellow stripes
      green: (x, y) => (inSquare(x, y) ? SHADES.green : x < SIZE / 2 ? CSS.black : CSS.pink),
      white: (x, y) => (x * x + y * y < 120 * 120 ? CSS.orange : CSS.white), // a quarter disc, ~17% orange
    };
    const mixedNames = Object.keys(mixed);
    const mixedEmbeds = rows(await embedImages(mixedNames.map((n) => mixed[n])));
    const words = rows(await embedTexts(NAMES));
    mixedNames.forEach((name, i) => {
      expect(NAMES[nearest(mixedEmbeds[i], words)], `mostly ${name} -> word`).toBe(name);
    });

    // "red" ranks the solid red image first, then the mostly-red one, then everything else.
    const solids = rows(await embedImages(NAMES.map((n) => solid(CSS[n]))));
    const [tRed] = rows(await embedTexts(['red']));
    const mostlyRed = cosine(tRed, mixedEmbeds[0]);
    const solidRed = cosine(tRed, solids[NAMES.indexOf('red')]);
    expect(solidRed).toBeGreaterThan(mostlyRed);
    NAMES.filter((n) => n !== 'red').forEach((n) => {
      expect(mostlyRed, `mostly red vs solid ${n}`).toBeGreaterThan(cosine(tRed, solids[NAMES.indexOf(n)]) + 0.1);
    });
  });

  it('gives texts without colour words distinct embeddings that favour no colour', async () => {
    const [dog, cat] = rows(await embedTexts(['a photo of a dog', 'a photo of a cat']));
    expect(cosine(dog, cat)).toBeLessThan(0.999);
    const images = rows(await embedImages(NAMES.map((n) => solid(SHADES[n]))));
    for (const img of images) expect(Math.abs(cosine(dog, img))).toBeLessThan(0.1);
  });
});
