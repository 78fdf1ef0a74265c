// Walks a DOM subtree including shadow trees. document.querySelectorAll stops at shadow
// boundaries, so images inside web components would be missed. Content scripts can open closed
// shadow roots too (Chrome: chrome.dom.openOrClosedShadowRoot; Firefox: Element.openOrClosedShadowRoot),
// so closed components are no blind spot either.

/** Our own overlay host: never scanned, its mutations never trigger a scan. */
export const OVERLAY_TAG = 'MOBILECLIP-LENS-OVERLAY';

type ClosedRootApi = { dom?: { openOrClosedShadowRoot?: (element: HTMLElement) => ShadowRoot | null } };

const chromeDom = (globalThis as { chrome?: ClosedRootApi }).chrome?.dom;

export function shadowRootOf(element: Element): ShadowRoot | null {
  const firefox = (element as Element & { openOrClosedShadowRoot?: ShadowRoot | null }).openOrClosedShadowRoot;
  if (firefox !== undefined) return firefox;
  if (element.shadowRoot) return element.shadowRoot;
  // Only HTML elements can host shadow roots; the Chrome API throws for others.
  if (chromeDom?.openOrClosedShadowRoot && element instanceof HTMLElement) {
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
  const stack: Node[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node instanceof Element) {
      if (node.tagName === OVERLAY_TAG) continue;
      visit(node);
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
