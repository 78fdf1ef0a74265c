// Where an image's bytes come from, by address:
//   http(s)   the background fetches them (host permissions: no CORS) asking no more than the page
//             could (image-request.ts: cookies only for the page's own site, its referrer policy);
//             SVG documents go to the page to be drawn (workers cannot decode SVG), but bytes
//             fetched with cookies only to a frame of the image's own origin; any other frame
//             gets the document as fetched without cookies, or draws its own copy;
//             if the fetch fails (403, expired URL, offline), the page gives the pixels it shows,
//             and failing that a screenshot crop does.
//   data:     decoded here (SVG ones drawn by the page);
//   blob:, lens-local:  only the page that made them can read them.
// Every failure keeps each step's reason, so the popup can say why an image was skipped.
import { Limiter } from '../concurrency';
import { LOCAL_IMAGE_SCHEME } from '../messages';
import { dataUrlToImage, fetchImage, ImageFetchError, isSvg, type FetchedImage } from './image-bytes';
import { captureFromScreen, PageReadError, readFromPage } from './page-bytes';
import { imageRequestFor } from './image-request';
import type { TabState } from './tabs';
import { describe } from '../errors';

/** Per tab: enough parallel requests to keep the queue moving, few enough not to swamp a site or the page. */
const NETWORK_PER_TAB = 4;
const PAGE_READS_PER_TAB = 2;
const limiters = new Map<number, { network: Limiter; page: Limiter }>();

function limitsFor(tabId: number | undefined): { network: Limiter; page: Limiter } {
  const key = tabId ?? -1;
  let limits = limiters.get(key);
  if (!limits) {
    limits = { network: new Limiter(NETWORK_PER_TAB), page: new Limiter(PAGE_READS_PER_TAB) };
    limiters.set(key, limits);
  }
  return limits;
}

/** Closed tabs need no limiter. */
export function forgetTabLimits(tabId: number): void {
  limiters.delete(tabId);
}

export interface ImageRequest {
  url: string;
  /** The tab and frame that show the image (absent for an image with no page, e.g. a stale menu click). */
  tab?: TabState;
  frameId?: number;
}

export async function loadImageBytes({ url, tab, frameId = 0 }: ImageRequest): Promise<FetchedImage> {
  const limits = limitsFor(tab?.tabId);
  /** The page reads or draws the pixels; when even it may not (tainted), a screenshot shows them. */
  const fromPage = async (svg?: string): Promise<FetchedImage> => {
    if (!tab) throw new ImageFetchError('only the page can read this image, and it is gone');
    try {
      return await limits.page.run(() => readFromPage(tab.tabId, frameId, url, svg));
    } catch (error) {
      if (error instanceof PageReadError && error.capturable) return captureFromScreen(tab.tabId, frameId, url);
      throw error;
    }
  };

  if (url.startsWith('blob:') || url.startsWith(LOCAL_IMAGE_SCHEME) || /^data:image\/svg/i.test(url)) return fromPage();
  if (url.startsWith('data:')) return dataUrlToImage(url);

  const plan = imageRequestFor(url, {
    pageUrl: tab?.pageUrl,
    frameUrl: tab?.frameUrl(frameId),
    incognito: tab?.incognito ?? false,
    referrerPolicy: tab?.entry(url)?.found.referrerPolicy,
  });
  let fetched: FetchedImage;
  try {
    fetched = await limits.network.run(() => fetchImage(url, plan));
  } catch (fetchError) {
    if (!tab) throw fetchError;
    // The page shows the image, so its pixels exist there even when the site refuses us.
    try {
      return await fromPage();
    } catch (pageError) {
      // The page's error is the cause: it may say the image waits for its tab to be shown.
      throw new ImageFetchError(`${describe(fetchError)}; ${describe(pageError)}`, { cause: pageError });
    }
  }
  if (!isSvg(fetched)) return fetched;
  if (!tab) throw new ImageFetchError('SVG images can only be read on their page');
  if (plan.frameMayHaveBytes) return fromPage(await fetched.blob.text());
  // Bytes fetched with the user's cookies go to no other origin's renderer: what anyone could fetch does.
  const anonymous = await limits.network.run(() => fetchImage(url, { ...plan, credentials: 'omit' })).catch(() => null);
  return anonymous && isSvg(anonymous) ? fromPage(await anonymous.blob.text()) : fromPage();
}
