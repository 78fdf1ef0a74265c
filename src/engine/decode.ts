// Browser-side image decoding (pages, workers, offscreen documents): bytes -> RGBAImage for
// preprocess.ts. Uses only web platform APIs, no extension APIs. Node has no
// createImageBitmap; the CLI and Node tests decode PNGs with png.ts instead.
//
// Every decode is bounded (image-budget.ts): the header's size is read first, and an image over
// the pixel budget is decoded straight to a smaller size, or refused with the reason.

import { checkReadBack, decodePlan, MAX_DECODE_PIXELS, type DecodePlan, type Size } from './image-budget';
import { readImageHeader } from './image-header';
import type { RGBAImage, SourceWindow } from './preprocess';
import { MODELS } from './registry';

export interface DecodeOptions {
  /** Pixel budget of the decoded image (default MAX_DECODE_PIXELS). */
  maxPixels?: number;
  /** The shortest side a downscaled image keeps (default: the largest model input). */
  targetSize?: number;
}

export class ImageDecodeError extends Error {}

const LARGEST_MODEL_INPUT = Math.max(...MODELS.map((m) => m.imageSize));
/** Enough for a JPEG's SOF after large EXIF and ICC segments; other formats need a few bytes. */
const HEADER_BYTES = 1 << 20;

/**
 * Decodes any image format the browser supports. The browser's decoders also take care of
 * what a hand-written decoder would get wrong: EXIF orientation (imageOrientation
 * 'from-image' rotates like an <img> does), grayscale and CMYK/YCCK JPEGs (converted to RGB),
 * embedded colour profiles (colorSpaceConversion 'default' converts to sRGB, as displayed).
 * premultiplyAlpha 'none' asks for straight alpha, which is what preprocess expects.
 */
export async function decodeImageBlob(blob: Blob, options: DecodeOptions = {}): Promise<RGBAImage> {
  const bitmap = await decodeBitmap(blob, options);
  try {
    return readPixels(bitmap);
  } finally {
    // Bitmaps hold decoded pixels outside the JS heap until closed or collected.
    bitmap.close();
  }
}

/** The planned, bounded decode itself (see decodeImageBlob); the caller closes the bitmap. */
export async function decodeBitmap(blob: Blob, options: DecodeOptions = {}): Promise<ImageBitmap> {
  const limits = { maxPixels: options.maxPixels ?? MAX_DECODE_PIXELS };
  const targetSize = options.targetSize ?? LARGEST_MODEL_INPUT;
  const header = readImageHeader(new Uint8Array(await blob.slice(0, HEADER_BYTES).arrayBuffer()));
  // Sizes are planned as shown: createImageBitmap's resize applies after the EXIF rotation.
  const shown = header && (header.swapsAxes ? { width: header.height, height: header.width } : header);
  let plan: DecodePlan = shown ? decodePlan(shown, targetSize, limits) : { kind: 'full' };
  if (plan.kind === 'refuse') throw new ImageDecodeError(plan.reason);

  let bitmap = await createImageBitmap(blob, bitmapOptions(plan));
  if (!shown) {
    // A format whose header we do not read: the browser decoded it; bound what is read back.
    plan = decodePlan(bitmap, targetSize, limits);
    if (plan.kind === 'refuse') {
      bitmap.close();
      throw new ImageDecodeError(plan.reason);
    }
    if (plan.kind === 'downscale') {
      const large = bitmap;
      bitmap = await createImageBitmap(large, bitmapOptions(plan)).finally(() => large.close());
    }
  }
  return bitmap;
}

function bitmapOptions(plan: DecodePlan): ImageBitmapOptions {
  const options: ImageBitmapOptions = { imageOrientation: 'from-image', premultiplyAlpha: 'none', colorSpaceConversion: 'default' };
  if (plan.kind === 'downscale') Object.assign(options, { resizeWidth: plan.width, resizeHeight: plan.height, resizeQuality: 'high' });
  return options;
}

/**
 * A decoded bitmap's RGBA pixels (straight alpha, as decodeBitmap asks for), refused when they
 * read back empty. With a window (preprocess.ts's sourceWindow), only those pixels are copied
 * out, marked as lying there: all the model input needs of a picture its crop cuts down.
 */
export function readPixels(bitmap: ImageBitmap, window?: SourceWindow, drawn?: () => void): RGBAImage {
  const picture = { width: bitmap.width, height: bitmap.height };
  const { left, top, width, height } = window ?? { left: 0, top: 0, ...picture };
  const size: Size = { width, height };
  const context = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true });
  if (!context) throw new ImageDecodeError(`no canvas for ${width}x${height} pixels`);
  // A 1:1 copy at integer offsets: no resampling happens, smoothing or not.
  context.drawImage(bitmap, left, top, width, height, 0, 0, width, height);
  if (drawn) {
    // A canvas draws when it is read: one pixel read now puts the pixels on the canvas, so the
    // caller can free the bitmap before the read-back allocates as much again.
    context.getImageData(0, 0, 1, 1);
    drawn();
  }
  const { data } = context.getImageData(0, 0, width, height);
  // The canvas's backing store is as large as the pixels read: freed now, not at the next GC.
  context.canvas.width = 0;
  checkReadBack(data, size);
  return window ? { data, width, height, within: { left, top, of: picture } } : { data, width, height };
}
