// Finds the images a person sees on the page, with their rendered box and visibility.
import type { FoundImage } from '../messages';

export interface DiscoveredImage extends FoundImage {
  element: Element;
}

export interface DiscoverOptions {
  minSize: number;
}

/** Tracking pixels and spacers are tiny whatever their declared size; never worth a model run. */
const TRACKING_PIXEL_MAX = 2;

function absoluteUrl(raw: string | null | undefined, base: string): string | null {
  if (!raw) return null;
  const trimmed = raw.trim();
  if (!trimmed) return null;
  try {
    const url = new URL(trimmed, base);
    return /^(https?:|data:image\/|blob:)/i.test(url.href) ? url.href : null;
  } catch {
    return null;
  }
}

/** The URL the browser shows for an <img>, or the one it will show once a lazy loader swaps it in. */
function imgUrl(img: HTMLImageElement): string | null {
  const base = img.ownerDocument.baseURI;
  if (img.currentSrc) return absoluteUrl(img.currentSrc, base);
  const lazy = img.getAttribute('data-src') ?? img.getAttribute('data-lazy-src') ?? img.getAttribute('data-original');
  if (lazy) return absoluteUrl(lazy, base);
  const lazySet = img.getAttribute('data-srcset');
  if (lazySet) return absoluteUrl(largestSrcsetCandidate(lazySet), base);
  return absoluteUrl(img.getAttribute('src'), base);
}

/** srcset entries are "url [descriptor]"; the widest/densest one is the best stand-in for what a big screen shows. */
export function largestSrcsetCandidate(srcset: string): string | null {
  let best: string | null = null;
  let bestValue = -1;
  for (const part of srcset.split(/,\s+/)) {
    const [url, descriptor = '1x'] = part.trim().split(/\s+/);
    if (!url) continue;
    const value = parseFloat(descriptor) * (descriptor.endsWith('w') ? 1 : 1000);
    if (value > bestValue) {
      best = url;
      bestValue = value;
    }
  }
  return best;
}

function isRendered(element: Element, rect: DOMRect): boolean {
  if (rect.width === 0 || rect.height === 0) return false;
  const style = getComputedStyle(element);
  return style.visibility !== 'hidden' && style.display !== 'none' && Number(style.opacity) > 0.01;
}

export function discoverImages(doc: Document, options: DiscoverOptions): { images: DiscoveredImage[]; hidden: number } {
  const images: DiscoveredImage[] = [];
  const seen = new Set<string>();
  let hidden = 0;
  const scrollY = doc.defaultView?.scrollY ?? 0;

  for (const img of Array.from(doc.images)) {
    const url = imgUrl(img);
    if (!url || seen.has(url)) continue;
    const rect = img.getBoundingClientRect();
    const natural = img.complete && img.naturalWidth > 0;
    if (natural && img.naturalWidth <= TRACKING_PIXEL_MAX && img.naturalHeight <= TRACKING_PIXEL_MAX) continue;
    const rendered = isRendered(img, rect);
    if (rendered && rect.width < options.minSize && rect.height < options.minSize) continue;
    if (!rendered) {
      hidden++;
      continue;
    }
    seen.add(url);
    images.push({
      element: img,
      url,
      kind: img.parentElement instanceof HTMLPictureElement ? 'picture' : 'img',
      width: Math.round(rect.width),
      height: Math.round(rect.height),
      top: Math.round(rect.top + scrollY),
      visible: true,
      alt: (img.alt || img.title || '').slice(0, 300),
    });
  }
  return { images, hidden };
}
