// How large an image the engine decodes. A few kilobytes of PNG can declare 20000x20000 pixels
// (1.6 GB of RGBA); past the browser's canvas limits getImageData returns zeros, which would be
// embedded as a blank picture. Every decode is planned from the header's size first.

/** Pixels decoded for the model at most (RGBA: 160 MB). */
export const MAX_DECODE_PIXELS = 40_000_000;
/**
 * Source images larger than this are refused outright: the browser's decoder may hold the whole
 * image in memory before shrinking it (RGBA: 1 GB).
 */
export const MAX_SOURCE_PIXELS = 250_000_000;

export interface Size {
  width: number;
  height: number;
}

export type DecodePlan =
  | { kind: 'full' }
  /** Decode straight to this size (aspect kept; the shorter side still at least the model's input). */
  | { kind: 'downscale'; width: number; height: number }
  | { kind: 'refuse'; reason: string };

const megapixels = (size: Size) => `${size.width}x${size.height} (${Math.round((size.width * size.height) / 1e6)} MP)`;

/**
 * `targetSize` is the model's input (its shortest-edge resize): shrinking below it would lose
 * detail the model sees, so an image that fits the budget only that small is refused instead.
 */
export function decodePlan(size: Size, targetSize: number, limits: { maxPixels?: number; maxSourcePixels?: number } = {}): DecodePlan {
  const maxPixels = limits.maxPixels ?? MAX_DECODE_PIXELS;
  const maxSourcePixels = limits.maxSourcePixels ?? MAX_SOURCE_PIXELS;
  const { width, height } = size;
  if (!(width > 0 && height > 0 && Number.isFinite(width * height))) return { kind: 'refuse', reason: `no usable size (${width}x${height})` };
  const pixels = width * height;
  if (pixels <= maxPixels) return { kind: 'full' };
  if (pixels > maxSourcePixels) return { kind: 'refuse', reason: `too many pixels to decode safely: ${megapixels(size)}` };
  const scale = Math.sqrt(maxPixels / pixels);
  const scaled = { width: Math.max(1, Math.floor(width * scale)), height: Math.max(1, Math.floor(height * scale)) };
  if (Math.min(scaled.width, scaled.height) < targetSize) {
    return { kind: 'refuse', reason: `too large to decode whole and too narrow to shrink: ${megapixels(size)}` };
  }
  return { kind: 'downscale', ...scaled };
}

/** Thrown when pixels read back from a canvas are all zero: the browser could not provide them. */
export class PixelsUnreadableError extends Error {}

/**
 * Refuses an all-zero read-back. Browsers answer getImageData on a canvas they could not allocate
 * with transparent black, not an error; composited on white for the model it would become a
 * white picture. A genuinely fully transparent image shows nothing either, so nothing is lost.
 */
export function checkReadBack(data: Uint8ClampedArray | Uint8Array, size: Size): void {
  // 32 bits at a time where alignment allows: a real image is seen to be non-zero within its first bytes.
  const words = data.byteOffset % 4 === 0 ? new Uint32Array(data.buffer, data.byteOffset, data.byteLength >> 2) : null;
  if (words) {
    for (let i = 0; i < words.length; i++) if (words[i] !== 0) return;
    for (let i = words.length * 4; i < data.length; i++) if (data[i] !== 0) return;
  } else {
    for (let i = 0; i < data.length; i++) if (data[i] !== 0) return;
  }
  throw new PixelsUnreadableError(`pixels could not be read (${size.width}x${size.height} came back empty)`);
}
