import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodePng, encodePng } from './png';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const refDir = path.resolve(repoRoot, '../shared/refs/preprocess');

// ---------------------------------------------------------------------------------------
// An independent test-only PNG writer (node:zlib for compression and CRC) that can produce
// every colour type, bit depth, filter type and Adam7 interlacing, so the decoder is checked
// against files it did not write itself.

const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

interface PngSpec {
  width: number;
  height: number;
  colorType: 0 | 2 | 3 | 4 | 6;
  bitDepth: 1 | 2 | 4 | 8 | 16;
  /** Raw samples, channels per pixel, row-major. */
  samples: number[];
  /** Filter type for scanline i is filters[i % filters.length]. */
  filters?: number[];
  interlace?: boolean;
  plte?: number[];
  trns?: number[];
}

function chunk(type: string, body: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0);
  return Buffer.concat([head, body, crc]);
}

function packRow(samples: number[], bitDepth: number): Uint8Array {
  const out = new Uint8Array(Math.ceil((samples.length * bitDepth) / 8));
  samples.forEach((s, i) => {
    if (bitDepth === 16) {
      out[2 * i] = s >> 8;
      out[2 * i + 1] = s & 255;
    } else {
      const bit = i * bitDepth;
      out[bit >> 3] |= s << (8 - bitDepth - (bit & 7));
    }
  });
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

function filterRow(type: number, row: Uint8Array, prior: Uint8Array, bpp: number): Uint8Array {
  const out = new Uint8Array(row.length + 1);
  out[0] = type;
  for (let i = 0; i < row.length; i++) {
    const a = i >= bpp ? row[i - bpp] : 0;
    const b = prior[i] ?? 0;
    const c = i >= bpp ? (prior[i - bpp] ?? 0) : 0;
    const predictor = [0, a, b, (a + b) >> 1, paeth(a, b, c)][type];
    out[i + 1] = (row[i] - predictor) & 255;
  }
  return out;
}

function buildPng(spec: PngSpec): Uint8Array {
  const { width, height, colorType, bitDepth, samples } = spec;
  const channels = CHANNELS[colorType];
  const filters = spec.filters ?? [0];
  const bpp = Math.max(1, (channels * bitDepth) >> 3);
  const passes = spec.interlace ? ADAM7 : [[0, 0, 1, 1]];
  const scanlines: Uint8Array[] = [];
  for (const [x0, y0, dx, dy] of passes) {
    let prior: Uint8Array = new Uint8Array(0);
    for (let y = y0; y < height; y += dy) {
      const rowSamples: number[] = [];
      for (let x = x0; x < width; x += dx) rowSamples.push(...samples.slice((y * width + x) * channels, (y * width + x + 1) * channels));
      if (rowSamples.length === 0) continue;
      const row = packRow(rowSamples, bitDepth);
      scanlines.push(filterRow(filters[scanlines.length % filters.length], row, prior, bpp));
      prior = row;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([bitDepth, colorType, 0, 0, spec.interlace ? 1 : 0], 8);
  const parts = [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr)];
  if (spec.plte) parts.push(chunk('PLTE', Uint8Array.from(spec.plte)));
  if (spec.trns) parts.push(chunk('tRNS', Uint8Array.from(spec.trns)));
  // Split the data over two IDAT chunks: decoders must concatenate them.
  const compressed = deflateSync(Buffer.concat(scanlines));
  const half = compressed.length >> 1;
  parts.push(chunk('IDAT', compressed.subarray(0, half)), chunk('IDAT', compressed.subarray(half)));
  parts.push(chunk('IEND', new Uint8Array(0)));
  return new Uint8Array(Buffer.concat(parts));
}

/** Pseudo-random integers in [0, limit). */
function randomSamples(count: number, limit: number, seed: number): number[] {
  let x = seed;
  return Array.from({ length: count }, () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % limit;
  });
}

function pixel(data: ArrayLike<number>, i: number): number[] {
  return [data[i * 4], data[i * 4 + 1], data[i * 4 + 2], data[i * 4 + 3]];
}

// ---------------------------------------------------------------------------------------

describe('decodePng', () => {
  const width = 13;
  const height = 7;
  const n = width * height;

  it('decodes 8-bit RGBA with every filter type', () => {
    const samples = randomSamples(n * 4, 256, 1);
    const image = decodePng(buildPng({ width, height, colorType: 6, bitDepth: 8, samples, filters: [0, 1, 2, 3, 4] }));
    expect([image.width, image.height]).toEqual([width, height]);
    expect(Array.from(image.data)).toEqual(samples);
  });

  it('decodes 8-bit RGB as opaque, with every filter type', () => {
    const samples = randomSamples(n * 3, 256, 2);
    const image = decodePng(buildPng({ width, height, colorType: 2, bitDepth: 8, samples, filters: [4, 3, 2, 1, 0] }));
    for (let i = 0; i < n; i++) expect(pixel(image.data, i)).toEqual([...samples.slice(i * 3, i * 3 + 3), 255]);
  });

  it('keeps the high byte of 16-bit samples', () => {
    const samples = randomSamples(n * 4, 65536, 3);
    const image = decodePng(buildPng({ width, height, colorType: 6, bitDepth: 16, samples, filters: [1, 4, 3] }));
    expect(Array.from(image.data)).toEqual(samples.map((s) => s >> 8));
  });

  it('decodes 16-bit RGB and grey+alpha', () => {
    const rgb = randomSamples(n * 3, 65536, 4);
    const rgbImage = decodePng(buildPng({ width, height, colorType: 2, bitDepth: 16, samples: rgb, filters: [2, 3] }));
    for (let i = 0; i < n; i++) expect(pixel(rgbImage.data, i)).toEqual([...rgb.slice(i * 3, i * 3 + 3).map((s) => s >> 8), 255]);
    const ga = randomSamples(n * 2, 65536, 5);
    const gaImage = decodePng(buildPng({ width, height, colorType: 4, bitDepth: 16, samples: ga, filters: [4] }));
    for (let i = 0; i < n; i++) {
      const g = ga[i * 2] >> 8;
      expect(pixel(gaImage.data, i)).toEqual([g, g, g, ga[i * 2 + 1] >> 8]);
    }
  });

  it('decodes 8-bit grey+alpha', () => {
    const samples = randomSamples(n * 2, 256, 6);
    const image = decodePng(buildPng({ width, height, colorType: 4, bitDepth: 8, samples, filters: [3, 1] }));
    for (let i = 0; i < n; i++) {
      const g = samples[i * 2];
      expect(pixel(image.data, i)).toEqual([g, g, g, samples[i * 2 + 1]]);
    }
  });

  for (const bitDepth of [1, 2, 4, 8, 16] as const) {
    it(`decodes ${bitDepth}-bit grey, scaled to 0..255`, () => {
      const max = 2 ** bitDepth - 1;
      const samples = randomSamples(n, max + 1, 7 + bitDepth);
      const image = decodePng(buildPng({ width, height, colorType: 0, bitDepth, samples, filters: [0, 1, 2, 3, 4] }));
      for (let i = 0; i < n; i++) {
        const g = bitDepth === 16 ? samples[i] >> 8 : Math.round((samples[i] * 255) / max);
        expect(pixel(image.data, i)).toEqual([g, g, g, 255]);
      }
    });
  }

  for (const bitDepth of [1, 2, 4, 8] as const) {
    it(`decodes ${bitDepth}-bit palette with tRNS`, () => {
      const entries = 2 ** bitDepth;
      const plte = randomSamples(entries * 3, 256, 20 + bitDepth);
      const trns = [0, 128]; // shorter than the palette: the remaining entries are opaque
      const samples = randomSamples(n, entries, 30 + bitDepth);
      const image = decodePng(buildPng({ width, height, colorType: 3, bitDepth, samples, plte, trns, filters: [1, 2, 3, 4, 0] }));
      for (let i = 0; i < n; i++) {
        const p = samples[i];
        expect(pixel(image.data, i)).toEqual([...plte.slice(p * 3, p * 3 + 3), trns[p] ?? 255]);
      }
    });
  }

  it('applies a tRNS colour key to RGB and grey images', () => {
    const samples = randomSamples(n * 3, 4, 40); // few values, so the key colour occurs
    const rgb = decodePng(buildPng({ width, height, colorType: 2, bitDepth: 8, samples, trns: [0, 1, 0, 2, 0, 3] }));
    const keyed = (i: number) => samples[i * 3] === 1 && samples[i * 3 + 1] === 2 && samples[i * 3 + 2] === 3;
    expect(Array.from({ length: n }, (_, i) => rgb.data[i * 4 + 3])).toEqual(Array.from({ length: n }, (_, i) => (keyed(i) ? 0 : 255)));

    const grey = randomSamples(n, 4, 41);
    const greyImage = decodePng(buildPng({ width, height, colorType: 0, bitDepth: 2, samples: grey, trns: [0, 2] }));
    expect(Array.from({ length: n }, (_, i) => greyImage.data[i * 4 + 3])).toEqual(grey.map((g) => (g === 2 ? 0 : 255)));
  });

  it('decodes Adam7-interlaced images, including passes that are empty for tiny sizes', () => {
    for (const [w, h] of [
      [width, height],
      [1, 1],
      [3, 2],
      [9, 17],
    ]) {
      const samples = randomSamples(w * h * 4, 256, 50 + w);
      const interlaced = decodePng(buildPng({ width: w, height: h, colorType: 6, bitDepth: 8, samples, interlace: true, filters: [0, 1, 2, 3, 4] }));
      expect(Array.from(interlaced.data), `${w}x${h}`).toEqual(samples);
    }
    const grey = randomSamples(n, 2, 60);
    const greyImage = decodePng(buildPng({ width, height, colorType: 0, bitDepth: 1, samples: grey, interlace: true, filters: [4, 3] }));
    expect(Array.from({ length: n }, (_, i) => greyImage.data[i * 4])).toEqual(grey.map((g) => g * 255));
  });

  it('decodes the reference PNGs (8-bit RGB, several IDAT chunks)', () => {
    // square is 256x256, so its expected preprocessing output is the decoded image itself.
    const square = decodePng(readFileSync(path.join(refDir, 'square.png')));
    const expected = readFileSync(path.join(refDir, 'square.rgb'));
    const rgb = new Uint8Array(256 * 256 * 3);
    for (let i = 0; i < 256 * 256; i++) rgb.set(square.data.subarray(i * 4, i * 4 + 3), i * 3);
    expect(Buffer.from(rgb).equals(expected)).toBe(true);

    for (const name of ['small', 'square', 'odd']) {
      const image = decodePng(readFileSync(path.join(refDir, `${name}.png`)));
      expect(image.data.length).toBe(image.width * image.height * 4);
      expect(image.data.every((v, i) => i % 4 !== 3 || v === 255), `${name} is opaque`).toBe(true);
    }
  });

  it('rejects what it does not support with a clear error', () => {
    expect(() => decodePng(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))).toThrow(/signature/);
    const valid = buildPng({ width: 2, height: 2, colorType: 2, bitDepth: 8, samples: randomSamples(12, 256, 70) });
    expect(() => decodePng(valid.subarray(0, valid.length - 30))).toThrow();
    const badDepth = buildPng({ width: 2, height: 2, colorType: 2, bitDepth: 8, samples: randomSamples(12, 256, 71) });
    badDepth[24] = 4; // IHDR bit depth: RGB does not allow 4
    expect(() => decodePng(badDepth)).toThrow(/bit depth/);
    const badFilter = buildPng({ width: 2, height: 2, colorType: 2, bitDepth: 8, samples: randomSamples(12, 256, 72), filters: [7] });
    expect(() => decodePng(badFilter)).toThrow(/filter type 7/);
  });
});

function idatOf(png: Uint8Array): Buffer {
  const parts: Uint8Array[] = [];
  const view = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  for (let pos = 8; pos < png.length; ) {
    const length = view.readUInt32BE(pos);
    if (view.toString('latin1', pos + 4, pos + 8) === 'IDAT') parts.push(png.subarray(pos + 8, pos + 8 + length));
    pos += 12 + length;
  }
  return Buffer.concat(parts);
}

describe('encodePng', () => {
  it('round-trips RGBA through decodePng', () => {
    for (const [width, height] of [
      [1, 1],
      [17, 5],
      [64, 48],
    ]) {
      const data = Uint8Array.from(randomSamples(width * height * 4, 256, width));
      const decoded = decodePng(encodePng({ data, width, height }));
      expect([decoded.width, decoded.height]).toEqual([width, height]);
      expect(decoded.data).toEqual(data);
    }
  });

  it('writes a standard PNG that node:zlib can inflate, with valid chunk CRCs', () => {
    const data = Uint8Array.from(randomSamples(4 * 3 * 4, 256, 9));
    const png = Buffer.from(encodePng({ data, width: 4, height: 3 }));
    for (let pos = 8; pos < png.length; ) {
      const length = png.readUInt32BE(pos);
      expect(png.readUInt32BE(pos + 8 + length)).toBe(crc32(png.subarray(pos + 4, pos + 8 + length)));
      pos += 12 + length;
    }
    const raw = inflateSync(idatOf(png));
    expect(raw.length).toBe(3 * (1 + 4 * 4));
    expect(Array.from(raw.subarray(1, 17))).toEqual(Array.from(data.subarray(0, 16)));
  });

  it('rejects data of the wrong length', () => {
    expect(() => encodePng({ data: new Uint8Array(15), width: 2, height: 2 })).toThrow(/length/);
  });
});
