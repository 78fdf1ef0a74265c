// Names for images whose pixels exist only inside this page: inline <svg>, <canvas>, and data:
// URLs too long to send around. The background cannot fetch them; it asks this frame for the
// bytes by name (see read-image.ts). A random per-frame token keeps names from two frames apart.
import { LOCAL_IMAGE_SCHEME } from '../messages';

const frameToken = Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, '0')).join('');

/** cyrb53: a fast 53-bit string hash; names only need to differ when contents differ. */
export function hashString(text: string, seed = 0): string {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}

let nextElementNumber = 1;
const elementNumbers = new WeakMap<Element, number>();

/** A name for one element's pixels (canvases change without a DOM mutation: identity, not content). */
export function elementKey(element: Element, kind: string): string {
  let n = elementNumbers.get(element);
  if (n === undefined) {
    n = nextElementNumber++;
    elementNumbers.set(element, n);
  }
  return `${LOCAL_IMAGE_SCHEME}${frameToken}/${kind}/e${n}`;
}

/** A name for content (identical inline SVGs or data: URLs share it, so they count once). */
export function contentKey(content: string, kind: string): string {
  return `${LOCAL_IMAGE_SCHEME}${frameToken}/${kind}/c${hashString(content)}-${content.length.toString(36)}`;
}

export function isLocalKey(url: string): boolean {
  return url.startsWith(LOCAL_IMAGE_SCHEME);
}
