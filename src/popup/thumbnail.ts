// Result thumbnails. A picture decoded for the model has a small preview in the background, made
// from that decode: the popup shows it, rather than loading the picture from its address and
// decoding it whole, in the popup's renderer, for a tile of a hundred pixels. Web addresses
// without one (answered from the cache, never decoded) load directly (lazily: only tiles
// scrolled into view fetch anything); blob:, page-local and data: images, and web images the
// popup may not load (hotlink protection, expired links), show a preview the background makes
// when asked.
import { sendRequest } from '../send-request';

const previews = new Map<string, Promise<string>>();

/** The background's JPEG preview of an indexed image, as a data: URL (asked once per image). */
export function previewOf(tabId: number, url: string): Promise<string> {
  let preview = previews.get(url);
  if (!preview) {
    preview = sendRequest({ type: 'thumbnail', tabId, url }).then((r) => r.dataUrl);
    previews.set(url, preview);
    preview.catch(() => previews.delete(url));
  }
  return preview;
}

/** `preview`: the background already holds the picture's preview (SearchResult.preview). */
export function showThumbnail(img: HTMLImageElement, tabId: number, url: string, preview = false): void {
  // Set before src: an eager load would start at once for every result, hidden ones included.
  img.loading = 'lazy';
  img.decoding = 'async';
  img.referrerPolicy = 'no-referrer';
  const usePreview = () => {
    img.onerror = null;
    previewOf(tabId, url).then(
      (dataUrl) => (img.src = dataUrl),
      () => img.classList.add('missing'),
    );
  };
  if (/^https?:/i.test(url) && !previews.has(url) && !preview) {
    img.onerror = usePreview;
    img.src = url;
  } else usePreview();
}
