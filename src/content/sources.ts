// What image(s) one element shows, by kind. No layout here (sizes and visibility are measured
// once per scan in discover.ts); the only costly call is getComputedStyle, made once per element
// when it is new or changed, never on every scan.
import type { FoundImage } from '../messages';
import { isReferrerPolicy, metaReferrerPolicy, type ReferrerPolicyToken } from '../referrer-policy';
import { cssImageUrls } from './css-images';
import { contentKey, elementKey } from './local-keys';
import { chooseCandidate, parseSrcset } from './srcset';

export type Pseudo = '::before' | '::after';

export interface ImageSource {
  url: string;
  kind: FoundImage['kind'];
  /** The pseudo-element that shows it; its host element stands in for its box. */
  pseudo?: Pseudo;
  alt: string;
  /** Intrinsic size when known: how hidden images and tracking pixels are judged without layout. */
  intrinsic?: { width: number; height: number };
  /** An <img> whose (lazy) load has not happened: no size yet, neither shown nor hidden. */
  loading?: boolean;
  /** The element's own referrerpolicy attribute, when valid (it overrides the document's). */
  referrerPolicy?: ReferrerPolicyToken;
}

/**
 * The policy the document's `<meta name=referrer>` elements set (the last valid one wins, as
 * each applies when inserted), or undefined. A Referrer-Policy response header is invisible to
 * scripts: pages that set theirs only by header are treated as having the default.
 */
export function documentReferrerPolicy(doc: Document): ReferrerPolicyToken | undefined {
  let policy: ReferrerPolicyToken | undefined;
  for (const meta of doc.querySelectorAll<HTMLMetaElement>('meta[name="referrer" i]')) policy = metaReferrerPolicy(meta.content) ?? policy;
  return policy;
}

/** Browsers accept these in <img>; anything else (javascript:, about:) is not an image. */
const IMAGE_URL = /^(https?:|data:image\/|blob:)/i;
/** data: URLs longer than this are named by content instead of sent whole (see local-keys.ts). */
const MAX_INLINE_DATA_URL = 16_000;

/** Elements that never show an image of their own. */
const NO_IMAGE_TAGS = new Set([
  'HEAD', 'META', 'LINK', 'STYLE', 'SCRIPT', 'NOSCRIPT', 'TITLE', 'TEMPLATE', 'BR', 'WBR', 'SOURCE', 'TRACK',
  'PARAM', 'OPTION', 'OPTGROUP', 'DATALIST', 'AREA', 'MAP', 'COL', 'COLGROUP', 'SLOT',
]);

const SVG_NS = 'http://www.w3.org/2000/svg';
/** SVG elements that draw something; an <svg> holding only <image>s is counted by its <image>s. */
const SVG_DRAWING = 'path,rect,circle,ellipse,line,polyline,polygon,text,use,foreignObject';

export interface SourceContext {
  devicePixelRatio: number;
  /** Long data: URLs by the name they were reported under, so read-image.ts can answer for them. */
  longDataUrls: Map<string, string>;
}

function resolve(raw: string | null | undefined, base: string): string | null {
  const trimmed = raw?.trim();
  if (!trimmed) return null;
  try {
    const href = new URL(trimmed, base).href;
    return IMAGE_URL.test(href) ? href : null;
  } catch {
    return null;
  }
}

/** A data: URL goes as is when short, else by a content name (messages stay small). */
function reportable(url: string, context: SourceContext): string {
  if (!url.startsWith('data:') || url.length <= MAX_INLINE_DATA_URL) return url;
  const key = contentKey(url, 'data');
  context.longDataUrls.set(key, url);
  return key;
}

/** `slotWidth` is only asked for when there is a srcset: reading an <img>'s width costs a layout. */
function srcsetChoice(srcset: string | null, slotWidth: () => number, base: string, dpr: number): string | null {
  if (!srcset) return null;
  return resolve(chooseCandidate(parseSrcset(srcset, slotWidth()), dpr), base);
}

function slotOf(img: HTMLImageElement): () => number {
  return () => img.width || innerWidth;
}

/** The source a <picture> would pick for an image it has not loaded yet. */
function pictureChoice(img: HTMLImageElement, base: string, dpr: number): string | null {
  const picture = img.parentElement;
  if (!(picture instanceof HTMLPictureElement)) return null;
  for (const source of Array.from(picture.querySelectorAll(':scope > source'))) {
    const media = source.getAttribute('media');
    if (media && !matchMedia(media).matches) continue;
    const type = source.getAttribute('type');
    if (type && !/^image\/(png|jpeg|gif|webp|avif|svg\+xml)$/i.test(type)) continue;
    const srcset = source.getAttribute('srcset') ?? source.getAttribute('data-srcset');
    const chosen = srcsetChoice(srcset, slotOf(img), base, dpr);
    if (chosen) return chosen;
  }
  return null;
}

/** Lazy-loader conventions: the real image waits in a data attribute until scrolled near. */
function lazyUrl(img: HTMLImageElement, base: string, dpr: number): string | null {
  const set = img.getAttribute('data-srcset') ?? img.getAttribute('data-lazy-srcset');
  const single = img.getAttribute('data-src') ?? img.getAttribute('data-lazy-src') ?? img.getAttribute('data-original') ?? img.getAttribute('data-lazy');
  return srcsetChoice(set, slotOf(img), base, dpr) ?? resolve(single, base);
}

/** What the <img> shows, or will show once its lazy load happens. */
function imgSource(img: HTMLImageElement, context: SourceContext): ImageSource | null {
  const base = img.baseURI;
  const dpr = context.devicePixelRatio;
  const current =
    resolve(img.currentSrc, base) ??
    pictureChoice(img, base, dpr) ??
    srcsetChoice(img.getAttribute('srcset'), slotOf(img), base, dpr) ??
    resolve(img.getAttribute('src'), base);
  const lazy = lazyUrl(img, base, dpr);
  // A placeholder (nothing, an inline stub, a tiny blurred preview) stands in until the loader
  // swaps in the real image: the real one is what the person is about to see.
  const placeholder = !current || current.startsWith('data:') || (img.complete && img.naturalWidth > 0 && img.naturalWidth <= 40);
  const url = lazy && lazy !== current && placeholder ? lazy : current;
  if (!url) return null;
  const loaded = img.complete && img.naturalWidth > 0 && url === current;
  // A failed load shows a broken-image icon, not a picture.
  if (img.complete && img.naturalWidth === 0 && url === current && img.currentSrc) return null;
  const attrWidth = Number(img.getAttribute('width')) || 0;
  const attrHeight = Number(img.getAttribute('height')) || 0;
  return {
    url: reportable(url, context),
    kind: img.parentElement instanceof HTMLPictureElement ? 'picture' : 'img',
    alt: (img.alt || img.title || img.getAttribute('aria-label') || '').slice(0, 300),
    intrinsic: loaded ? { width: img.naturalWidth, height: img.naturalHeight } : attrWidth && attrHeight ? { width: attrWidth, height: attrHeight } : undefined,
    loading: !loaded,
    // The IDL attribute reads "" for a missing or invalid value.
    referrerPolicy: isReferrerPolicy(img.referrerPolicy) ? img.referrerPolicy : undefined,
  };
}

function svgSources(element: SVGElement, context: SourceContext): ImageSource[] {
  if (element instanceof SVGImageElement) {
    const href = element.href?.baseVal || element.getAttribute('href') || element.getAttributeNS('http://www.w3.org/1999/xlink', 'href');
    const url = resolve(href, element.baseURI);
    return url ? [{ url: reportable(url, context), kind: 'svg', alt: svgTitle(element) }] : [];
  }
  // Only the outermost <svg> of an inline drawing is a picture; its parts are not.
  if (element instanceof SVGSVGElement && !element.ownerSVGElement && element.querySelector(SVG_DRAWING)) {
    // Identical markup is the same picture (icon sets repeat one SVG many times): name it by content.
    return [{ url: contentKey(element.outerHTML, 'svg'), kind: 'svg', alt: svgTitle(element) }];
  }
  return [];
}

function svgTitle(element: SVGElement): string {
  const title = element.querySelector(':scope > title')?.textContent ?? element.getAttribute('aria-label') ?? '';
  return title.trim().slice(0, 300);
}

function cssSources(element: Element, style: CSSStyleDeclaration, pseudo: Pseudo | undefined, context: SourceContext): ImageSource[] {
  const base = element.baseURI;
  const urls = cssImageUrls(style.backgroundImage, base, context.devicePixelRatio);
  // `content: url(...)` on ::before/::after (and on ordinary elements in Chrome) replaces the box with the image.
  urls.push(...cssImageUrls(style.content, base, context.devicePixelRatio));
  const alt = (element.getAttribute('aria-label') ?? element.getAttribute('title') ?? '').slice(0, 300);
  return urls.map((url) => ({ url: reportable(url, context), kind: 'background' as const, pseudo, alt }));
}

/** Every image `element` shows (its own, its CSS backgrounds, its ::before/::after). */
export function imageSourcesOf(element: Element, context: SourceContext): ImageSource[] {
  if (NO_IMAGE_TAGS.has(element.tagName)) return [];
  const found: ImageSource[] = [];
  if (element.namespaceURI === SVG_NS) {
    found.push(...svgSources(element as SVGElement, context));
    // Inner SVG elements have no CSS boxes: no backgrounds, no pseudo-elements.
    if (!(element instanceof SVGSVGElement) || element.ownerSVGElement) return found;
  } else if (element instanceof HTMLImageElement) {
    const source = imgSource(element, context);
    if (source) found.push(source);
  } else if (element instanceof HTMLInputElement) {
    if (element.type === 'image') {
      const url = resolve(element.src, element.baseURI);
      if (url) found.push({ url: reportable(url, context), kind: 'input', alt: (element.alt || element.value || '').slice(0, 300) });
    }
  } else if (element instanceof HTMLVideoElement) {
    // The poster shows until playback starts.
    const url = resolve(element.poster, element.baseURI);
    if (url && element.paused && element.currentTime === 0) {
      found.push({ url: reportable(url, context), kind: 'poster', alt: (element.title || element.getAttribute('aria-label') || '').slice(0, 300) });
    }
  } else if (element instanceof HTMLCanvasElement) {
    if (element.width > 0 && element.height > 0) {
      found.push({ url: elementKey(element, 'canvas'), kind: 'canvas', alt: (element.getAttribute('aria-label') ?? '').slice(0, 300), intrinsic: { width: element.width, height: element.height } });
    }
  }
  const view = element.ownerDocument.defaultView;
  if (!view) return found;
  found.push(...cssSources(element, view.getComputedStyle(element), undefined, context));
  for (const pseudo of ['::before', '::after'] as const) {
    const style = view.getComputedStyle(element, pseudo);
    // No content, no box: the pseudo-element's background is never drawn.
    if (style.content === 'none' || style.content === 'normal') continue;
    found.push(...cssSources(element, style, pseudo, context));
  }
  return found;
}
