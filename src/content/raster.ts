// Turns what only the page can draw into PNG bytes: inline <svg> (with the page's CSS applied),
// SVG documents (which createImageBitmap cannot decode in an extension service worker), canvases
// and already-loaded <img> elements. Everything is drawn on a canvas this script creates; a
// canvas tainted by cross-origin pixels throws on readback, and the caller falls back.

/** The model looks at 224–256 px: a short side of 256 keeps detail, a long side of 1024 bounds memory. */
const TARGET_SHORT_SIDE = 256;
const MAX_LONG_SIDE = 1024;

/** Painting-relevant properties that page stylesheets (not the SVG markup) often set. */
const SVG_STYLE_PROPERTIES = [
  'fill', 'fill-opacity', 'fill-rule', 'stroke', 'stroke-width', 'stroke-opacity', 'stroke-linecap', 'stroke-linejoin',
  'stroke-dasharray', 'stroke-dashoffset', 'opacity', 'color', 'stop-color', 'stop-opacity', 'display', 'visibility',
  'font-family', 'font-size', 'font-weight', 'font-style', 'text-anchor', 'dominant-baseline',
];

export function outputSize(width: number, height: number, scalable: boolean): { width: number; height: number } {
  const w = Math.max(1, width);
  const h = Math.max(1, height);
  let scale = Math.min(1, MAX_LONG_SIDE / Math.max(w, h));
  // Vector art can be drawn larger than shown at no cost in fidelity.
  if (scalable) scale = Math.min(Math.max(scale, TARGET_SHORT_SIDE / Math.min(w, h)), MAX_LONG_SIDE / Math.max(w, h));
  return { width: Math.max(1, Math.round(w * scale)), height: Math.max(1, Math.round(h * scale)) };
}

/**
 * Standalone markup for an inline <svg>: page CSS copied onto each element (it does not travel
 * with the markup), the rendered size made explicit, and <use> targets that live elsewhere in
 * the document (sprite sheets) copied in.
 */
export function serializeInlineSvg(svg: SVGSVGElement, width: number, height: number): string {
  const clone = svg.cloneNode(true) as SVGSVGElement;
  const originals = [svg, ...Array.from(svg.querySelectorAll('*'))];
  const copies = [clone, ...Array.from(clone.querySelectorAll('*'))];
  const view = svg.ownerDocument.defaultView!;
  originals.forEach((original, i) => {
    const copy = copies[i] as SVGElement;
    if (!copy?.style) return;
    const computed = view.getComputedStyle(original);
    for (const property of SVG_STYLE_PROPERTIES) {
      const value = computed.getPropertyValue(property);
      if (value) copy.style.setProperty(property, value);
    }
  });
  // Scripts never run in an image, but they need not travel either.
  for (const script of Array.from(clone.querySelectorAll('script'))) script.remove();
  const defs = svg.ownerDocument.createElementNS('http://www.w3.org/2000/svg', 'defs');
  for (const use of Array.from(svg.querySelectorAll('use'))) {
    const ref = use.getAttribute('href') ?? use.getAttribute('xlink:href') ?? '';
    if (!ref.startsWith('#')) continue;
    const target = svg.ownerDocument.getElementById(ref.slice(1));
    if (target && !svg.contains(target) && !defs.querySelector(`[id="${CSS.escape(ref.slice(1))}"]`)) defs.append(target.cloneNode(true));
  }
  if (defs.childNodes.length > 0) clone.prepend(defs);
  if (!clone.getAttribute('viewBox') && svg.viewBox?.baseVal && svg.viewBox.baseVal.width > 0) {
    const box = svg.viewBox.baseVal;
    clone.setAttribute('viewBox', `${box.x} ${box.y} ${box.width} ${box.height}`);
  }
  clone.setAttribute('width', String(width));
  clone.setAttribute('height', String(height));
  clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  return new XMLSerializer().serializeToString(clone);
}

function loadImage(src: string): Promise<HTMLImageElement> {
  const image = new Image();
  image.decoding = 'async';
  image.src = src;
  return image.decode().then(
    () => image,
    () => {
      throw new Error('the browser could not draw this image');
    },
  );
}

/** Draws `source` at `size` and reads the pixels back as a PNG data: URL (throws if tainted). */
export function drawToPng(source: CanvasImageSource, size: { width: number; height: number }): string {
  const canvas = document.createElement('canvas');
  canvas.width = size.width;
  canvas.height = size.height;
  const context = canvas.getContext('2d');
  if (!context) throw new Error('no 2D canvas available');
  context.drawImage(source, 0, 0, size.width, size.height);
  try {
    return canvas.toDataURL('image/png');
  } catch {
    throw new TaintedError();
  }
}

/** The pixels come from another origin without CORS: the page may show them, scripts may not read them. */
export class TaintedError extends Error {
  constructor() {
    super('the pixels come from another site and cannot be read in the page');
  }
}

/** SVG markup → PNG data: URL, at `width`×`height` CSS pixels (or the SVG's own size), upscaled for the model. */
export async function rasterizeSvgMarkup(markup: string, width?: number, height?: number): Promise<string> {
  const image = await loadImage(`data:image/svg+xml;charset=utf-8,${encodeURIComponent(markup)}`);
  const w = width || image.naturalWidth || 300;
  const h = height || image.naturalHeight || 150;
  return drawToPng(image, outputSize(w, h, true));
}

/** A canvas's current pixels, scaled down when huge. */
export function canvasToPng(canvas: HTMLCanvasElement): string {
  const size = outputSize(canvas.width, canvas.height, false);
  if (size.width === canvas.width && size.height === canvas.height) {
    try {
      return canvas.toDataURL('image/png');
    } catch {
      throw new TaintedError();
    }
  }
  return drawToPng(canvas, size);
}

/** An already-decoded <img> (a blob: whose URL was revoked, a one-time URL) drawn as it is shown. */
export function imageElementToPng(img: HTMLImageElement): string {
  if (!img.complete || img.naturalWidth === 0) throw new Error('the image has not loaded');
  return drawToPng(img, outputSize(img.naturalWidth, img.naturalHeight, false));
}

/** Loads `url` as the page would and draws it (for sources that are not <img> elements). */
export async function urlToPng(url: string): Promise<string> {
  const image = await loadImage(url);
  const scalable = /\.svg(\?|#|$)|^data:image\/svg/i.test(url);
  return drawToPng(image, outputSize(image.naturalWidth || 300, image.naturalHeight || 150, scalable));
}
