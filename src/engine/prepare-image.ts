// One decode per image for everything indexing needs from its pixels: the model input
// (preprocess.ts, Pillow-exact from the fully decoded pixels, as the reference model expects)
// and the popup's small preview, a by-product of the model input's resize. No second decode, no
// probe decode for the size. Web platform APIs only: runs in the offscreen document's decode
// worker (Chrome), the event page (Firefox) and the service worker (fallback).
import { decodeBitmap, readPixels, type DecodeOptions } from './decode';
import { normalizationOf, resizeAndCrop, sourceWindow, toPixelValues, type PreprocessSpec } from './preprocess';
import { releaseBuffer } from '../bytes';

/** The popup's grid tiles: previews at most this many pixels a side. */
export const PREVIEW_MAX_SIDE = 192;
const PREVIEW_QUALITY = 0.8;

export interface PreparedImage {
  /** CHW float32 model input for `spec.imageSize`. */
  pixels: Float32Array;
  /** JPEG preview of the model's square crop, at most PREVIEW_MAX_SIDE a side; null when the browser would not encode one. */
  preview: Blob | null;
}

export async function prepareImage(blob: Blob, spec: PreprocessSpec, options: DecodeOptions = {}): Promise<PreparedImage> {
  const bitmap = await decodeBitmap(blob, options);
  let image;
  try {
    // Only the part the centre crop reads: a wide or tall picture's sides are never copied.
    image = readPixels(bitmap, sourceWindow(bitmap.width, bitmap.height, spec.imageSize), () => bitmap.close());
  } finally {
    // The full-size decoded pixels live outside the JS heap until closed.
    bitmap.close();
  }
  const crop = resizeAndCrop(image, spec.imageSize);
  // The read-back is as large as the crop's source, often tens of megabytes; read once.
  releaseBuffer(image.data.buffer);
  const pixels = toPixelValues(crop, spec.imageSize, normalizationOf(spec));
  const canvas = drawCropPreview(crop, spec.imageSize);
  return { pixels, preview: canvas ? await encodePreview(canvas) : null };
}

/**
 * The preview made from the model input's resized centre crop (HWC RGB, `size` a side, alpha
 * already on white): the square the popup's tiles show of any picture (`object-fit: cover`), so
 * it costs a draw at the model's input size instead of filtering the full-size picture down, and
 * tiles of wide or tall pictures get the crop at the preview's full resolution. Null without a
 * canvas.
 */
export function drawCropPreview(crop: Uint8Array, size: number): OffscreenCanvas | null {
  const rgba = new Uint8ClampedArray(size * size * 4);
  for (let i = 0, j = 0; i < crop.length; i += 3, j += 4) {
    rgba[j] = crop[i];
    rgba[j + 1] = crop[i + 1];
    rgba[j + 2] = crop[i + 2];
    rgba[j + 3] = 255;
  }
  const full = new OffscreenCanvas(size, size);
  const context = full.getContext('2d');
  if (!context) return null;
  context.putImageData(new ImageData(rgba, size, size), 0, 0);
  const side = Math.min(size, PREVIEW_MAX_SIDE);
  return side === size ? full : drawn(full, side, side);
}

/** A preview alone (an image answered from the cache was never decoded here): one bounded decode. */
export async function previewImage(blob: Blob, options: DecodeOptions = {}): Promise<Blob> {
  const bitmap = await decodeBitmap(blob, options);
  let canvas: OffscreenCanvas | null;
  try {
    canvas = drawPreview(bitmap);
  } finally {
    bitmap.close();
  }
  if (!canvas) throw new Error(`no canvas for a preview of ${bitmap.width}x${bitmap.height} pixels`);
  return canvas.convertToBlob({ type: 'image/jpeg', quality: PREVIEW_QUALITY });
}

/**
 * The preview drawn from a whole decoded bitmap (an image not decoded for the model: see
 * previewImage); null when the browser gives no canvas for it. A large
 * picture is halved step by step with bilinear filtering ('low' smoothing), each step reading
 * every pixel of the one before, then drawn at the preview's size. 'medium' and 'high' would
 * filter as well in one step, but build the whole picture's mip levels, which Chromium keeps in
 * discardable shared memory long after the bitmap is closed (bench/README.md).
 */
export function drawPreview(bitmap: ImageBitmap): OffscreenCanvas | null {
  const { width, height } = previewSize(bitmap);
  let source: ImageBitmap | OffscreenCanvas = bitmap;
  // A step's backing store goes once the next is drawn, not at a later collection (the caller closes the bitmap).
  const dropStep = () => {
    if (source instanceof OffscreenCanvas) source.width = 0;
  };
  try {
    while (source.width > 2 * width || source.height > 2 * height) {
      const step = drawn(source, Math.max(width, Math.ceil(source.width / 2)), Math.max(height, Math.ceil(source.height / 2)));
      if (!step) return null;
      dropStep();
      source = step;
    }
    // JPEG has no alpha: transparent images get the white the popup shows around them.
    return drawn(source, width, height, '#fff');
  } finally {
    dropStep();
  }
}

/** A picture's preview size: at most PREVIEW_MAX_SIDE a side, never enlarged, its proportions kept. */
export function previewSize(picture: { width: number; height: number }): { width: number; height: number } {
  const scale = Math.min(1, PREVIEW_MAX_SIDE / Math.max(picture.width, picture.height));
  return { width: Math.max(1, Math.round(picture.width * scale)), height: Math.max(1, Math.round(picture.height * scale)) };
}

/** `source` drawn on a new canvas of this size (on `background` if given); null without a canvas. */
function drawn(source: ImageBitmap | OffscreenCanvas, width: number, height: number, background?: string): OffscreenCanvas | null {
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d');
  if (!context) return null;
  if (background) {
    context.fillStyle = background;
    context.fillRect(0, 0, width, height);
  }
  context.imageSmoothingQuality = 'low';
  context.drawImage(source, 0, 0, width, height);
  return canvas;
}

/** A preview that cannot be encoded does not fail the image: the popup then loads it from its address. */
export const encodePreview = (canvas: OffscreenCanvas): Promise<Blob | null> => canvas.convertToBlob({ type: 'image/jpeg', quality: PREVIEW_QUALITY }).catch(() => null);
