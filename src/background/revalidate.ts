// Revisits without downloads: an image address hashed before, with HTTP validators (ETag,
// Last-Modified), is asked again conditionally. A 304 says the stored hash still names its
// bytes, so the embedding is found without a single image byte crossing the network.
//
//   const answer = await revalidate(record, { url, tab, frameId });
//   answer.kind === 'unchanged'  → record.sha256 is current (refresh record.fetchedAt)
//   answer.kind === 'fetched'    → the image changed: here are its new bytes (no second fetch)
//   answer.kind === 'unknown'    → no validators, or the request failed: load the bytes as usual
//
// Within the URL freshness window (URL_FRESH_MS) the pipeline asks nothing at all.
import type { UrlRecord } from '../store/schema';
import { fetchImage, isSvg, NotModifiedError, type FetchedImage } from './image-bytes';
import type { ImageRequest } from './image-source';
import { imageRequestFor } from './image-request';

export type Revalidation = { kind: 'unchanged' } | { kind: 'fetched'; fetched: FetchedImage } | { kind: 'unknown'; reason: string };

/** The conditional headers a stored record allows; null when it has no validator. */
export function conditionalHeaders(record: Pick<UrlRecord, 'etag' | 'lastModified'>): Record<string, string> | null {
  const headers: Record<string, string> = {};
  if (record.etag) headers['If-None-Match'] = record.etag;
  if (record.lastModified) headers['If-Modified-Since'] = record.lastModified;
  return Object.keys(headers).length > 0 ? headers : null;
}

export interface RevalidateDeps {
  fetchImage: typeof fetchImage;
}

export async function revalidate(
  record: UrlRecord,
  { url, tab, frameId = 0 }: ImageRequest,
  deps: RevalidateDeps = { fetchImage },
): Promise<Revalidation> {
  const headers = conditionalHeaders(record);
  if (!headers) return { kind: 'unknown', reason: 'no validators stored' };
  if (record.url !== url || !/^https?:/i.test(url)) return { kind: 'unknown', reason: 'not a web address' };
  // Asked as the image loader asks (cookies, cache, Referer): hosts answer 304 only to that.
  const plan = imageRequestFor(url, {
    pageUrl: tab?.pageUrl,
    frameUrl: tab?.frameUrl(frameId),
    incognito: tab?.incognito ?? false,
    referrerPolicy: tab?.entry(url)?.found.referrerPolicy,
  });
  try {
    const fetched = await deps.fetchImage(url, { ...plan, headers });
    // SVG documents are drawn by their page: the usual loader does that.
    return isSvg(fetched) ? { kind: 'unknown', reason: 'SVG' } : { kind: 'fetched', fetched };
  } catch (error) {
    if (error instanceof NotModifiedError) return { kind: 'unchanged' };
    return { kind: 'unknown', reason: (error as Error).message };
  }
}
