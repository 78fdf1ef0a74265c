// Browser-side image decoding (pages, workers, offscreen documents): bytes -> RGBAImage for
// preprocess.ts. Uses only web platform APIs, no extension APIs. Node has no
// createImageBitmap; the CLI and Node tests decode PNGs with png.ts instead.

import type { RGBAImage } from './preprocess';

/**
 * Decodes any image format the browser supports. The browser's decoders also take care of
 * what a hand-written decoder would get wrong: EXIF orientation (imageOrientation
 * 'from-image' rotates like an <img> does), grayscale and CMYK/YCCK JPEGs (converted to RGB),
 * embedded colour profiles (colorSpaceConversion 'default' converts to sRGB, as displayed).
 * premultiplyAlpha 'none' asks for straight alpha, which is what preprocess expects.
 */
export async function decodeImageBlob(blob: Blob): Promise<RGBAImage> {
  const bitmap = await createImageBitmap(blob, {
    imageOrientation: 'from-image',
    premultiplyAlpha: 'none',
    colorSpaceConversion: 'default',
  });
  try {
    const { width, height } = bitmap;
    const context = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true });
    if (!context) throw new Error('OffscreenCanvas 2d context unavailable');
    context.drawImage(bitmap, 0, 0);
    const { data } = context.getImageData(0, 0, width, height);
    return { data, width, height };
  } finally {
    // Bitmaps hold decoded pixels outside the JS heap until closed or collected.
    bitmap.close();
  }
}
