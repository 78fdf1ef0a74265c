// What a caller can ask of a download, and the same options with every default filled in.

import type { ModelSpec } from '../types.ts';
import { DEFAULT_BASE_URL, DEFAULT_REVISION, trimSlash } from './paths.ts';
import type { ModelStore } from './store.ts';

export interface DownloadProgress {
  /** Repo-relative path of the file this event is about. */
  file: string;
  fileLoaded: number;
  /** Undefined until the listing or the response headers tell the size. */
  fileTotal?: number;
  /** Bytes of all files of this call, including ones already stored. */
  loaded: number;
  /** Undefined while any file's size is unknown. */
  total?: number;
  /** True on the event sent once the file is verified and stored (or found already stored). */
  fileDone: boolean;
}

/** Which stored copy of a model: enough to find its entries without any network. */
export interface StoredModelOptions {
  store: ModelStore;
  /** Default: the registry entry's pinned commit, else `main` (trusted on first use, trust.ts). */
  revision?: string;
  /** Store keys are `${keyPrefix}/${path}`. Default `${spec.id}@${revision}`. */
  keyPrefix?: string;
}

export interface DownloadOptions extends StoredModelOptions {
  /** Host serving `{base}/{repo}/resolve/{revision}/{path}` and `{base}/api/models/...`. */
  baseUrl?: string;
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
  /** Abort a request when no bytes arrive for this long. Default 30 s. */
  stallTimeoutMs?: number;
  /** Extra attempts after a lost connection or a stall, per file. Default 3. */
  retries?: number;
  /** Wait before the first retry; doubles each time. Default 1000 ms. */
  retryDelayMs?: number;
  /** Received bytes are written to the store's partial entry in pieces of at least this size. Default 8 MiB. */
  flushBytes?: number;
  /** Injected for tests; defaults to globalThis.fetch. */
  fetch?: typeof fetch;
}

export interface Resolved {
  repo: string;
  base: string;
  revision: string;
  prefix: string;
  fetch: typeof fetch;
  stallTimeoutMs: number;
  retries: number;
  retryDelayMs: number;
  flushBytes: number;
}

export function resolve(spec: ModelSpec, o: DownloadOptions): Resolved {
  const revision = o.revision ?? spec.source?.revision ?? DEFAULT_REVISION;
  return {
    repo: spec.repo,
    base: trimSlash(o.baseUrl ?? DEFAULT_BASE_URL),
    revision,
    prefix: o.keyPrefix ?? `${spec.id}@${revision}`,
    fetch: o.fetch ?? globalThis.fetch.bind(globalThis),
    stallTimeoutMs: o.stallTimeoutMs ?? 30_000,
    retries: o.retries ?? 3,
    retryDelayMs: o.retryDelayMs ?? 1000,
    flushBytes: o.flushBytes ?? 8 * 1024 * 1024,
  };
}

/** The store key of a repo-relative path. */
export function storeKey(r: Pick<Resolved, 'prefix'>, path: string): string {
  return `${r.prefix}/${path}`;
}
