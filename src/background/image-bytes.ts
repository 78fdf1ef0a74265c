// Fetches an image's bytes with the extension's host permissions, so CORS does not apply, and
// with the Referer the page would send (see referrer-rules.ts), so hotlink protection does not either.
import { withReferrer } from './referrer-rules';

export interface FetchedImage {
  blob: Blob;
  bytes: Uint8Array;
  etag: string | null;
  lastModified: string | null;
}

export const FETCH_TIMEOUT_MS = 20_000;
/** Larger files are almost never photos a person looks at (and would stall the queue). */
export const MAX_IMAGE_BYTES = 40 * 1024 * 1024;

export class ImageFetchError extends Error {}
/** A conditional request (see revalidate.ts) answered 304: the stored bytes are still current. */
export class NotModifiedError extends ImageFetchError {}

/** How to ask: from imageRequestFor (image-request.ts), which decides cookies, cache and Referer. */
export interface FetchOptions {
  /** The exact Referer to send (already reduced by the page's referrer policy), or null for none. */
  referrer?: string | null;
  /** Cookies only where the page itself could send them; none by default. */
  credentials?: 'omit' | 'include';
  cache?: 'force-cache' | 'no-store';
  signal?: AbortSignal;
  /** Extra request headers: the validators of a conditional request (revalidate.ts). */
  headers?: Record<string, string>;
}

export async function fetchImage(url: string, options: FetchOptions = {}): Promise<FetchedImage> {
  const timeout = AbortSignal.timeout(FETCH_TIMEOUT_MS);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const referrer = options.referrer && /^https?:/.test(options.referrer) ? options.referrer : null;
  let response: Response;
  try {
    response = await withReferrer(url, referrer, () =>
      fetch(url, {
        signal,
        headers: options.headers,
        credentials: options.credentials ?? 'omit',
        // Firefox honours this from extension pages; Chrome ignores it (the rule sets the header).
        referrer: referrer ?? undefined,
        referrerPolicy: referrer ? 'unsafe-url' : 'no-referrer',
        cache: options.cache ?? 'no-store',
      }),
    );
  } catch (error) {
    if (timeout.aborted) throw new ImageFetchError(`timed out after ${FETCH_TIMEOUT_MS / 1000} s`);
    throw new ImageFetchError(`could not fetch (${(error as Error).message})`);
  }
  if (response.status === 304) throw new NotModifiedError('HTTP 304');
  if (!response.ok) throw new ImageFetchError(`HTTP ${response.status}`);
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > MAX_IMAGE_BYTES) throw new ImageFetchError(`too large (${Math.round(declared / 1e6)} MB)`);
  const buffer = await response.arrayBuffer();
  if (buffer.byteLength > MAX_IMAGE_BYTES) throw new ImageFetchError(`too large (${Math.round(buffer.byteLength / 1e6)} MB)`);
  if (buffer.byteLength === 0) throw new ImageFetchError('empty response');
  const type = response.headers.get('content-type') ?? '';
  return {
    blob: new Blob([buffer], { type }),
    bytes: new Uint8Array(buffer),
    etag: response.headers.get('etag'),
    lastModified: response.headers.get('last-modified'),
  };
}

/** SVG documents: workers cannot decode them (createImageBitmap), so the page draws them. */
export function isSvg(image: FetchedImage): boolean {
  if (/svg/i.test(image.blob.type)) return true;
  const head = new TextDecoder().decode(image.bytes.subarray(0, 512)).trimStart().toLowerCase();
  return head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg'));
}

/** A data: URL's bytes (the URL is already in hand: nothing to fetch). */
export function dataUrlToImage(dataUrl: string): FetchedImage {
  const match = /^data:([^;,]*)((?:;[^;,]*)*?)(;base64)?,(.*)$/is.exec(dataUrl);
  if (!match) throw new ImageFetchError('malformed data: URL');
  const type = match[1] || 'text/plain';
  let bytes: Uint8Array;
  if (match[3]) {
    let binary: string;
    try {
      binary = atob(match[4].replace(/\s+/g, ''));
    } catch {
      throw new ImageFetchError('malformed base64 in data: URL');
    }
    bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  } else {
    try {
      bytes = new TextEncoder().encode(decodeURIComponent(match[4]));
    } catch {
      throw new ImageFetchError('malformed data: URL');
    }
  }
  if (bytes.length === 0) throw new ImageFetchError('empty image');
  if (bytes.length > MAX_IMAGE_BYTES) throw new ImageFetchError(`too large (${Math.round(bytes.length / 1e6)} MB)`);
  return { blob: new Blob([bytes as Uint8Array<ArrayBuffer>], { type }), bytes, etag: null, lastModified: null };
}
