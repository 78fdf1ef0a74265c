// How the background asks for an image: never with more than the page itself could send.
//
// Cookies. The extension's host permissions make the browser treat its requests as same-site to
// every site, so `credentials: 'include'` would send SameSite=Strict and Lax cookies that the
// page showing the image could never send (a cross-site image request carries neither). The
// rule: cookies go only with images of the page's own site, and only in normal windows.
//   - "Own site" is judged conservatively without a public-suffix list: same scheme and the same
//     host as both the top-level page and the frame showing the image; ports do not matter
//     (cookies ignore them). cdn.example.com under www.example.com therefore counts as
//     cross-site and is fetched without cookies: less than the page sends, never more. The
//     frames between the top page and this frame are not known to the background; a site framed
//     by another site inside itself (A in B in A) is the one case judged same-site here where the
//     page's own request would be cross-site.
//   - Everything else is fetched without cookies; images a site gates behind its cookies then
//     fail (403) and come from the page's own pixels instead (see image-source.ts).
//   - Private windows: no cookies at all (in "spanning" mode the background shares the normal
//     profile's cookie jar) and nothing written to the HTTP cache.
// Referrer: what the page's referrer policy lets through (referrerFor), from the document showing
// the image; about:blank and srcdoc frames send their parent page's, as browsers do. Policies
// that would send more than the default to another site (unsafe-url, no-referrer-when-downgrade,
// origin-when-cross-origin) fall back to the default there, as Firefox does for pages' own requests.
import type { ReferrerPolicyToken } from '../referrer-policy';
import { referrerFor } from './referrer-rules';

export interface ImageRequestContext {
  /** The tab's top-level page. */
  pageUrl?: string;
  /** The document showing the image, when it is a frame. */
  frameUrl?: string;
  incognito: boolean;
  /** The image's effective referrer policy as the page reported it (absent: the default). */
  referrerPolicy?: ReferrerPolicyToken;
}

export interface ImageRequestPlan {
  credentials: 'omit' | 'include';
  cache: 'force-cache' | 'no-store';
  /** The exact Referer to send, or null for none. */
  referrer: string | null;
  /**
   * Whether the fetched bytes may be handed to the frame (SVG markup it draws): fetched without
   * cookies, or with cookies of the frame's own origin, which it could fetch itself.
   */
  frameMayHaveBytes: boolean;
}

function webUrl(url: string | undefined): URL | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    return /^https?:$/.test(parsed.protocol) ? parsed : null;
  } catch {
    return null;
  }
}

/** Same scheme and host (any port): a subset of "same site" that needs no public-suffix list. */
export function isSameSite(a: string | undefined, b: string | undefined): boolean {
  const x = webUrl(a);
  const y = webUrl(b);
  return !!x && !!y && x.protocol === y.protocol && x.hostname === y.hostname;
}

const RELAXING = new Set<ReferrerPolicyToken>(['unsafe-url', 'no-referrer-when-downgrade', 'origin-when-cross-origin']);

export function imageRequestFor(imageUrl: string, context: ImageRequestContext): ImageRequestPlan {
  const document = webUrl(context.frameUrl) ? context.frameUrl : context.pageUrl;
  const ownSite = isSameSite(imageUrl, context.pageUrl) && isSameSite(imageUrl, document);
  const credentials = ownSite && !context.incognito ? 'include' : 'omit';
  const sameOrigin = !!document && webUrl(document)?.origin === webUrl(imageUrl)?.origin;
  const policy = context.referrerPolicy && RELAXING.has(context.referrerPolicy) && !isSameSite(imageUrl, document) ? undefined : context.referrerPolicy;
  return {
    credentials,
    cache: context.incognito ? 'no-store' : 'force-cache',
    referrer: referrerFor(document, imageUrl, policy),
    frameMayHaveBytes: credentials === 'omit' || sameOrigin,
  };
}
