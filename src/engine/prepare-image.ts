// One decode per image for everything indexing needs from its pixels: the model input
// (preprocess.ts, Pillow-exact from the fully decoded pixels, as the reference model expects)
// and the popup's small preview, drawn from the same decoded bitmap. No second decode, no probe
// decode for the size. Web platform APIs only: runs in the offscreen document's decode worker
// (Chrome), the event page (Firefox) and the service worker (fallback).
import { decodeBitmap, readPixels, type DecodeOptions } from './decode';
import { preprocess, sourceWindow, type PreprocessSpec } from './preprocess';
import { releaseBuffer } from '../bytes';

/** The popup's grid tiles: previews at most this many pixels a side. */
export const PREVIEW_MAX_SIDE = 192;
const PREVIEW_QUALITY = 0.8;

export interface PreparedImage {
  /** CHW float32 model input for `spec.imageSize`. */
  pixels: Float32Array;
  /** JPEG preview of at most PREVIEW_MAX_SIDE a side; null when the browser would not encode one. */
  preview: Blob | null;
}

export async function prepareImage(blob: Blob, spec: PreprocessSpec, options: DecodeOptions = {}): Promise<PreparedImage> {
  const bitmap = await decodeBitmap(blob, options);
  let preview: Promise<Blob | null>;
  let image;
  try {
    const canvas = drawPreview(bitmap);
    preview = canvas ? encodePreview(canvas) : Promise.resolve(null);
    // Only the part the centre crop reads: a wide or tall picture's sides are never copied.
    image = readPixels(bitmap, sourceWindow(bitmap.width, bitmap.height, spec.imageSize), () => bitmap.close());
  } finally {
    // The full-size decoded pixels live outside the JS heap until closed.
    bitmap.close();
  }
  const pixels = preprocess(image, spec);
  // The read-back is as large as the crop's source, often tens of megabytes; read once.
  releaseBuffer(image.data.buffer);
  return { pixels, preview: await preview };
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
 * The preview drawn from a decoded bitmap; null when the browser gives no canvas for it. A large
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
