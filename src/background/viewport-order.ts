// The order a tab's pending images are indexed in: what the person sees, then what is near it
// (within NEAR_SCREENS screens above or below), then the rest, nearest first; re-ordered as the
// page scrolls (the top frame reports its scroll position, see content/viewport-report.ts).
// Positions of images in other frames are in their own frame's coordinates, which the top
// frame's scroll says nothing about: those keep the order of their frame's report (shown at the
// time, then top to bottom), as every image does until the page first scrolls.
import type { FoundImage } from '../messages';

/** The top frame's visible band, in document coordinates (CSS pixels). */
export interface Viewport {
  top: number;
  height: number;
}

/** How far from the viewport an image still counts as near, in viewport heights. */
export const NEAR_SCREENS = 1;

export const enum Band {
  Visible = 0,
  Near = 1,
  Far = 2,
}

interface Placed {
  frameId: number;
  found: Pick<FoundImage, 'top' | 'height' | 'visible'>;
}

/** An image's band and its distance from the viewport (px; for the fallback order, from the document's top). */
export function viewportRank(image: Placed, viewport: Viewport | null): { band: Band; distance: number } {
  const { top, height, visible } = image.found;
  if (!viewport || image.frameId !== 0) return { band: visible ? Band.Visible : Band.Far, distance: top };
  const bottom = top + height;
  const viewBottom = viewport.top + viewport.height;
  const distance = bottom <= viewport.top ? viewport.top - bottom : top >= viewBottom ? top - viewBottom : 0;
  if (distance === 0 && height > 0 && bottom > viewport.top && top < viewBottom) return { band: Band.Visible, distance };
  return { band: distance <= NEAR_SCREENS * viewport.height ? Band.Near : Band.Far, distance };
}

/** A comparator for Array.sort: visible, then near, then far; nearer first within a band, then top to bottom. */
export function byViewport(viewport: Viewport | null): (a: Placed, b: Placed) => number {
  return (a, b) => {
    const ra = viewportRank(a, viewport);
    const rb = viewportRank(b, viewport);
    return ra.band - rb.band || ra.distance - rb.distance || a.found.top - b.found.top;
  };
}
