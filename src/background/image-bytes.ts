// Fetches an image's bytes with the extension's host permissions, so CORS does not apply.

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

export async function fetchImage(url: string, options: { referrer?: string; signal?: AbortSignal } = {}): Promise<FetchedImage> {
  const timeout = AbortSignal.timeout(FETCH_TIMEOUT_MS);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let response: Response;
  try {
    response = await fetch(url, {
      signal,
      // The user sees the image with their cookies; fetch the same bytes.
      credentials: 'include',
      referrer: options.referrer && /^https?:/.test(options.referrer) ? options.referrer : undefined,
      referrerPolicy: 'no-referrer-when-downgrade',
      cache: 'force-cache',
    });
  } catch (error) {
    if (timeout.aborted) throw new ImageFetchError(`timed out after ${FETCH_TIMEOUT_MS / 1000} s`);
    throw new ImageFetchError(`could not fetch (${(error as Error).message})`);
  }
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

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  let hex = '';
  for (const b of digest) hex += b.toString(16).padStart(2, '0');
  return hex;
}
