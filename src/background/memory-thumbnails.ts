// The stored preview of a picture in the pages store: at most THUMBNAIL_MAX_BYTES, WebP where
// the browser encodes it (Firefox may fall back to PNG: then JPEG), made from the popup preview
// the indexer already decoded from the image's bytes, so nothing is fetched or decoded again.
import { base64ToBytes, bytesToBase64 } from '../store/base64';
import { THUMBNAIL_MAX_BYTES, THUMBNAIL_TYPES } from '../store/pages';

/** Sizes and qualities tried in turn until one fits the byte limit. */
const ATTEMPTS: readonly { side: number; type: string; quality: number }[] = [
  { side: 128, type: 'image/webp', quality: 0.7 },
  { side: 128, type: 'image/jpeg', quality: 0.7 },
  { side: 96, type: 'image/jpeg', quality: 0.5 },
  { side: 64, type: 'image/jpeg', quality: 0.4 },
];

export async function storedThumbnail(preview: Blob): Promise<Blob | undefined> {
  const bitmap = await createImageBitmap(preview);
  try {
    for (const { side, type, quality } of ATTEMPTS) {
      const scale = Math.min(1, side / Math.max(bitmap.width, bitmap.height));
      const canvas = new OffscreenCanvas(Math.max(1, Math.round(bitmap.width * scale)), Math.max(1, Math.round(bitmap.height * scale)));
      const context = canvas.getContext('2d')!;
      context.fillStyle = '#fff';
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      const blob = await canvas.convertToBlob({ type, quality });
      if (blob.size <= THUMBNAIL_MAX_BYTES && THUMBNAIL_TYPES.includes(blob.type)) return blob;
    }
    return undefined;
  } finally {
    bitmap.close();
  }
}

/** A data: URL's bytes as a Blob (the popup previews are data: URLs). */
export function dataUrlBlob(dataUrl: string): Blob | undefined {
  const match = /^data:([^;,]+);base64,(.*)$/s.exec(dataUrl);
  const bytes = match && base64ToBytes(match[2]);
  return bytes ? new Blob([bytes as Uint8Array<ArrayBuffer>], { type: match[1] }) : undefined;
}

/** A stored thumbnail as a data: URL, for the popup (runtime messages carry no Blobs in Chrome). */
export async function blobDataUrl(blob: Blob): Promise<string> {
  return `data:${blob.type};base64,${bytesToBase64(new Uint8Array(await blob.arrayBuffer()))}`;
}
