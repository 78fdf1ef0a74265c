// Walks a DOM subtree including shadow trees. document.querySelectorAll stops at shadow
// boundaries, so images inside web components would be missed. Content scripts can open closed
// shadow roots too (Chrome: chrome.dom.openOrClosedShadowRoot; Firefox: Element.openOrClosedShadowRoot),
// so closed components are no blind spot either.

/** Our own overlay host: never scanned, its mutations never trigger a scan. */
export const OVERLAY_TAG = 'MOBILECLIP-LENS-OVERLAY';

type ClosedRootApi = { dom?: { openOrClosedShadowRoot?: (element: HTMLElement) => ShadowRoot | null } };

const chromeDom = (globalThis as { chrome?: ClosedRootApi }).chrome?.dom;

/**
 * The only elements attachShadow() accepts (besides custom elements, whose names have a hyphen).
 * Asking Chrome's extension API about every other element (an <img>, say) costs a call into the
 * browser each, which on a page of thousands of images adds up to a long task.
 */
const SHADOW_HOST_TAGS = new Set([
  'ARTICLE', 'ASIDE', 'BLOCKQUOTE', 'BODY', 'DIV', 'FOOTER', 'H1', 'H2', 'H3', 'H4', 'H5', 'H6', 'HEADER', 'MAIN', 'NAV', 'P', 'SECTION', 'SPAN',
]);

function canHostShadow(element: HTMLElement): boolean {
  return SHADOW_HOST_TAGS.has(element.tagName) || element.localName.includes('-');
}

export function shadowRootOf(element: Element): ShadowRoot | null {
  const firefox = (element as Element & { openOrClosedShadowRoot?: ShadowRoot | null }).openOrClosedShadowRoot;
  if (firefox !== undefined) return firefox;
  if (element.shadowRoot) return element.shadowRoot;
  // Only HTML elements can host shadow roots; the Chrome API throws for others.
  if (chromeDom?.openOrClosedShadowRoot && element instanceof HTMLElement && canHostShadow(element)) {
    try {
      return chromeDom.openOrClosedShadowRoot(element);
    } catch {
      return null;
    }
  }
  return null;
}

/**
 * Calls `visit` for `root` (when an element) and every element below it, descending into shadow
 * roots (reported to `onShadowRoot` so callers can observe them) but not into our overlay.
 */
export function walkElements(root: Node, visit: (element: Element) => void, onShadowRoot: (root: ShadowRoot) => void): void {
  for (const element of elementsUnder(root, onShadowRoot)) visit(element);
}

/**
 * The elements walkElements visits, one at a time: a caller can pause between them (the DOM may
 * change meanwhile; elements removed in between are still yielded, so check isConnected).
 */
export function* elementsUnder(root: Node, onShadowRoot: (root: ShadowRoot) => void): Generator<Element> {
  const stack: Node[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node instanceof Element) {
      if (node.tagName === OVERLAY_TAG) continue;
      yield node;
      const shadow = shadowRootOf(node);
      if (shadow) {
        onShadowRoot(shadow);
        stack.push(shadow);
      }
    }
    // Children pushed in reverse so elements are visited in document order.
    for (let child = node.lastChild; child; child = child.previousSibling) {
      if (child.nodeType === Node.ELEMENT_NODE) stack.push(child);
    }
  }
}
