// Small JPEG previews for the popup. The popup cannot always show an image from its address:
// blob: and page-local images exist only in their page, hotlink-protected sites refuse the
// popup's requests, and some addresses expire. Indexing makes the preview from the pixels it
// decodes for the model (prepare-image.ts); this makes one for an image that was answered from
// the cache and so never decoded.
import { previewImage } from '../engine/prepare-image';
import { loadImageBytes } from './image-source';
import { blobDataUrl } from './memory-thumbnails';
import { getTab } from './tabs';

/** The preview made at indexing time, else one made now. */
export async function thumbnailFor(tabId: number, url: string): Promise<string> {
  const tab = getTab(tabId);
  const entry = tab?.entry(url);
  if (entry?.thumbnail) return entry.thumbnail;
  const fetched = await loadImageBytes({ url, tab, frameId: entry?.frameId });
  const thumbnail = await blobDataUrl(await previewImage(fetched.blob));
  tab?.setThumbnail(url, thumbnail);
  return thumbnail;
}
