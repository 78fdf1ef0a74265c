import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodePng } from './png';
import {
  cropOffsets,
  preprocess,
  resizeAndCrop,
  resizedSize,
  resizeImage,
  sourceWindow,
  toPixelValues,
  type RGBAImage,
} from './preprocess';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const refDir = path.resolve(repoRoot, '../shared/refs/preprocess');

interface ReferenceCase {
  name: string;
  width: number;
  height: number;
  resized: [number, number];
  crop: [number, number];
  expected: string;
}
const referenceCases: ReferenceCase[] = JSON.parse(readFileSync(path.join(refDir, 'cases.json'), 'utf8'));

function diffStats(actual: Uint8Array, expected: Uint8Array): { max: number; mean: number } {
  let max = 0;
  let sum = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (d > max) max = d;
    sum += d;
  }
  return { max, mean: sum / expected.length };
}

/** Deterministic pseudo-random bytes (xorshift), so failures reproduce. */
function noise(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 255;
  }
  return out;
}

function noiseImage(width: number, height: number, seed: number, opaque = true): RGBAImage {
  const data = noise(width * height * 4, seed);
  if (opaque) for (let i = 3; i < data.length; i += 4) data[i] = 255;
  return { data, width, height };
}

function cropRgb(rgb: Uint8Array, width: number, left: number, top: number, cropWidth: number, cropHeight: number): Uint8Array {
  const out = new Uint8Array(cropWidth * cropHeight * 3);
  for (let y = 0; y < cropHeight; y++) {
    const start = ((top + y) * width + left) * 3;
    out.set(rgb.subarray(start, start + cropWidth * 3), y * cropWidth * 3);
  }
  return out;
}

describe('reference cases (PIL bilinear resize + centre crop)', () => {
  for (const ref of referenceCases) {
    it(`${ref.name}: ${ref.width}x${ref.height}`, () => {
      const image = decodePng(readFileSync(path.join(refDir, `${ref.name}.png`)));
      expect([image.width, image.height]).toEqual([ref.width, ref.height]);
      const expected = new Uint8Array(readFileSync(path.join(refDir, ref.expected)));

      const actual = resizeAndCrop(image, 256);
      expect(actual.length).toBe(expected.length);
      const { max, mean } = diffStats(actual, expected);
      const summary = `${ref.name}: max abs diff ${max}, mean abs diff ${mean.toFixed(6)}`;
      expect(max, summary).toBeLessThanOrEqual(1);
      expect(mean, summary).toBeLessThanOrEqual(0.25);
      // Pillow's fixed-point arithmetic is replicated, so anything but an exact match is a regression.
      expect({ max, mean }, summary).toEqual({ max: 0, mean: 0 });
    });
  }

  it('resizedSize and cropOffsets agree with cases.json', () => {
    for (const ref of referenceCases) {
      const resized = resizedSize(ref.width, ref.height, 256);
      expect(resized, ref.name).toEqual(ref.resized);
      expect(cropOffsets(resized[0], resized[1], 256), ref.name).toEqual(ref.crop);
    }
  });
});

describe('resizedSize / cropOffsets', () => {
  it('truncates the long edge rather than rounding', () => {
    expect(resizedSize(3, 2, 256)).toEqual([384, 256]);
    expect(resizedSize(300, 700, 224)).toEqual([224, 522]); // 522.67 -> 522
    expect(resizedSize(256, 256, 256)).toEqual([256, 256]);
  });

  it('rounds crop offsets half to even like Python round()', () => {
    expect(cropOffsets(341, 256, 256)).toEqual([42, 0]); // 42.5 -> 42
    expect(cropOffsets(455, 256, 256)).toEqual([100, 0]); // 99.5 -> 100
    expect(cropOffsets(256, 261, 256)).toEqual([0, 2]); // 2.5 -> 2
    expect(cropOffsets(256, 263, 256)).toEqual([0, 4]); // 3.5 -> 4
    expect(cropOffsets(256, 260, 256)).toEqual([0, 2]);
  });

  it('rejects impossible sizes', () => {
    expect(() => resizedSize(10, 10, 0)).toThrow(/size/);
    expect(() => resizedSize(0, 10, 256)).toThrow(/size/);
    expect(() => cropOffsets(100, 300, 256)).toThrow(/crop/);
  });
});

describe('resizeAndCrop', () => {
  // Computing only the cropped region must give exactly the crop of a full resize, whatever the
  // geometry: downscale, upscale, one pass skipped, extreme aspect ratios.
  const shapes: [number, number, number][] = [
    [97, 61, 32],
    [61, 97, 32],
    [20, 15, 32],
    [15, 20, 32],
    [32, 50, 32],
    [50, 32, 32],
    [32, 32, 32],
    [1, 40, 16],
    [40, 1, 16],
    [300, 33, 24],
    [7, 5, 48],
  ];
  for (const [width, height, size] of shapes) {
    it(`matches a full resize then crop for ${width}x${height} -> ${size}`, () => {
      const image = noiseImage(width, height, width * 1000 + height);
      const [rw, rh] = resizedSize(width, height, size);
      const [left, top] = cropOffsets(rw, rh, size);
      const full = resizeImage(image, rw, rh);
      expect(resizeAndCrop(image, size)).toEqual(cropRgb(full, rw, left, top, size, size));
    });
  }

  it('keeps a uniform image uniform', () => {
    const image: RGBAImage = { data: new Uint8Array(123 * 77 * 4), width: 123, height: 77 };
    for (let i = 0; i < image.data.length; i += 4) image.data.set([12, 200, 99, 255], i);
    const out = resizeAndCrop(image, 64);
    for (let i = 0; i < out.length; i += 3) expect([out[i], out[i + 1], out[i + 2]]).toEqual([12, 200, 99]);
  });

  it('accepts Uint8ClampedArray data at an unaligned offset', () => {
    const image = noiseImage(90, 70, 7);
    const shifted = new Uint8ClampedArray(image.data.length + 1);
    shifted.set(image.data, 1);
    const view = { data: shifted.subarray(1), width: 90, height: 70 };
    expect(resizeAndCrop(view, 40)).toEqual(resizeAndCrop(image, 40));
  });

  it('rejects data shorter than width*height*4', () => {
    expect(() => resizeAndCrop({ data: new Uint8Array(10), width: 4, height: 4 }, 2)).toThrow(/too short/);
  });
});

describe('alpha', () => {
  /** The documented rule: round((c*a + bg*(255-a)) / 255), computed here in floating point. */
  function compositeReference(image: RGBAImage, bg: number): RGBAImage {
    const data = new Uint8Array(image.data.length);
    for (let i = 0; i < data.length; i += 4) {
      const a = image.data[i + 3] / 255;
      for (let c = 0; c < 3; c++) data[i + c] = Math.round(image.data[i + c] * a + bg * (1 - a));
      data[i + 3] = 255;
    }
    return { data, width: image.width, height: image.height };
  }

  // Covers the three code paths: both passes, no horizontal pass, no resampling at all.
  for (const [width, height] of [
    [80, 50],
    [32, 45],
    [32, 32],
  ] as const) {
    it(`composites onto white by default and black on request (${width}x${height} -> 32)`, () => {
      const image = noiseImage(width, height, 99, false);
      expect(resizeAndCrop(image, 32)).toEqual(resizeAndCrop(compositeReference(image, 255), 32));
      expect(resizeAndCrop(image, 32, { background: 'black' })).toEqual(resizeAndCrop(compositeReference(image, 0), 32));
    });
  }

  it('turns fully transparent pixels into the background colour', () => {
    const image = noiseImage(50, 40, 3);
    for (let i = 3; i < image.data.length; i += 4) image.data[i] = 0;
    expect(resizeAndCrop(image, 20).every((v) => v === 255)).toBe(true);
    expect(resizeAndCrop(image, 20, { background: 'black' }).every((v) => v === 0)).toBe(true);
  });
});

/** The pixels of `window` cut out of image, marked as lying there. */
function cutWindow(image: RGBAImage, window: { left: number; top: number; width: number; height: number }): RGBAImage {
  const data = new Uint8Array(window.width * window.height * 4);
  for (let y = 0; y < window.height; y++) {
    const start = ((window.top + y) * image.width + window.left) * 4;
    data.set(image.data.subarray(start, start + window.width * 4), y * window.width * 4);
  }
  return { data, width: window.width, height: window.height, within: { left: window.left, top: window.top, of: { width: image.width, height: image.height } } };
}

describe('sourceWindow: reading back only the pixels the crop needs', () => {
  const cases: [width: number, height: number, size: number, opaque: boolean][] = [
    [3000, 1200, 256, true], // wide: only the centre columns
    [700, 2900, 256, true], // tall: only the centre rows
    [640, 480, 256, false], // transparent pixels: the composited path
    [256, 900, 256, true], // no horizontal pass
    [300, 256, 256, false], // no vertical pass, transparent
    [256, 256, 256, true], // no resize at all: the crop is the picture
    [100, 80, 256, true], // upscale
  ];
  for (const [width, height, size, opaque] of cases) {
    it(`gives the same model input as the whole picture: ${width}x${height} -> ${size}${opaque ? '' : ', transparent'}`, () => {
      const image = noiseImage(width, height, width * 7 + height, opaque);
      const window = sourceWindow(width, height, size);
      expect(window.left).toBeGreaterThanOrEqual(0);
      expect(window.top).toBeGreaterThanOrEqual(0);
      expect(window.left + window.width).toBeLessThanOrEqual(width);
      expect(window.top + window.height).toBeLessThanOrEqual(height);
      expect(resizeAndCrop(cutWindow(image, window), size)).toEqual(resizeAndCrop(image, size));
    });
  }

  it('is smaller than the picture when the crop drops a side', () => {
    expect(sourceWindow(3000, 1200, 256)).toMatchObject({ top: 0, height: 1200 });
    expect(sourceWindow(3000, 1200, 256).width).toBeLessThan(1300);
    expect(sourceWindow(700, 2900, 256)).toMatchObject({ left: 0, width: 700 });
  });

  it('refuses a window that misses pixels the crop needs', () => {
    const image = noiseImage(900, 400, 5);
    const window = sourceWindow(900, 400, 256);
    const short = cutWindow(image, { ...window, left: window.left + 1, width: window.width - 1 });
    expect(() => resizeAndCrop(short, 256)).toThrow(/miss part of the source/);
  });
});

describe('toPixelValues', () => {
  const size = 3;
  const rgb = noise(size * size * 3, 5);

  it('lays out CHW float32 scaled to [0,1]', () => {
    const out = toPixelValues(rgb, size);
    expect(out.length).toBe(3 * size * size);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          expect(out[c * size * size + y * size + x]).toBe(Math.fround(rgb[(y * size + x) * 3 + c] / 255));
        }
      }
    }
    expect(toPixelValues(new Uint8Array([0, 255, 128]), 1)).toEqual(new Float32Array([0, 1, Math.fround(128 / 255)]));
  });

  it('normalises per channel in float32 like torch', () => {
    const norm = { mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711] };
    const out = toPixelValues(rgb, size, norm);
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < size * size; i++) {
        const scaled = Math.fround(rgb[i * 3 + c] / 255);
        const expected = Math.fround(Math.fround(scaled - Math.fround(norm.mean[c])) / Math.fround(norm.std[c]));
        expect(out[c * size * size + i]).toBe(expected);
        expect(out[c * size * size + i]).toBeCloseTo((rgb[i * 3 + c] / 255 - norm.mean[c]) / norm.std[c], 5);
      }
    }
  });

  it('writes into a batch buffer at the given offset and leaves the rest alone', () => {
    const batch = new Float32Array(2 * 3 * size * size + 1).fill(-7);
    const result = toPixelValues(rgb, size, undefined, batch, 3 * size * size);
    expect(result).toBe(batch);
    expect(batch.subarray(0, 3 * size * size).every((v) => v === -7)).toBe(true);
    expect(batch.subarray(3 * size * size, 6 * size * size)).toEqual(toPixelValues(rgb, size));
    expect(batch[6 * size * size]).toBe(-7);
    expect(() => toPixelValues(rgb, size, undefined, batch, 4 * size * size)).toThrow(/too small/);
    expect(() => toPixelValues(rgb.subarray(1), size)).toThrow(/RGB bytes/);
  });
});

describe('preprocess', () => {
  const image = noiseImage(120, 90, 21);

  it('is resizeAndCrop followed by toPixelValues', () => {
    expect(preprocess(image, { imageSize: 64 })).toEqual(toPixelValues(resizeAndCrop(image, 64), 64));
    const norm = { mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.3] };
    expect(preprocess(image, { imageSize: 64, ...norm })).toEqual(toPixelValues(resizeAndCrop(image, 64), 64, norm));
  });

  it('packs into a batch at an offset', () => {
    const batch = new Float32Array(2 * 3 * 64 * 64);
    preprocess(image, { imageSize: 64 }, batch, 3 * 64 * 64);
    expect(batch.subarray(3 * 64 * 64)).toEqual(preprocess(image, { imageSize: 64 }));
  });

  it('requires mean and std together', () => {
    expect(() => preprocess(image, { imageSize: 64, mean: [0, 0, 0] })).toThrow(/mean and std/);
  });
});
