// Finds the images a person sees in this frame: every kind of source (see sources.ts), inside
// shadow trees too, with the rendered box, and what is hidden counted apart.
//
// Cost on big pages: extracting sources needs getComputedStyle, so it runs once per element and
// afterwards only for elements that changed (the caller marks subtrees dirty from a
// MutationObserver), in time slices that yield to the page. Measuring (boxes, visibility) runs
// on every scan, but only over the elements known to show an image, and also in time slices.
import { MAX_IMAGES_PER_MESSAGE, type FoundImage } from '../messages';
import { documentReferrerPolicy, imageSourcesOf, type ImageSource, type SourceContext } from './sources';
import type { TimeSlicer } from './time-slicer';
import { elementsUnder } from './walk';

export { TimeSlicer } from './time-slicer';

export interface DiscoverOptions {
  /** Images rendered smaller than this on both sides are icons or spacers. */
  minSize: number;
  skipTrackingPixels: boolean;
}

/** Where one reported image is shown (one URL may be shown by several elements). */
export interface Placement {
  element: Element;
  pseudo?: string;
}

export interface Discovery {
  images: FoundImage[];
  /** Shown images left out of `images` (past MAX_IMAGES_PER_MESSAGE: the furthest down the page). */
  omitted: number;
  /** Distinct images present but not shown (display:none, invisible, off the page). */
  hidden: number;
  placements: Map<string, Placement[]>;
  /** Long data: URLs by the name they were reported under. */
  longDataUrls: Map<string, string>;
}

export interface ExtractStats {
  /** Elements whose sources were (re-)read. */
  extracted: number;
  /** Set when a large re-read was put off (see LARGE_REREAD): scan again after this long. */
  retryInMs?: number;
}

/** Tracking pixels and spacers are tiny whatever their declared size. */
const TRACKING_PIXEL_MAX = 2;
/**
 * Re-reading this many elements at once (a class toggled on <body> on every scroll, a theme
 * switch) happens at most once per LARGE_REREAD_GAP_MS; measuring still runs on every scan, so
 * sizes and visibility stay current in between.
 */
const LARGE_REREAD = 1_000;
const LARGE_REREAD_GAP_MS = 2_000;

type Visibility = 'shown' | 'hidden' | 'pending';

export class ImageScanner {
  private readonly sources = new WeakMap<Element, ImageSource[]>();
  private readonly imageElements = new Set<Element>();
  private readonly dirty = new Set<Node>();
  private everything = true;
  private firstDone = false;
  private lastLargeRereadAt = -Infinity;
  private readonly longDataUrls = new Map<string, string>();

  constructor(
    private readonly doc: Document,
    private readonly onShadowRoot: (root: ShadowRoot) => void,
    /** An image whose load is still to come: its size and address may change when it loads. */
    private readonly onLoading: (element: Element) => void = () => undefined,
  ) {}

  /** Everything needs re-reading: styles changed globally (stylesheet, media query, setting). */
  markAll(): void {
    this.everything = true;
    this.dirty.clear();
  }

  /** This node and its descendants (shadow trees included) need re-reading. */
  markDirty(node: Node): void {
    if (!this.everything) this.dirty.add(node);
  }

  /** Re-extracts sources for what changed, yielding to the page every few milliseconds. */
  async extract(slicer: TimeSlicer): Promise<ExtractStats> {
    slicer.step('walk');
    const everything = this.everything;
    const roots = everything ? [this.doc.documentElement] : [...this.dirty];
    // Taken now: the walk yields to the page, whose changes meanwhile mark things for the next scan.
    this.everything = false;
    this.dirty.clear();
    const pending: Element[] = [];
    for (const root of roots) {
      if (!root.isConnected) continue;
      for (const element of elementsUnder(root, this.onShadowRoot)) {
        pending.push(element);
        await slicer.tick();
      }
    }
    const sinceLarge = performance.now() - this.lastLargeRereadAt;
    if (pending.length > LARGE_REREAD) {
      if (this.firstDone && sinceLarge < LARGE_REREAD_GAP_MS) {
        if (everything) this.markAll();
        else for (const root of roots) this.markDirty(root);
        return { extracted: 0, retryInMs: LARGE_REREAD_GAP_MS - sinceLarge };
      }
      this.lastLargeRereadAt = performance.now();
    }
    this.firstDone = true;
    if (everything) this.longDataUrls.clear();
    const context: SourceContext = { devicePixelRatio: devicePixelRatio || 1, longDataUrls: this.longDataUrls };
    if (pending.length > 0) await slicer.fresh();
    slicer.step('extract');
    for (const element of pending) {
      const found = imageSourcesOf(element, context);
      if (found.length > 0) {
        this.sources.set(element, found);
        this.imageElements.add(element);
        if (found.some((f) => f.loading)) this.onLoading(element);
      } else if (this.imageElements.delete(element)) {
        this.sources.delete(element);
      }
      await slicer.tick();
    }
    return { extracted: pending.length };
  }

  /**
   * Boxes, visibility, filters and de-duplication by URL, over the elements showing images, in
   * slices like extract(). Scroll position is read per slice: boxes are in the viewport then.
   */
  async measure(options: DiscoverOptions, slicer: TimeSlicer): Promise<Discovery> {
    const view = this.doc.defaultView!;
    const documentPolicy = documentReferrerPolicy(this.doc);
    const shown = new Map<string, FoundImage>();
    const placements = new Map<string, Placement[]>();
    const hiddenUrls = new Set<string>();
    await slicer.fresh();
    slicer.step('measure');

    for (const element of [...this.imageElements]) {
      await slicer.tick();
      const scrollX = view.scrollX;
      const scrollY = view.scrollY;
      // A frame with no viewport (an iframe that is display:none or zero-sized) shows nothing.
      const frameShown = view.innerWidth > 0 && view.innerHeight > 0;
      if (!element.isConnected) {
        this.imageElements.delete(element);
        this.sources.delete(element);
        continue;
      }
      const rect = element.getBoundingClientRect();
      for (const extracted of this.sources.get(element) ?? []) {
        const source = element instanceof HTMLImageElement ? withLoadState(element, extracted) : extracted;
        if (!source) continue;
        const box = source.pseudo ? pseudoBox(element, source.pseudo, rect) : { width: rect.width, height: rect.height };
        const state = frameShown ? visibility(element, box, rect, source, scrollX, scrollY) : 'hidden';
        if (state === 'pending') continue;
        if (options.skipTrackingPixels && isTrackingPixel(source, state === 'shown' ? box : undefined)) continue;
        if (state === 'hidden') {
          const size = source.intrinsic;
          if (!size || size.width >= options.minSize || size.height >= options.minSize) hiddenUrls.add(source.url);
          continue;
        }
        if (box.width < options.minSize && box.height < options.minSize) continue;
        const placement: Placement = { element, pseudo: source.pseudo };
        const list = placements.get(source.url);
        if (list) {
          list.push(placement);
          continue;
        }
        placements.set(source.url, [placement]);
        shown.set(source.url, {
          url: source.url,
          kind: source.kind,
          width: Math.round(box.width),
          height: Math.round(box.height),
          top: Math.round(rect.top + scrollY),
          visible: rect.bottom > 0 && rect.top < view.innerHeight && rect.right > 0 && rect.left < view.innerWidth,
          alt: source.alt,
          ...((source.referrerPolicy ?? documentPolicy) && { referrerPolicy: source.referrerPolicy ?? documentPolicy }),
        });
      }
    }
    slicer.step('collect');
    let hidden = 0;
    for (const url of hiddenUrls) if (!shown.has(url)) hidden++;
    let images = [...shown.values()];
    const omitted = Math.max(0, images.length - MAX_IMAGES_PER_MESSAGE);
    if (omitted > 0) {
      // What the person is looking at first, then down the page; the rest is counted, not dropped silently.
      images = images.sort((a, b) => Number(b.visible) - Number(a.visible) || a.top - b.top).slice(0, MAX_IMAGES_PER_MESSAGE);
    }
    return { images, omitted, hidden, placements, longDataUrls: this.longDataUrls };
  }

  get knownImageElements(): number {
    return this.imageElements.size;
  }
}

/**
 * An <img>'s load state read now, not when its sources were extracted: a load that finished in
 * between (its event possibly missed) must not leave a tracking pixel counted at its declared size.
 * Returns null for an image that failed to load (a broken-image icon is no picture).
 */
function withLoadState(img: HTMLImageElement, source: ImageSource): ImageSource | null {
  if (source.pseudo || !img.complete || img.currentSrc !== source.url) return source;
  if (img.naturalWidth === 0) return null;
  return { ...source, intrinsic: { width: img.naturalWidth, height: img.naturalHeight }, loading: false };
}

function pseudoBox(element: Element, pseudo: string, host: DOMRect): { width: number; height: number } {
  const style = element.ownerDocument.defaultView!.getComputedStyle(element, pseudo);
  const width = parseFloat(style.width);
  const height = parseFloat(style.height);
  // Used sizes are in px for rendered boxes; 'auto' (inline pseudo-elements) falls back to the host.
  return Number.isFinite(width) && Number.isFinite(height) ? { width, height } : { width: host.width, height: host.height };
}

function isTrackingPixel(source: ImageSource, box: { width: number; height: number } | undefined): boolean {
  const size = source.intrinsic;
  if (size && size.width <= TRACKING_PIXEL_MAX && size.height <= TRACKING_PIXEL_MAX) return true;
  return !!box && box.width <= TRACKING_PIXEL_MAX && box.height <= TRACKING_PIXEL_MAX;
}

function visibility(element: Element, box: { width: number; height: number }, rect: DOMRect, source: ImageSource, scrollX: number, scrollY: number): Visibility {
  if (!isRendered(element)) return 'hidden';
  // A lazy image without reserved space has no box until it loads: not hidden, just not yet there.
  if (box.width === 0 || box.height === 0) return source.loading ? 'pending' : 'hidden';
  // Parked off the page (screen-reader-only tricks): no scrolling ever brings it into view.
  if (rect.right + scrollX <= 0 || rect.bottom + scrollY <= 0) return 'hidden';
  return 'shown';
}

function isRendered(element: Element): boolean {
  const check = (element as Element & { checkVisibility?: (options: object) => boolean }).checkVisibility;
  if (check) {
    // Both spellings: older engines know only checkOpacity/checkVisibilityCSS.
    return check.call(element, { opacityProperty: true, visibilityProperty: true, checkOpacity: true, checkVisibilityCSS: true });
  }
  const style = element.ownerDocument.defaultView!.getComputedStyle(element);
  return style.display !== 'none' && style.visibility !== 'hidden' && Number(style.opacity) > 0.01;
}
