// Decides when to scan again and what to re-read: mutations mark only the changed subtrees
// dirty (so getComputedStyle runs on what changed, not on the whole page), events that change
// styles globally (a stylesheet loading, the window resizing) mark everything, and scans are
// throttled so a page that mutates constantly costs at most one scan per interval. The first
// change after a quiet spell is scanned at once: an image that loads late is reported then, not an
// interval later.
import type { ImageScanner } from './discover';
import { OVERLAY_TAG } from './walk';

/** The page's time between the end of one scan and the start of the next that changes ask for. */
export const SCAN_INTERVAL_MS = 300;

const WATCHED_ATTRIBUTES = [
  'src', 'srcset', 'sizes', 'style', 'class', 'id', 'hidden', 'open', 'type', 'media', 'poster', 'href', 'width', 'height',
  'referrerpolicy', 'data-src', 'data-srcset', 'data-lazy-src', 'data-lazy-srcset', 'data-original', 'data-lazy',
];

export interface PageWatcher {
  attach(scanner: ImageScanner): void;
  /** Starts watching a shadow root (MutationObservers do not see into shadow trees). */
  observeShadowRoot(root: ShadowRoot): void;
  /** Scans again when this element's pending load ends (its own listener: nothing can swallow it). */
  watchLoad(element: Element): void;
  scanSoon(delayMs?: number): void;
}

function isOurs(node: Node): boolean {
  return node instanceof Element && node.tagName === OVERLAY_TAG;
}

/** Parts of an SVG drawing are not images themselves: a change to one changes its whole <svg>. */
function outermostSvg(node: Node): Element | null {
  let svg: Element | null = node instanceof SVGElement ? (node instanceof SVGSVGElement ? node : node.ownerSVGElement) : null;
  while (svg instanceof SVGSVGElement && svg.ownerSVGElement) svg = svg.ownerSVGElement;
  return svg;
}

function isStyleSheet(node: Node): boolean {
  return node instanceof HTMLStyleElement || (node instanceof HTMLLinkElement && /stylesheet/i.test(node.rel));
}

export function watchPage(doc: Document, scan: () => Promise<void>): PageWatcher {
  let scanner: ImageScanner | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** When the last scan ended. */
  let lastScan = -Infinity;
  let running = false;
  let again = false;
  const observedRoots = new WeakSet<ShadowRoot>();
  const loadWatched = new WeakSet<Element>();

  const run = async (): Promise<void> => {
    timer = undefined;
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      await scan();
    } catch (error) {
      console.warn('MobileCLIP Lens: scanning the page failed', error);
    } finally {
      running = false;
      lastScan = performance.now();
      if (again) {
        again = false;
        scanSoon();
      }
    }
  };

  // Throttle, not debounce: a page that never stops mutating still gets scanned.
  function scanSoon(delayMs = Math.max(0, lastScan + SCAN_INTERVAL_MS - performance.now())): void {
    if (timer !== undefined) {
      if (delayMs > 0) return;
      clearTimeout(timer);
    }
    timer = setTimeout(run, delayMs);
  }

  const markDirty = (node: Node): void => {
    if (!scanner || isOurs(node)) return;
    const svg = outermostSvg(node);
    scanner.markDirty(svg ?? node);
  };

  const onMutations = (mutations: MutationRecord[]): void => {
    let changed = false;
    for (const mutation of mutations) {
      const target = mutation.target;
      if (isOurs(target)) continue;
      if (mutation.type === 'childList') {
        for (const node of Array.from(mutation.addedNodes)) {
          if (isOurs(node) || node.nodeType !== Node.ELEMENT_NODE) continue;
          if (isStyleSheet(node)) scanner?.markAll();
          markDirty(node);
          changed = true;
        }
        if (mutation.removedNodes.length > 0) changed = true;
        // Text replaced inside a <style>: the page's CSS changed.
        if (target instanceof HTMLStyleElement) scanner?.markAll();
        else if (target instanceof SVGElement) markDirty(target);
      } else {
        markDirty(target);
        changed = true;
      }
    }
    if (changed) scanSoon();
  };

  const observer = new MutationObserver(onMutations);
  const observe = (root: Node): void =>
    observer.observe(root, { childList: true, subtree: true, attributes: true, attributeFilter: WATCHED_ATTRIBUTES });

  // Events that do not bubble out of shadow trees are caught on each root as well as the window.
  const onLoad = (event: Event): void => {
    const target = event.target;
    if (!(target instanceof Node) || isOurs(target)) return;
    if (isStyleSheet(target)) scanner?.markAll();
    else if (target instanceof HTMLImageElement || target instanceof HTMLVideoElement) markDirty(target);
    else return;
    scanSoon();
  };
  const listenOn = (root: EventTarget): void => {
    root.addEventListener('load', onLoad, { capture: true, passive: true });
    root.addEventListener('play', onLoad, { capture: true, passive: true });
  };

  return {
    attach(s: ImageScanner): void {
      scanner = s;
      observe(doc.documentElement);
      listenOn(window);
      // Media queries, srcset and image-set() choices follow the viewport.
      addEventListener('resize', () => {
        scanner?.markAll();
        scanSoon();
      }, { passive: true });
    },
    observeShadowRoot(root: ShadowRoot): void {
      if (observedRoots.has(root)) return;
      observedRoots.add(root);
      observe(root);
      listenOn(root);
    },
    watchLoad(element: Element): void {
      if (loadWatched.has(element)) return;
      loadWatched.add(element);
      const done = (): void => {
        loadWatched.delete(element);
        element.removeEventListener('load', done);
        element.removeEventListener('error', done);
        markDirty(element);
        scanSoon();
      };
      element.addEventListener('load', done);
      element.addEventListener('error', done);
    },
    scanSoon,
  };
}
