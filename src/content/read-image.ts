// Answers the background's read-image and prepare-capture requests: the bytes of images only
// this page can produce (blob: URLs, inline SVG, canvases, long data: URLs), SVG drawn to PNG,
// and, when the background could not fetch an image at all, the pixels the page already shows.
import { MAX_PAGE_IMAGE_CHARS, type CaptureResponse, type PageImageResponse } from '../messages';
import { Limiter } from '../concurrency';
import { describe } from '../errors';
import type { Placement } from './discover';
import { isLocalKey } from './local-keys';
import { canvasToPng, imageElementToPng, rasterizeSvgMarkup, serializeInlineSvg, TaintedError, urlToPng } from './raster';

export interface ReadSources {
  placements: Map<string, Placement[]>;
  longDataUrls: Map<string, string>;
}

/** Drawing and encoding run on the page's main thread: two at a time keeps the page responsive. */
const pageWork = new Limiter(2);

function failure(error: string, capturable = false): PageImageResponse {
  return { ok: false, error, capturable };
}

function blobToDataUrl(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error ?? new Error('could not read the blob'));
    reader.readAsDataURL(blob);
  });
}

function boxOf(placement: Placement | undefined): { width: number; height: number } {
  const rect = placement?.element.getBoundingClientRect();
  return { width: rect?.width ?? 0, height: rect?.height ?? 0 };
}

/** Fully inside the top frame's viewport: a screenshot of the tab shows all of it. */
function onScreen(placement: Placement | undefined): DOMRect | null {
  if (!placement || placement.pseudo || window.top !== window) return null;
  const r = placement.element.getBoundingClientRect();
  const fits = r.width > 0 && r.height > 0 && r.left >= 0 && r.top >= 0 && r.right <= innerWidth + 0.5 && r.bottom <= innerHeight + 0.5;
  return fits ? r : null;
}

/** The pixels an element already shows, for images the background could not get itself. */
async function shownPixels(url: string, placement: Placement | undefined): Promise<string> {
  const element = placement?.element;
  if (element instanceof HTMLImageElement && !placement?.pseudo && element.complete && element.naturalWidth > 0) {
    return imageElementToPng(element);
  }
  return urlToPng(url);
}

async function readBlob(url: string, placement: Placement | undefined): Promise<string> {
  let blob: Blob;
  try {
    blob = await (await fetch(url)).blob();
  } catch {
    // Pages often revoke a blob: URL as soon as the image has loaded; the pixels are still shown.
    return shownPixels(url, placement);
  }
  if (blob.size * 1.37 > MAX_PAGE_IMAGE_CHARS) throw new Error(`too large (${Math.round(blob.size / 1e6)} MB)`);
  if (/svg/i.test(blob.type)) {
    const box = boxOf(placement);
    return rasterizeSvgMarkup(await blob.text(), box.width, box.height);
  }
  return blobToDataUrl(blob);
}

async function readLocal(url: string, sources: ReadSources, placement: Placement | undefined): Promise<string> {
  const element = placement?.element;
  if (url.includes('/data/')) {
    const dataUrl = sources.longDataUrls.get(url);
    if (!dataUrl) throw new Error('the image is no longer on the page');
    return /^data:image\/svg/i.test(dataUrl) ? urlToPng(dataUrl) : dataUrl;
  }
  if (!element?.isConnected) throw new Error('the image is no longer on the page');
  if (element instanceof HTMLCanvasElement) return canvasToPng(element);
  if (element instanceof SVGSVGElement) {
    const { width, height } = boxOf(placement);
    return rasterizeSvgMarkup(serializeInlineSvg(element, Math.round(width), Math.round(height)), width, height);
  }
  throw new Error('unknown page image');
}

export function readImage(request: { url: string; svg?: string }, sources: ReadSources): Promise<PageImageResponse> {
  return pageWork.run(async (): Promise<PageImageResponse> => {
    const { url } = request;
    const placement = sources.placements.get(url)?.[0];
    try {
      let dataUrl: string;
      if (request.svg !== undefined) {
        const box = boxOf(placement);
        dataUrl = await rasterizeSvgMarkup(request.svg, box.width, box.height);
      } else if (isLocalKey(url)) {
        dataUrl = await readLocal(url, sources, placement);
      } else if (url.startsWith('blob:')) {
        dataUrl = await readBlob(url, placement);
      } else if (/^data:image\/svg/i.test(url)) {
        dataUrl = await urlToPng(url);
      } else {
        dataUrl = await shownPixels(url, placement);
      }
      if (dataUrl.length > MAX_PAGE_IMAGE_CHARS) return failure(`too large (${Math.round(dataUrl.length / 1.37e6)} MB)`);
      return { ok: true, dataUrl };
    } catch (error) {
      const message = describe(error);
      return failure(message, error instanceof TaintedError && onScreen(placement) !== null);
    }
  });
}

function nextFrame(): Promise<void> {
  // requestAnimationFrame does not run in hidden tabs; the timeout keeps a capture from hanging.
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 250);
    requestAnimationFrame(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Where the image is on screen right now, after our own highlights are out of the way. */
export async function prepareCapture(url: string, sources: ReadSources, hideOverlay: () => void): Promise<CaptureResponse> {
  const placement = sources.placements.get(url)?.[0];
  if (!onScreen(placement)) return { ok: false, error: 'the image is not fully on screen' };
  hideOverlay();
  // Two frames: the overlay's removal has to be painted before the screenshot is taken.
  await nextFrame();
  await nextFrame();
  const rect = onScreen(placement);
  if (!rect) return { ok: false, error: 'the image moved off screen' };
  return { ok: true, rect: { x: rect.left, y: rect.top, width: rect.width, height: rect.height, devicePixelRatio: devicePixelRatio || 1 } };
}
