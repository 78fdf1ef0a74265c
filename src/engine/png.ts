// A small PNG codec for Node tests and the CLI, where there is no createImageBitmap.
// Browsers decode with their own decoders (see decode.ts); this exists so the exact same
// preprocessing code can be checked against the reference outputs outside a browser.
// Inflate/deflate come from fflate, which is plain JS and therefore runs everywhere.

import { unzlibSync, zlibSync } from 'fflate';
import { concatBytes } from '../bytes';
import type { RGBAImage } from './preprocess';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

// PNG colour types (IHDR byte 9). Plain constants rather than an enum so the file stays
// erasable TypeScript.
const ColorType = { Grey: 0, RGB: 2, Palette: 3, GreyAlpha: 4, RGBA: 6 } as const;
type ColorType = (typeof ColorType)[keyof typeof ColorType];

const CHANNELS: Record<number, number> = {
  [ColorType.Grey]: 1,
  [ColorType.RGB]: 3,
  [ColorType.Palette]: 1,
  [ColorType.GreyAlpha]: 2,
  [ColorType.RGBA]: 4,
};

const ALLOWED_DEPTHS: Record<number, readonly number[]> = {
  [ColorType.Grey]: [1, 2, 4, 8, 16],
  [ColorType.RGB]: [8, 16],
  [ColorType.Palette]: [1, 2, 4, 8],
  [ColorType.GreyAlpha]: [8, 16],
  [ColorType.RGBA]: [8, 16],
};

// Adam7 passes: [startX, startY, stepX, stepY].
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

interface Header {
  width: number;
  height: number;
  bitDepth: number;
  colorType: ColorType;
  interlaced: boolean;
}

/** Colour information that turns decoded samples into RGBA. */
interface ColorInfo {
  /** RGBA entries, 4 bytes each (alpha 255 unless tRNS says otherwise). */
  palette?: Uint8Array;
  /** tRNS colour key for grey/RGB images, as raw samples at the image's bit depth. */
  transparentKey?: number[];
}

export function decodePng(bytes: Uint8Array): RGBAImage {
  for (let i = 0; i < SIGNATURE.length; i++) {
    if (bytes[i] !== SIGNATURE[i]) throw new Error('Not a PNG file (bad signature)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let header: Header | undefined;
  const colors: ColorInfo = {};
  let paletteRgb: Uint8Array | undefined;
  let paletteAlpha: Uint8Array | undefined;
  const idat: Uint8Array[] = [];

  let pos = SIGNATURE.length;
  while (pos + 8 <= bytes.length) {
    const length = view.getUint32(pos);
    const type = String.fromCharCode(bytes[pos + 4], bytes[pos + 5], bytes[pos + 6], bytes[pos + 7]);
    const start = pos + 8;
    const end = start + length;
    if (end + 4 > bytes.length) throw new Error(`Truncated PNG: chunk ${type} runs past the end`);
    const body = bytes.subarray(start, end);
    pos = end + 4; // skip CRC: tests and CLI inputs are trusted, and zlib catches most corruption

    if (type === 'IHDR') {
      header = parseHeader(body);
    } else if (type === 'PLTE') {
      paletteRgb = body;
    } else if (type === 'tRNS') {
      if (!header) throw new Error('PNG tRNS chunk before IHDR');
      if (header.colorType === ColorType.Palette) paletteAlpha = body;
      else if (header.colorType === ColorType.Grey) colors.transparentKey = [readU16(body, 0)];
      else if (header.colorType === ColorType.RGB)
        colors.transparentKey = [readU16(body, 0), readU16(body, 2), readU16(body, 4)];
    } else if (type === 'IDAT') {
      idat.push(body);
    } else if (type === 'IEND') {
      break;
    }
  }
  if (!header) throw new Error('PNG has no IHDR chunk');
  if (idat.length === 0) throw new Error('PNG has no IDAT chunk');
  if (header.colorType === ColorType.Palette) {
    if (!paletteRgb) throw new Error('Palette PNG has no PLTE chunk');
    colors.palette = buildPalette(paletteRgb, paletteAlpha);
  }

  const raw = unzlibSync(concatBytes(idat));
  const out = new Uint8Array(header.width * header.height * 4);
  if (header.interlaced) {
    let offset = 0;
    for (const [x0, y0, dx, dy] of ADAM7) {
      const w = Math.ceil((header.width - x0) / dx);
      const h = Math.ceil((header.height - y0) / dy);
      if (w <= 0 || h <= 0) continue; // empty passes have no filter bytes at all
      offset = decodePass(raw, offset, header, colors, w, h, out, x0, y0, dx, dy);
    }
  } else {
    decodePass(raw, 0, header, colors, header.width, header.height, out, 0, 0, 1, 1);
  }
  return { data: out, width: header.width, height: header.height };
}

function parseHeader(body: Uint8Array): Header {
  if (body.length < 13) throw new Error('PNG IHDR chunk too short');
  const width = readU32(body, 0);
  const height = readU32(body, 4);
  const bitDepth = body[8];
  const colorType = body[9] as ColorType;
  const [compression, filter, interlace] = [body[10], body[11], body[12]];
  if (width === 0 || height === 0) throw new Error('PNG has zero width or height');
  const depths = ALLOWED_DEPTHS[colorType];
  if (!depths) throw new Error(`Unsupported PNG colour type ${colorType}`);
  if (!depths.includes(bitDepth))
    throw new Error(`Invalid PNG bit depth ${bitDepth} for colour type ${colorType}`);
  if (compression !== 0 || filter !== 0) throw new Error('Unsupported PNG compression or filter method');
  if (interlace > 1) throw new Error(`Unsupported PNG interlace method ${interlace}`);
  return { width, height, bitDepth, colorType, interlaced: interlace === 1 };
}

function buildPalette(rgb: Uint8Array, alpha: Uint8Array | undefined): Uint8Array {
  const entries = Math.floor(rgb.length / 3);
  // 256 entries always, so out-of-range indices read as opaque black rather than undefined.
  const palette = new Uint8Array(256 * 4);
  for (let i = 0; i < 256; i++) palette[i * 4 + 3] = 255;
  for (let i = 0; i < entries; i++) {
    palette[i * 4] = rgb[i * 3];
    palette[i * 4 + 1] = rgb[i * 3 + 1];
    palette[i * 4 + 2] = rgb[i * 3 + 2];
    if (alpha && i < alpha.length) palette[i * 4 + 3] = alpha[i];
  }
  return palette;
}

/**
 * Unfilters one (sub-)image of w x h pixels starting at raw[offset] and writes its pixels into
 * out at (x0 + x*dx, y0 + y*dy). Returns the offset just past the consumed data.
 */
function decodePass(
  raw: Uint8Array,
  offset: number,
  header: Header,
  colors: ColorInfo,
  w: number,
  h: number,
  out: Uint8Array,
  x0: number,
  y0: number,
  dx: number,
  dy: number,
): number {
  const channels = CHANNELS[header.colorType];
  const bitsPerPixel = channels * header.bitDepth;
  const stride = Math.ceil((w * bitsPerPixel) / 8);
  // Filters look back one whole pixel, or one byte when pixels are smaller than a byte.
  const bpp = Math.max(1, bitsPerPixel >> 3);
  if (offset + h * (stride + 1) > raw.length) throw new Error('PNG image data is truncated');

  let prev = new Uint8Array(stride);
  let line = new Uint8Array(stride);
  for (let y = 0; y < h; y++) {
    const filterType = raw[offset];
    line.set(raw.subarray(offset + 1, offset + 1 + stride));
    offset += stride + 1;
    unfilter(filterType, line, prev, bpp);
    writeRow(line, header, colors, w, out, ((y0 + y * dy) * header.width + x0) * 4, dx * 4);
    [prev, line] = [line, prev];
  }
  return offset;
}

function unfilter(filterType: number, line: Uint8Array, prev: Uint8Array, bpp: number): void {
  const n = line.length;
  switch (filterType) {
    case 0:
      return;
    case 1: // Sub
      for (let i = bpp; i < n; i++) line[i] = (line[i] + line[i - bpp]) & 255;
      return;
    case 2: // Up
      for (let i = 0; i < n; i++) line[i] = (line[i] + prev[i]) & 255;
      return;
    case 3: // Average
      for (let i = 0; i < bpp; i++) line[i] = (line[i] + (prev[i] >> 1)) & 255;
      for (let i = bpp; i < n; i++) line[i] = (line[i] + ((line[i - bpp] + prev[i]) >> 1)) & 255;
      return;
    case 4: // Paeth
      for (let i = 0; i < bpp; i++) line[i] = (line[i] + prev[i]) & 255;
      for (let i = bpp; i < n; i++) {
        const a = line[i - bpp];
        const b = prev[i];
        const c = prev[i - bpp];
        const pa = Math.abs(b - c);
        const pb = Math.abs(a - c);
        const pc = Math.abs(a + b - 2 * c);
        const predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
        line[i] = (line[i] + predictor) & 255;
      }
      return;
    default:
      throw new Error(`Invalid PNG filter type ${filterType}`);
  }
}

/** Converts one unfiltered scanline to RGBA, writing pixel i at out[start + i*step]. */
function writeRow(
  line: Uint8Array,
  header: Header,
  colors: ColorInfo,
  w: number,
  out: Uint8Array,
  start: number,
  step: number,
): void {
  const { bitDepth, colorType } = header;
  const key = colors.transparentKey;
  const sample = sampleReader(line, bitDepth);

  for (let x = 0, o = start; x < w; x++, o += step) {
    switch (colorType) {
      case ColorType.Grey: {
        const s = sample(x);
        const v = to8Bit(s, bitDepth);
        out[o] = out[o + 1] = out[o + 2] = v;
        out[o + 3] = key && s === key[0] ? 0 : 255;
        break;
      }
      case ColorType.RGB: {
        const r = sample(3 * x);
        const g = sample(3 * x + 1);
        const b = sample(3 * x + 2);
        out[o] = to8Bit(r, bitDepth);
        out[o + 1] = to8Bit(g, bitDepth);
        out[o + 2] = to8Bit(b, bitDepth);
        out[o + 3] = key && r === key[0] && g === key[1] && b === key[2] ? 0 : 255;
        break;
      }
      case ColorType.Palette: {
        const p = sample(x) * 4;
        const palette = colors.palette!;
        out[o] = palette[p];
        out[o + 1] = palette[p + 1];
        out[o + 2] = palette[p + 2];
        out[o + 3] = palette[p + 3];
        break;
      }
      case ColorType.GreyAlpha: {
        const v = to8Bit(sample(2 * x), bitDepth);
        out[o] = out[o + 1] = out[o + 2] = v;
        out[o + 3] = to8Bit(sample(2 * x + 1), bitDepth);
        break;
      }
      case ColorType.RGBA:
        out[o] = to8Bit(sample(4 * x), bitDepth);
        out[o + 1] = to8Bit(sample(4 * x + 1), bitDepth);
        out[o + 2] = to8Bit(sample(4 * x + 2), bitDepth);
        out[o + 3] = to8Bit(sample(4 * x + 3), bitDepth);
        break;
    }
  }
}

/** Returns a reader for the i-th sample of a scanline at the given bit depth (raw value). */
function sampleReader(line: Uint8Array, bitDepth: number): (i: number) => number {
  switch (bitDepth) {
    case 8:
      return (i) => line[i];
    case 16:
      return (i) => (line[2 * i] << 8) | line[2 * i + 1];
    default: {
      // 1, 2 or 4 bits: samples are packed most significant bits first.
      const perByte = 8 / bitDepth;
      const mask = (1 << bitDepth) - 1;
      return (i) => (line[Math.floor(i / perByte)] >> ((perByte - 1 - (i % perByte)) * bitDepth)) & mask;
    }
  }
}

/** Scales a raw sample to 0..255; 16-bit keeps the high byte, low depths scale up exactly. */
function to8Bit(sample: number, bitDepth: number): number {
  if (bitDepth === 8) return sample;
  if (bitDepth === 16) return sample >> 8;
  return (sample * 255) / ((1 << bitDepth) - 1);
}

/** Encodes RGBA as an 8-bit colour-type-6 PNG with filter 0 on every row: simple, not small. */
export function encodePng(image: RGBAImage): Uint8Array {
  const { width, height, data } = image;
  if (data.length !== width * height * 4) throw new Error('encodePng: data length does not match width*height*4');
  const stride = width * 4;
  const raw = new Uint8Array(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0;
    raw.set(data.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  }
  const ihdr = new Uint8Array(13);
  writeU32(ihdr, 0, width);
  writeU32(ihdr, 4, height);
  ihdr.set([8, ColorType.RGBA, 0, 0, 0], 8);
  return concatBytes([
    Uint8Array.from(SIGNATURE),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlibSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  writeU32(out, 0, body.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(body, 8);
  writeU32(out, 8 + body.length, crc32(out.subarray(4, 8 + body.length)));
  return out;
}

let crcTable: Uint32Array | undefined;

function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = crcTable[(crc ^ bytes[i]) & 255] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function readU16(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] << 8) | bytes[offset + 1];
}

function readU32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]) >>> 0;
}

function writeU32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 24;
  bytes[offset + 1] = (value >>> 16) & 255;
  bytes[offset + 2] = (value >>> 8) & 255;
  bytes[offset + 3] = value & 255;
}
