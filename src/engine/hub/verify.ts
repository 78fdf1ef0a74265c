// Integrity: only bytes whose size and hash match what the host published reach a complete store
// entry, and a stored file is kept only while it still matches the listing.

import { gitBlobOid, sha256Hex } from '../../bytes.ts';
import { ModelDownloadError } from './errors.ts';
import type { ExpectedFile } from './manifest.ts';
import type { ModelStore } from './store.ts';

/** Where downloaded bytes came from and where they would be stored. */
export interface DownloadedFile {
  path: string;
  url: string;
  storeKey: string;
  store: ModelStore;
  /** Where `expected` comes from when it is a pin (trust.ts); undefined for the host's listing. */
  pinnedBy?: string;
}

/**
 * Checks a finished download against the listing (or, without one, the size the response
 * announced). A mismatch deletes every trace of the file from the store and throws.
 */
export async function verifyDownload(
  bytes: Uint8Array,
  expected: ExpectedFile,
  fileTotal: number | undefined,
  file: DownloadedFile,
): Promise<void> {
  const fail = async (what: string): Promise<never> => {
    await file.store.deletePartial(file.storeKey);
    await file.store.delete(file.storeKey);
    throw file.pinnedBy
      ? changedUpstream(file.path, what, file.pinnedBy, file.url)
      : new ModelDownloadError(
          'integrity',
          `${file.path} failed verification (${what}); the download was discarded and nothing was stored. URL: ${file.url}`,
          file.url,
          file.path,
        );
  };
  const size = expected.size ?? fileTotal;
  if (size !== undefined && bytes.length !== size) await fail(`size ${bytes.length} bytes, expected ${size}`);
  if (expected.sha256) {
    const actual = await sha256Hex(bytes);
    if (actual !== expected.sha256) await fail(`SHA-256 ${actual}, expected ${expected.sha256}`);
  } else if (expected.gitOid) {
    const actual = await gitBlobOid(bytes);
    if (actual !== expected.gitOid) await fail(`git blob id ${actual}, expected ${expected.gitOid}`);
  }
}

/** A file that is not the one pinned: refused, whatever the host's listing says. */
export function changedUpstream(path: string, what: string, pinnedBy: string, url: string): ModelDownloadError {
  return new ModelDownloadError(
    'integrity',
    `model file changed upstream: ${path} has ${what} (${pinnedBy}); the download was discarded and nothing was stored. URL: ${url}`,
    url,
    path,
  );
}

/** A stored file is kept when it still matches the listing (it was verified when stored). */
export async function storedStillValid(
  bytes: Uint8Array,
  expected: ExpectedFile,
  recorded: ExpectedFile | undefined,
): Promise<boolean> {
  if (expected.size !== undefined && bytes.length !== expected.size) return false;
  if (expected.sha256) {
    if (recorded?.sha256) return recorded.sha256 === expected.sha256;
    return (await sha256Hex(bytes)) === expected.sha256;
  }
  if (expected.gitOid) {
    if (recorded?.gitOid) return recorded.gitOid === expected.gitOid;
    return (await gitBlobOid(bytes)) === expected.gitOid;
  }
  return true;
}
