// An image's pixel size read from its header, without decoding: how a decompression bomb (a few
// KB that decode to gigabytes) is recognised before any decoder allocates its pixels.
// Reads PNG, JPEG, GIF, WebP, AVIF/HEIF and BMP. Sizes are as stored; `swapsAxes` says the
// picture is shown rotated by a quarter turn (JPEG EXIF orientation 5-8, HEIF irot 1 or 3).

export type ImageFormat = 'png' | 'jpeg' | 'gif' | 'webp' | 'avif' | 'bmp';

export interface ImageHeader {
  format: ImageFormat;
  width: number;
  height: number;
  swapsAxes: boolean;
}

type Bytes = Uint8Array;

const u16be = (b: Bytes, i: number) => (b[i] << 8) | b[i + 1];
const u16le = (b: Bytes, i: number) => b[i] | (b[i + 1] << 8);
const u24le = (b: Bytes, i: number) => b[i] | (b[i + 1] << 8) | (b[i + 2] << 16);
const u32be = (b: Bytes, i: number) => ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
const u32le = (b: Bytes, i: number) => (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
const i32le = (b: Bytes, i: number) => b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
const ascii = (b: Bytes, i: number, n: number) => String.fromCharCode(...b.subarray(i, i + n));

/** The header's size, or null when the bytes are not (the start of) an image format listed above. */
export function readImageHeader(bytes: Bytes): ImageHeader | null {
  const header = png(bytes) ?? jpeg(bytes) ?? gif(bytes) ?? webp(bytes) ?? heif(bytes) ?? bmp(bytes);
  return header && header.width > 0 && header.height > 0 ? header : null;
}

function png(b: Bytes): ImageHeader | null {
  if (b.length < 24 || u32be(b, 0) !== 0x89504e47 || u32be(b, 4) !== 0x0d0a1a0a || ascii(b, 12, 4) !== 'IHDR') return null;
  return { format: 'png', width: u32be(b, 16), height: u32be(b, 20), swapsAxes: false };
}

function gif(b: Bytes): ImageHeader | null {
  if (b.length < 10 || !/^GIF8[79]a$/.test(ascii(b, 0, 6))) return null;
  return { format: 'gif', width: u16le(b, 6), height: u16le(b, 8), swapsAxes: false };
}

function bmp(b: Bytes): ImageHeader | null {
  if (b.length < 26 || ascii(b, 0, 2) !== 'BM') return null;
  const dibSize = u32le(b, 14);
  if (dibSize === 12) return { format: 'bmp', width: u16le(b, 18), height: u16le(b, 20), swapsAxes: false };
  // Negative heights are top-down bitmaps.
  return dibSize >= 40 ? { format: 'bmp', width: Math.abs(i32le(b, 18)), height: Math.abs(i32le(b, 22)), swapsAxes: false } : null;
}

function webp(b: Bytes): ImageHeader | null {
  if (b.length < 30 || ascii(b, 0, 4) !== 'RIFF' || ascii(b, 8, 4) !== 'WEBP') return null;
  const chunk = ascii(b, 12, 4);
  if (chunk === 'VP8 ' && b[23] === 0x9d && b[24] === 0x01 && b[25] === 0x2a) {
    return { format: 'webp', width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff, swapsAxes: false };
  }
  if (chunk === 'VP8L' && b[20] === 0x2f) {
    const bits = u32le(b, 21);
    return { format: 'webp', width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1, swapsAxes: false };
  }
  if (chunk === 'VP8X') return { format: 'webp', width: u24le(b, 24) + 1, height: u24le(b, 27) + 1, swapsAxes: false };
  return null;
}

/** JPEG: the first SOFn segment's size; EXIF orientation from APP1. */
function jpeg(b: Bytes): ImageHeader | null {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return null;
  let swapsAxes = false;
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return null;
    const marker = b[i + 1];
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2;
      continue;
    }
    const length = u16be(b, i + 2);
    if (length < 2) return null;
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (i + 9 > b.length) return null;
      return { format: 'jpeg', width: u16be(b, i + 7), height: u16be(b, i + 5), swapsAxes };
    }
    if (marker === 0xda || marker === 0xd9) return null; // scan data or the end before any frame header
    if (marker === 0xe1 && ascii(b, i + 4, 6) === 'Exif\0\0') swapsAxes = exifOrientation(b.subarray(i + 10, i + 2 + length)) >= 5;
    i += 2 + length;
  }
  return null;
}

/** The TIFF Orientation tag (0x0112) of IFD0, 1 when absent or unreadable. */
function exifOrientation(tiff: Bytes): number {
  if (tiff.length < 8) return 1;
  const little = tiff[0] === 0x49;
  if (!little && tiff[0] !== 0x4d) return 1;
  const r16 = (i: number) => (little ? u16le(tiff, i) : u16be(tiff, i));
  const r32 = (i: number) => (little ? u32le(tiff, i) : u32be(tiff, i));
  const ifd = r32(4);
  if (ifd + 2 > tiff.length) return 1;
  const entries = r16(ifd);
  for (let e = 0; e < entries; e++) {
    const at = ifd + 2 + e * 12;
    if (at + 12 > tiff.length) return 1;
    if (r16(at) === 0x0112) return r16(at + 8);
  }
  return 1;
}

/**
 * AVIF/HEIF (ISO BMFF): the first `ispe` (image spatial extent) property inside meta/iprp/ipco,
 * and an `irot` of a quarter turn. The primary item's size is the largest one listed, which is
 * what a decoder allocates.
 */
function heif(b: Bytes): ImageHeader | null {
  if (b.length < 16 || ascii(b, 4, 4) !== 'ftyp') return null;
  const brands = ascii(b, 8, Math.min(u32be(b, 0), b.length) - 8);
  if (!/avif|avis|heic|heix|mif1|msf1/.test(brands)) return null;
  let width = 0;
  let height = 0;
  let swapsAxes = false;
  const walk = (start: number, end: number, depth: number): void => {
    let i = start;
    while (i + 8 <= end && depth < 6) {
      const size = u32be(b, i);
      const type = ascii(b, i + 4, 4);
      const boxEnd = size === 0 ? end : i + size;
      if (size !== 0 && size < 8) return;
      if (type === 'meta') walk(i + 12, Math.min(boxEnd, end), depth + 1); // full box: version and flags first
      else if (type === 'iprp' || type === 'ipco') walk(i + 8, Math.min(boxEnd, end), depth + 1);
      else if (type === 'ispe' && i + 20 <= end) {
        const w = u32be(b, i + 12);
        const h = u32be(b, i + 16);
        if (w * h > width * height) [width, height] = [w, h];
      } else if (type === 'irot' && i + 9 <= end) swapsAxes = (b[i + 8] & 1) === 1;
      i = boxEnd;
    }
  };
  walk(u32be(b, 0), b.length, 0);
  return width > 0 && height > 0 ? { format: 'avif', width, height, swapsAxes } : null;
}
