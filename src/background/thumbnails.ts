// Small JPEG previews for the popup. The popup cannot always show an image from its address:
// blob: and page-local images exist only in their page, hotlink-protected sites refuse the
// popup's requests, and some addresses expire. The background has the bytes at indexing time.
import { loadImageBytes } from './image-source';
import { getTab } from './tabs';

const MAX_SIDE = 192;
const QUALITY = 0.8;

export async function makeThumbnail(blob: Blob): Promise<string> {
  const probe = await createImageBitmap(blob);
  const scale = Math.min(1, MAX_SIDE / Math.max(probe.width, probe.height));
  const width = Math.max(1, Math.round(probe.width * scale));
  const height = Math.max(1, Math.round(probe.height * scale));
  probe.close();
  const bitmap = await createImageBitmap(blob, { resizeWidth: width, resizeHeight: height, resizeQuality: 'medium' });
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d')!;
  // JPEG has no alpha: transparent images get the white the popup shows around them.
  context.fillStyle = '#fff';
  context.fillRect(0, 0, width, height);
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  const jpeg = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/jpeg', quality: QUALITY })).arrayBuffer());
  let binary = '';
  for (let i = 0; i < jpeg.length; i += 0x8000) binary += String.fromCharCode(...jpeg.subarray(i, i + 0x8000));
  return `data:image/jpeg;base64,${btoa(binary)}`;
}

/** The preview made at indexing time, else one made now (images answered from the cache were never decoded). */
export async function thumbnailFor(tabId: number, url: string): Promise<string> {
  const tab = getTab(tabId);
  const entry = tab?.entry(url);
  if (entry?.thumbnail) return entry.thumbnail;
  const fetched = await loadImageBytes({ url, tab, frameId: entry?.frameId });
  const thumbnail = await makeThumbnail(fetched.blob);
  tab?.setThumbnail(url, thumbnail);
  return thumbnail;
}
