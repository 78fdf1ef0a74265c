// The one error type of model delivery, and the wording of the failures a user may see (the popup
// shows these messages as they are, so they name the file, the host and what happens next).

import { describeWithCause } from '../../errors.ts';

export type DownloadErrorCode =
  | 'not-found' // 404 for a file (or the repo)
  | 'network' // host unreachable or connection lost, retries used up
  | 'stalled' // no bytes for stallTimeoutMs, retries used up
  | 'http' // any other HTTP failure
  | 'integrity' // size or hash mismatch
  | 'missing'; // a bundled/local model lacks a file, or a model is read before it was stored

export class ModelDownloadError extends Error {
  override readonly name = 'ModelDownloadError';
  constructor(
    readonly code: DownloadErrorCode,
    message: string,
    readonly url?: string,
    readonly file?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function unreachable(url: string, err: unknown, file?: string): ModelDownloadError {
  const host = safeHost(url);
  return new ModelDownloadError(
    'network',
    `cannot reach ${host} (${url}): ${describeWithCause(err)}. Check the internet connection and the download address, then try again.`,
    url,
    file,
    { cause: err },
  );
}

export function interrupted(url: string, path: string, have: number, total: number | undefined, err: unknown): ModelDownloadError {
  const at = total !== undefined ? `${have} of ${total} bytes` : `${have} bytes`;
  const why = err === undefined ? 'connection closed early' : describeWithCause(err);
  return new ModelDownloadError(
    'network',
    `download of ${path} from ${safeHost(url)} was interrupted after ${at} (${why}); received bytes are kept and the next attempt resumes. URL: ${url}`,
    url,
    path,
    { cause: err },
  );
}

export function stallError(url: string, path: string, ms: number): ModelDownloadError {
  return new ModelDownloadError(
    'stalled',
    `download of ${path} stalled: no data from ${safeHost(url)} for ${ms / 1000} s (${url})`,
    url,
    path,
  );
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
