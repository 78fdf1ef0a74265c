// Which discovered image was under the pointer at the last right-click in this frame. The
// browser's menu knows only <img> (`srcUrl`); CSS backgrounds, ::before/::after, inline SVG,
// canvas and video posters are resolved here, against the discovery's own placements, so the
// name is the one the image was reported under (lens-local: names included).
import type { Placement } from './discover';
import { OVERLAY_TAG, shadowRootOf } from './walk';

export interface ContextTarget {
  url: string;
  element: Element;
}

/** Elements under a point, topmost first, descending into shadow roots (open or closed). */
export function deepElementsFromPoint(root: Document | ShadowRoot, x: number, y: number, depth = 0): Element[] {
  const out: Element[] = [];
  for (const element of root.elementsFromPoint(x, y)) {
    if (element.tagName === OVERLAY_TAG) continue;
    const shadow = depth < 8 ? shadowRootOf(element) : null;
    // A shadow root's elementsFromPoint also lists the light-DOM elements around it: keep only its own.
    if (shadow) out.push(...deepElementsFromPoint(shadow, x, y, depth + 1).filter((inner) => inner.getRootNode() !== root));
    out.push(element);
  }
  return [...new Set(out)];
}

/** Element → the images it shows (its own first, then its CSS layers and pseudo-elements), from a scan's placements. */
export function imagesByElement(placements: Map<string, Placement[]>): Map<Element, string[]> {
  const byElement = new Map<Element, string[]>();
  for (const [url, list] of placements) {
    for (const { element } of list) {
      const urls = byElement.get(element);
      if (urls) urls.push(url);
      else byElement.set(element, [url]);
    }
  }
  return byElement;
}

/**
 * The image under the pointer: the topmost element at the click's point that shows one (an
 * image under a transparent overlay or link counts), else the nearest one along the event's
 * path (for a click without coordinates, such as the context-menu key).
 */
export function resolveContextTarget(candidates: Iterable<Element>, byElement: Map<Element, string[]>): ContextTarget | null {
  for (const element of candidates) {
    const url = byElement.get(element)?.[0];
    if (url) return { url, element };
  }
  return null;
}

/** Remembers the last right-click of this frame and resolves it when the background asks. */
export class ContextTargets {
  private last: { candidates: Element[]; x: number; y: number; fromPointer: boolean } | null = null;

  constructor(private readonly placements: () => Map<string, Placement[]>) {}

  record(event: MouseEvent): void {
    // composedPath, not target: a target inside a shadow tree is retargeted to its host up here.
    const path = event.composedPath().filter((node): node is Element => node instanceof Element);
    // The context-menu key fires with no pointer position (0, 0 or the focused element's corner).
    const fromPointer = event.button === 2 || event.detail > 0 || event.clientX !== 0 || event.clientY !== 0;
    // Hit-tested now: the page may scroll before a menu item is chosen.
    const atPoint = fromPointer ? deepElementsFromPoint(document, event.clientX, event.clientY) : [];
    this.last = { candidates: [...atPoint, ...path], x: event.clientX, y: event.clientY, fromPointer };
  }

  /** Where the last right-click was, in viewport coordinates (for notices). */
  get point(): { x: number; y: number } | null {
    return this.last?.fromPointer ? { x: this.last.x, y: this.last.y } : null;
  }

  resolve(): ContextTarget | null {
    const last = this.last;
    if (!last) return null;
    return resolveContextTarget(last.candidates.filter((e) => e.isConnected), imagesByElement(this.placements()));
  }
}
