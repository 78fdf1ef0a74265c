// Model delivery: fetch a registry entry's files from a Hugging Face style host, check them, and keep
// them in a ModelStore. Plain TypeScript on top of fetch, so the same code runs in the extension,
// the Node CLI and the tests.
//
// Guarantees:
// - Only bytes whose size (and SHA-256 or git blob id, when the host publishes one) match are ever
//   put in the store; a mismatch deletes the partial download and throws an error naming the file.
// - An interrupted transfer keeps what arrived (ModelStore partials) and continues with
//   `Range: bytes=N-`, both within one call (retries) and across calls (e.g. after the browser
//   was closed). A server that ignores Range (200 instead of 206) makes us start that file over.
// - No bytes for `stallTimeoutMs` aborts the request with a clear error.
// - Progress events never go backwards and the last one reports loaded === total.

import { concatBytes, gitBlobOid, sha256Hex } from '../bytes.ts';
import { describeWithCause } from '../errors.ts';
import { filesForBackend, requiredFiles } from './registry.ts';
import type { Backend, ModelBytes, ModelSpec } from './types.ts';

export const DEFAULT_BASE_URL = 'https://huggingface.co';
export const DEFAULT_REVISION = 'main';
/** Name of the bookkeeping file written next to a model's files (also used for bundled models). */
export const MANIFEST_FILE = 'manifest.json';

// ---------------------------------------------------------------------------------------------
// Storage

/** What survives of an interrupted download. */
export interface PartialDownload {
  /** Identifies the file version the chunks belong to (e.g. `sha256:<hex>`); see `validatorFor`. */
  validator: string;
  /** Received bytes in order, starting at offset 0. */
  chunks: Uint8Array[];
}

/**
 * Byte storage for model files, keyed by opaque strings such as `mobileclip-s0@main/onnx/x.onnx`.
 * Complete entries only ever hold verified bytes; partial entries hold an unfinished download.
 */
export interface ModelStore {
  get(key: string): Promise<Uint8Array | undefined>;
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** Removes the complete entry and any partial one. */
  delete(key: string): Promise<void>;
  getPartial(key: string): Promise<PartialDownload | undefined>;
  /** Starts (or restarts) a partial entry, dropping any chunks stored for the key before. */
  startPartial(key: string, validator: string): Promise<void>;
  /** Appends bytes to the partial entry created by startPartial. */
  appendPartial(key: string, chunk: Uint8Array): Promise<void>;
  deletePartial(key: string): Promise<void>;
  /** Keys of complete entries. */
  keys(): Promise<string[]>;
}

/** In-memory store: tests, and a fallback where no persistent storage is available. */
export class MemoryModelStore implements ModelStore {
  private readonly complete = new Map<string, Uint8Array>();
  private readonly partial = new Map<string, PartialDownload>();

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.complete.get(key);
  }
  async put(key: string, bytes: Uint8Array): Promise<void> {
    this.complete.set(key, bytes);
  }
  async delete(key: string): Promise<void> {
    this.complete.delete(key);
    this.partial.delete(key);
  }
  async getPartial(key: string): Promise<PartialDownload | undefined> {
    const p = this.partial.get(key);
    return p && { validator: p.validator, chunks: [...p.chunks] };
  }
  async startPartial(key: string, validator: string): Promise<void> {
    this.partial.set(key, { validator, chunks: [] });
  }
  async appendPartial(key: string, chunk: Uint8Array): Promise<void> {
    const p = this.partial.get(key);
    if (!p) throw new Error(`appendPartial before startPartial for ${key}`);
    // Copy: the caller may reuse the buffer, and stored bytes must not change afterwards.
    p.chunks.push(chunk.slice());
  }
  async deletePartial(key: string): Promise<void> {
    this.partial.delete(key);
  }
  async keys(): Promise<string[]> {
    return [...this.complete.keys()];
  }
}

// ---------------------------------------------------------------------------------------------
// Errors and progress

export type DownloadErrorCode =
  | 'not-found' // 404 for a file (or the repo)
  | 'network' // host unreachable or connection lost, retries used up
  | 'stalled' // no bytes for stallTimeoutMs, retries used up
  | 'http' // any other HTTP failure
  | 'integrity' // size or hash mismatch
  | 'missing'; // a bundled/local model lacks a file

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

// ---------------------------------------------------------------------------------------------
// Options

export interface DownloadOptions {
  store: ModelStore;
  /** Host serving `{base}/{repo}/resolve/{revision}/{path}` and `{base}/api/models/...`. */
  baseUrl?: string;
  revision?: string;
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
  /** Store keys are `${keyPrefix}/${path}`. Default `${spec.id}@${revision}`. */
  keyPrefix?: string;
  /** Injected for tests; defaults to globalThis.fetch. */
  fetch?: typeof fetch;
}

export interface EnsureModelOptions extends DownloadOptions {
  backend: Backend;
}

export interface ModelFiles {
  vision: ModelBytes;
  text: ModelBytes;
  tokenizer: Uint8Array;
}

/** What we know about a file before downloading it (from the tree listing). */
interface ExpectedFile {
  size?: number;
  sha256?: string;
  /** Git blob id (SHA-1) for files kept in git rather than LFS. */
  gitOid?: string;
}

/** Bookkeeping written after a successful download; lets later calls skip the network. */
export interface ModelManifest {
  version: 1;
  modelId: string;
  repo: string;
  revision: string;
  files: Record<string, ExpectedFile & { size: number }>;
  /** For each ONNX graph downloaded: its external-data files (repo-relative, possibly empty). */
  externalData: Record<string, string[]>;
}

interface Resolved {
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

function resolve(spec: ModelSpec, o: DownloadOptions): Resolved {
  const revision = o.revision ?? DEFAULT_REVISION;
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

// ---------------------------------------------------------------------------------------------
// Public entry points

/**
 * Returns the model's bytes for a backend, downloading what is missing. When everything is already
 * stored (according to the manifest) no request is made.
 */
export async function ensureModel(spec: ModelSpec, options: EnsureModelOptions): Promise<ModelFiles> {
  const r = resolve(spec, options);
  return exclusive(options.store, r.prefix, async () => {
    const cached = await readComplete(spec, options.backend, options.store, r);
    if (cached) return cached;
    const manifest = await downloadUnlocked(spec, [options.backend], options);
    const files = await assemble(spec, options.backend, manifest, (p) => options.store.get(key(r, p)));
    if (!files) throw new Error(`store lost files of ${spec.id} right after download`);
    return files;
  });
}

/**
 * Downloads (or completes) every file the given backends need, plus any ONNX external-data files,
 * and records them in the model's manifest. Files already stored and still matching the listing
 * are not downloaded again.
 */
export function downloadModel(
  spec: ModelSpec,
  backends: readonly Backend[],
  options: DownloadOptions,
): Promise<ModelManifest> {
  return exclusive(options.store, resolve(spec, options).prefix, () => downloadUnlocked(spec, backends, options));
}

/**
 * Two downloads of the same model into the same store would append to the same partial entries.
 * Calls are queued per store and key prefix instead; a queued ensureModel then finds the files
 * stored. (This covers one JS context; the engine host is the only downloader across contexts.)
 */
const queues = new WeakMap<ModelStore, Map<string, Promise<unknown>>>();

async function exclusive<T>(store: ModelStore, prefix: string, fn: () => Promise<T>): Promise<T> {
  let byPrefix = queues.get(store);
  if (!byPrefix) queues.set(store, (byPrefix = new Map()));
  const before = byPrefix.get(prefix) ?? Promise.resolve();
  const run = before.catch(() => {}).then(fn);
  byPrefix.set(prefix, run);
  try {
    return await run;
  } finally {
    if (byPrefix.get(prefix) === run) byPrefix.delete(prefix);
  }
}

async function downloadUnlocked(
  spec: ModelSpec,
  backends: readonly Backend[],
  options: DownloadOptions,
): Promise<ModelManifest> {
  const r = resolve(spec, options);
  const { store, signal } = options;
  signal?.throwIfAborted();

  const paths = requiredFiles(spec, backends);
  const onnxPaths = new Set(
    backends.flatMap((b) => {
      const f = filesForBackend(spec, b);
      return [f.vision, f.text];
    }),
  );

  // One listing per directory gives sizes, hashes and external-data files.
  const listing = await listFiles(paths, r, signal);

  const externalData: Record<string, string[]> = {};
  const all: string[] = [...paths];
  for (const p of onnxPaths) {
    const extra = listing ? externalDataFor(p, listing) : [];
    externalData[p] = extra;
    for (const e of extra) if (!all.includes(e)) all.push(e);
  }

  // Expected sizes: a file without a listed size leaves the overall total unknown until its
  // response headers arrive.
  const sizes = new Map<string, number | undefined>(all.map((p) => [p, listing?.get(p)?.size]));
  const doneBytes = new Map<string, number>();
  const totalNow = (): number | undefined => {
    let t = 0;
    for (const s of sizes.values()) {
      if (s === undefined) return undefined;
      t += s;
    }
    return t;
  };
  const loadedNow = (current?: string, currentLoaded = 0): number => {
    let l = current ? currentLoaded : 0;
    for (const [p, n] of doneBytes) if (p !== current) l += n;
    return l;
  };

  const previous = await readManifest(store, r);
  const recorded = sameSource(previous, spec, r) ? previous!.files : {};
  const files: ModelManifest['files'] = {};

  for (const path of all) {
    signal?.throwIfAborted();
    const expected: ExpectedFile = listing?.get(path) ?? {};
    const k = key(r, path);
    let bytes = await store.get(k);
    if (bytes && !(await storedStillValid(bytes, expected, recorded[path]))) {
      // The repo changed since we stored this file (or the store was tampered with): replace it.
      await store.delete(k);
      bytes = undefined;
    }
    if (!bytes) {
      bytes = await downloadFile(path, expected, k, r, options, (fileLoaded, fileTotal) => {
        if (fileTotal !== undefined) sizes.set(path, fileTotal);
        options.onProgress?.({
          file: path,
          fileLoaded,
          fileTotal,
          loaded: loadedNow(path, fileLoaded),
          total: totalNow(),
          fileDone: false,
        });
      });
    }
    sizes.set(path, bytes.length);
    doneBytes.set(path, bytes.length);
    files[path] = { ...expected, size: bytes.length };
    options.onProgress?.({
      file: path,
      fileLoaded: bytes.length,
      fileTotal: bytes.length,
      loaded: loadedNow(),
      total: totalNow(),
      fileDone: true,
    });
  }

  // Merge with what an earlier call (e.g. for the other backend) recorded.
  const manifest: ModelManifest = {
    version: 1,
    modelId: spec.id,
    repo: spec.repo,
    revision: r.revision,
    files: { ...recorded, ...files },
    externalData: { ...(sameSource(previous, spec, r) ? previous!.externalData : {}), ...externalData },
  };
  await store.put(key(r, MANIFEST_FILE), new TextEncoder().encode(JSON.stringify(manifest, null, 2)));
  return manifest;
}

/** True when ensureModel would return without touching the network. */
export async function isModelStored(
  spec: ModelSpec,
  backend: Backend,
  options: Pick<DownloadOptions, 'store' | 'revision' | 'keyPrefix'>,
): Promise<boolean> {
  const r = resolve(spec, options);
  const manifest = await readManifest(options.store, r);
  if (!sameSource(manifest, spec, r)) return false;
  const needed = neededPaths(spec, backend, manifest!);
  if (!needed) return false;
  for (const p of needed) {
    const bytes = await options.store.get(key(r, p));
    if (!bytes || bytes.length !== manifest!.files[p]?.size) return false;
  }
  return true;
}

/** Removes every stored file, partial download and the manifest of a model. */
export async function deleteModel(
  spec: ModelSpec,
  options: Pick<DownloadOptions, 'store' | 'revision' | 'keyPrefix'>,
): Promise<void> {
  const r = resolve(spec, options);
  const manifest = await readManifest(options.store, r);
  const paths = new Set<string>([
    ...requiredFiles(spec, ['wasm', 'webgpu']),
    ...Object.keys(manifest?.files ?? {}),
  ]);
  for (const p of paths) await options.store.delete(key(r, p));
  await options.store.delete(key(r, MANIFEST_FILE));
}

/**
 * Reads a model from any source of repo-relative paths (bundled extension files, a directory).
 * `read` returns undefined for a missing file. External data is known only from a manifest.json
 * next to the files (written by `npm run models:fetch`); without one the graphs are assumed to be
 * self-contained.
 */
export async function readModelFiles(
  spec: ModelSpec,
  backend: Backend,
  read: (path: string) => Promise<Uint8Array | undefined>,
  where: string,
): Promise<ModelFiles> {
  const manifestBytes = await read(MANIFEST_FILE).catch(() => undefined);
  let manifest: ModelManifest | undefined;
  if (manifestBytes) manifest = parseManifest(manifestBytes, `${where}/${MANIFEST_FILE}`);
  const need = async (path: string): Promise<Uint8Array> => {
    const bytes = await read(path);
    if (!bytes) {
      throw new ModelDownloadError('missing', `model ${spec.id}: ${path} is missing from ${where}`, undefined, path);
    }
    return bytes;
  };
  const f = filesForBackend(spec, backend);
  const graph = async (path: string): Promise<ModelBytes> => {
    const model = await need(path);
    const extra = manifest?.externalData[path] ?? [];
    if (extra.length === 0) return { model };
    return { model, externalData: await Promise.all(extra.map(async (e) => ({ path: basename(e), data: await need(e) }))) };
  };
  return { vision: await graph(f.vision), text: await graph(f.text), tokenizer: await need(f.tokenizer) };
}

/**
 * Loads a model shipped inside the extension build: `${baseUrl}/${spec.id}/<repo path>`, e.g.
 * baseUrl `models` (relative to the page/worker) or `chrome.runtime.getURL('models')`.
 * No hashes: the files come from the package itself.
 */
export async function loadBundledModel(
  spec: ModelSpec,
  baseUrl: string,
  backend: Backend,
  fetchImpl: typeof fetch = globalThis.fetch.bind(globalThis),
): Promise<ModelFiles> {
  const dir = `${trimSlash(baseUrl)}/${spec.id}`;
  return readModelFiles(
    spec,
    backend,
    async (path) => {
      const url = `${dir}/${path}`;
      let res: Response;
      try {
        res = await fetchImpl(url);
      } catch (err) {
        // Extension URLs of missing files fail like network errors rather than answering 404.
        if (path === MANIFEST_FILE) return undefined;
        throw new ModelDownloadError('missing', `cannot load bundled file ${url}: ${describeWithCause(err)}`, url, path, {
          cause: err,
        });
      }
      if (res.status === 404) return undefined;
      if (!res.ok) throw new ModelDownloadError('http', `HTTP ${res.status} loading bundled file ${url}`, url, path);
      return new Uint8Array(await res.arrayBuffer());
    },
    dir,
  );
}

// ---------------------------------------------------------------------------------------------
// Stored model without network

async function readComplete(
  spec: ModelSpec,
  backend: Backend,
  store: ModelStore,
  r: Resolved,
): Promise<ModelFiles | undefined> {
  const manifest = await readManifest(store, r);
  if (!sameSource(manifest, spec, r)) return undefined;
  return assemble(spec, backend, manifest!, async (p) => {
    const bytes = await store.get(key(r, p));
    // A size change means the entry is not what the manifest recorded; go the network path.
    return bytes && bytes.length === manifest!.files[p]?.size ? bytes : undefined;
  });
}

/** Paths (with external data) a backend needs, or undefined if the manifest does not cover them. */
function neededPaths(spec: ModelSpec, backend: Backend, manifest: ModelManifest): string[] | undefined {
  const f = filesForBackend(spec, backend);
  const out = [f.vision, f.text, f.tokenizer];
  for (const g of [f.vision, f.text]) {
    const extra = manifest.externalData[g];
    if (!extra) return undefined;
    out.push(...extra);
  }
  return out.every((p) => manifest.files[p]) ? out : undefined;
}

async function assemble(
  spec: ModelSpec,
  backend: Backend,
  manifest: ModelManifest,
  get: (path: string) => Promise<Uint8Array | undefined>,
): Promise<ModelFiles | undefined> {
  if (!neededPaths(spec, backend, manifest)) return undefined;
  const f = filesForBackend(spec, backend);
  const graph = async (path: string): Promise<ModelBytes | undefined> => {
    const model = await get(path);
    if (!model) return undefined;
    const extra = manifest.externalData[path] ?? [];
    if (extra.length === 0) return { model };
    const externalData: { path: string; data: Uint8Array }[] = [];
    for (const e of extra) {
      const data = await get(e);
      if (!data) return undefined;
      // onnxruntime matches external data by the location string in the graph, which is
      // relative to the .onnx file: the bare file name.
      externalData.push({ path: basename(e), data });
    }
    return { model, externalData };
  };
  const vision = await graph(f.vision);
  const text = await graph(f.text);
  const tokenizer = await get(f.tokenizer);
  return vision && text && tokenizer ? { vision, text, tokenizer } : undefined;
}

async function readManifest(store: ModelStore, r: Resolved): Promise<ModelManifest | undefined> {
  const bytes = await store.get(key(r, MANIFEST_FILE));
  if (!bytes) return undefined;
  try {
    return parseManifest(bytes, MANIFEST_FILE);
  } catch {
    return undefined; // unreadable bookkeeping only costs a re-check against the listing
  }
}

function parseManifest(bytes: Uint8Array, where: string): ModelManifest {
  const m = JSON.parse(new TextDecoder().decode(bytes)) as ModelManifest;
  if (m?.version !== 1 || typeof m.files !== 'object' || typeof m.externalData !== 'object') {
    throw new Error(`${where} is not a model manifest`);
  }
  return m;
}

function sameSource(m: ModelManifest | undefined, spec: ModelSpec, r: Resolved): boolean {
  return !!m && m.repo === spec.repo && m.revision === r.revision;
}

/** A stored file is kept when it still matches the listing (it was verified when stored). */
async function storedStillValid(
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

// ---------------------------------------------------------------------------------------------
// Hugging Face tree listing

interface TreeEntry {
  type: string;
  path: string;
  size?: number;
  oid?: string;
  lfs?: { oid: string; size: number };
}

/**
 * Sizes and hashes for the files' directories, or undefined when the host has no tree API
 * (a plain static mirror): downloads then go ahead with size checks from the headers only.
 * An unreachable host is reported here already, with the same message a download would give.
 */
async function listFiles(
  paths: string[],
  r: Resolved,
  signal: AbortSignal | undefined,
): Promise<Map<string, ExpectedFile> | undefined> {
  const dirs = [...new Set(paths.map(dirname))];
  const out = new Map<string, ExpectedFile>();
  let listedAny = false;
  for (const dir of dirs) {
    let url: string | undefined =
      `${r.base}/api/models/${r.repo}/tree/${encodeURIComponent(r.revision)}` + (dir ? `/${encodePath(dir)}` : '');
    while (url) {
      const pageUrl: string = url;
      let page: { entries: TreeEntry[]; next?: string } | undefined;
      try {
        page = await withStallTimeout(r.stallTimeoutMs, signal, async (s) => {
          const res = await r.fetch(pageUrl, { signal: s, headers: { accept: 'application/json' } });
          if (!res.ok) {
            await res.body?.cancel().catch(() => {});
            return undefined;
          }
          const entries: unknown = await res.json().catch(() => undefined);
          if (!Array.isArray(entries)) return undefined;
          // Large directories are paginated with `Link: <...>; rel="next"`.
          return { entries: entries as TreeEntry[], next: nextLink(res.headers.get('link'), pageUrl) };
        });
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        throw unreachable(pageUrl, err);
      }
      if (!page) break; // no listing for this directory: its files get header-based size checks only
      listedAny = true;
      for (const e of page.entries) {
        if (e?.type !== 'file' || typeof e.path !== 'string') continue;
        if (e.lfs && typeof e.lfs.oid === 'string') {
          out.set(e.path, { size: e.lfs.size ?? e.size, sha256: e.lfs.oid.toLowerCase() });
        } else {
          out.set(e.path, { size: e.size, gitOid: typeof e.oid === 'string' ? e.oid.toLowerCase() : undefined });
        }
      }
      url = page.next;
    }
  }
  return listedAny ? out : undefined;
}

function nextLink(header: string | null, current: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/i.exec(part);
    if (m) return new URL(m[1], current).toString();
  }
  return undefined;
}

/**
 * External-data files of an ONNX graph, as exporters name them: `X.onnx_data` (optimum /
 * transformers.js, possibly sharded as `X.onnx_data_1`, ...), `X.onnx.data` (torch.onnx), or
 * `X.bin` next to `X.onnx`.
 */
function externalDataFor(onnxPath: string, listing: Map<string, ExpectedFile>): string[] {
  const stem = onnxPath.replace(/\.onnx$/, '');
  const found: string[] = [];
  const candidates = [`${onnxPath}_data`, `${onnxPath}.data`, `${stem}.bin`];
  for (const c of candidates) if (listing.has(c)) found.push(c);
  const shards = [...listing.keys()]
    .filter((p) => p.startsWith(`${onnxPath}_data_`) && /^\d+$/.test(p.slice(onnxPath.length + 6)))
    .sort((a, b) => Number(a.slice(onnxPath.length + 6)) - Number(b.slice(onnxPath.length + 6)));
  return [...found, ...shards];
}

// ---------------------------------------------------------------------------------------------
// One file

/** Thrown inside an attempt for failures worth another attempt (lost connection, stall, 5xx). */
class RetryableError extends Error {
  constructor(
    readonly final: ModelDownloadError,
    readonly madeProgress: boolean,
  ) {
    super(final.message);
  }
}

/**
 * Identifies a file version so a partial download is only continued for the same bytes. From the
 * listing when possible; otherwise the response's strong ETag (sent back as If-Range).
 */
function validatorFor(expected: ExpectedFile): string | undefined {
  if (expected.sha256) return `sha256:${expected.sha256}`;
  if (expected.gitOid) return `git:${expected.gitOid}:${expected.size ?? ''}`;
  return undefined;
}

async function downloadFile(
  path: string,
  expected: ExpectedFile,
  storeKey: string,
  r: Resolved,
  options: DownloadOptions,
  report: (fileLoaded: number, fileTotal: number | undefined) => void,
): Promise<Uint8Array> {
  const { store, signal } = options;
  const url = fileUrl(r.base, r.repo, r.revision, path);

  let validator = validatorFor(expected);
  let chunks: Uint8Array[] = [];
  let have = 0;
  let partialStarted = false;
  let fileTotal = expected.size;

  const previous = await store.getPartial(storeKey);
  if (previous) {
    const usable = validator ? previous.validator === validator : previous.validator.startsWith('etag:');
    const size = previous.chunks.reduce((n, c) => n + c.length, 0);
    if (usable && (fileTotal === undefined || size <= fileTotal)) {
      chunks = previous.chunks;
      have = size;
      partialStarted = true;
      if (!validator) validator = previous.validator;
    } else {
      await store.deletePartial(storeKey);
    }
  }

  // Bytes received but not yet written to the store's partial entry.
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = async (): Promise<void> => {
    if (pendingBytes === 0) return;
    if (!partialStarted) {
      // Without any validator a partial could not be trusted later, so it is not kept.
      if (!validator) {
        pending = [];
        pendingBytes = 0;
        return;
      }
      await store.startPartial(storeKey, validator);
      partialStarted = true;
    }
    await store.appendPartial(storeKey, concatBytes(pending));
    pending = [];
    pendingBytes = 0;
  };
  const restart = async (): Promise<void> => {
    chunks = [];
    have = 0;
    pending = [];
    pendingBytes = 0;
    if (partialStarted) await store.deletePartial(storeKey);
    partialStarted = false;
  };

  // Progress never goes backwards: after a restart the bar waits until the new transfer passes
  // the furthest point reached before (the bytes in between are not new progress).
  let reported = -1;
  const progress = (): void => {
    if (have > reported) {
      reported = have;
      report(have, fileTotal);
    }
  };
  if (have > 0) progress();

  let attempt = 0;
  let furthest = have;
  for (;;) {
    try {
      await attemptTransfer();
      break;
    } catch (err) {
      await flush().catch(() => {});
      if (!(err instanceof RetryableError)) throw err;
      if (have > furthest) {
        furthest = have;
        attempt = 0; // a connection that keeps making progress is worth continuing
      }
      if (attempt >= r.retries) throw err.final;
      await sleep(r.retryDelayMs * 2 ** attempt, signal);
      attempt++;
    }
  }

  // Verify before anything reaches the complete entry.
  const bytes = concatBytes(chunks);
  chunks = [];
  await verify(bytes, expected, fileTotal, path, url, storeKey, store);
  await store.put(storeKey, bytes);
  await store.deletePartial(storeKey);
  return bytes;

  /** Runs requests until the file is complete; restarts from 0 at most once without a retry. */
  async function attemptTransfer(): Promise<void> {
    for (let restarts = 0; ; restarts++) {
      const outcome = await request();
      if (outcome === 'done') return;
      if (restarts >= 1) {
        throw new ModelDownloadError('http', `${url} keeps answering with bytes other than requested`, url, path);
      }
    }
  }

  /** One HTTP request continuing from `have`. 'restart' means the partial was dropped; ask again. */
  async function request(): Promise<'done' | 'restart'> {
    if (fileTotal !== undefined && have === fileTotal) return 'done'; // everything arrived earlier
    if (fileTotal !== undefined && have > fileTotal) await restart();

    const headers: Record<string, string> = {};
    if (have > 0) {
      headers.range = `bytes=${have}-`;
      if (validator?.startsWith('etag:')) headers['if-range'] = validator.slice(5);
    }

    return withStallTimeout(r.stallTimeoutMs, signal, async (s, bump, stalled) => {
      let res: Response;
      try {
        res = await r.fetch(url, { headers, signal: s });
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        if (stalled()) throw new RetryableError(stallError(url, path, r.stallTimeoutMs), false);
        throw new RetryableError(unreachable(url, err, path), false);
      }
      bump();

      if (res.status === 404) {
        await res.body?.cancel().catch(() => {});
        await restart();
        throw new ModelDownloadError('not-found', `model file not found (HTTP 404): ${url}`, url, path);
      }
      if (res.status === 416 && have > 0) {
        // Our offset is past the end: the partial does not belong to this file.
        await res.body?.cancel().catch(() => {});
        await restart();
        return 'restart';
      }
      if (!res.ok) {
        await res.body?.cancel().catch(() => {});
        const e = new ModelDownloadError('http', `HTTP ${res.status} ${res.statusText} for ${url}`.replace(/ +for/, ' for'), url, path);
        if (res.status >= 500 || res.status === 429) throw new RetryableError(e, false);
        throw e;
      }

      if (res.status === 206) {
        const range = parseContentRange(res.headers.get('content-range'));
        if (!range || range.start !== have) {
          // Not the bytes we asked for; take the whole file with a plain request.
          await res.body?.cancel().catch(() => {});
          await restart();
          return 'restart';
        }
        if (fileTotal === undefined && range.total !== undefined) fileTotal = range.total;
      } else {
        // 200: the whole file. If we asked for a range the server ignored it (or, with If-Range,
        // the file changed): what we had is discarded and this body is taken from byte 0.
        if (have > 0) await restart();
        const length = Number(res.headers.get('content-length'));
        if (fileTotal === undefined && Number.isFinite(length) && length > 0 && !res.headers.get('content-encoding')) {
          fileTotal = length;
        }
        if (!validator) {
          const etag = res.headers.get('etag');
          if (etag && !etag.startsWith('W/')) validator = `etag:${etag}`;
        }
      }
      if (!res.body) throw new ModelDownloadError('http', `empty response body from ${url}`, url, path);

      const reader = res.body.getReader();
      const before = have;
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          bump();
          if (value.length === 0) continue;
          chunks.push(value);
          pending.push(value);
          have += value.length;
          pendingBytes += value.length;
          if (fileTotal !== undefined && have > fileTotal) {
            await restart();
            throw new ModelDownloadError(
              'integrity',
              `${path}: server sent more than the expected ${fileTotal} bytes (${url}); nothing was stored`,
              url,
              path,
            );
          }
          if (pendingBytes >= r.flushBytes) {
            await flush();
            bump(); // a slow store write is not a stalled connection
          }
          progress();
        }
      } catch (err) {
        if (err instanceof ModelDownloadError) throw err;
        if (signal?.aborted) throw signal.reason;
        const e = stalled() ? stallError(url, path, r.stallTimeoutMs) : interrupted(url, path, have, fileTotal, err);
        throw new RetryableError(e, have > before);
      } finally {
        reader.releaseLock();
      }
      await flush();
      if (fileTotal !== undefined && have < fileTotal) {
        // The connection closed cleanly but early.
        throw new RetryableError(interrupted(url, path, have, fileTotal, undefined), have > before);
      }
      return 'done';
    });
  }
}

async function verify(
  bytes: Uint8Array,
  expected: ExpectedFile,
  fileTotal: number | undefined,
  path: string,
  url: string,
  storeKey: string,
  store: ModelStore,
): Promise<void> {
  const fail = async (what: string): Promise<never> => {
    await store.deletePartial(storeKey);
    await store.delete(storeKey);
    throw new ModelDownloadError(
      'integrity',
      `${path} failed verification (${what}); the download was discarded and nothing was stored. URL: ${url}`,
      url,
      path,
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

// ---------------------------------------------------------------------------------------------
// Helpers

/**
 * Runs `fn` with a signal that aborts when the caller's signal does or when `bump` has not been
 * called for `ms`. `stalled()` tells the two apart.
 */
async function withStallTimeout<T>(
  ms: number,
  outer: AbortSignal | undefined,
  fn: (signal: AbortSignal, bump: () => void, stalled: () => boolean) => Promise<T>,
): Promise<T> {
  const ctrl = new AbortController();
  let isStalled = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bump = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      isStalled = true;
      ctrl.abort(new Error('stalled'));
    }, ms);
  };
  const onAbort = (): void => ctrl.abort(outer!.reason);
  if (outer?.aborted) throw outer.reason;
  outer?.addEventListener('abort', onAbort, { once: true });
  bump();
  try {
    return await fn(ctrl.signal, bump, () => isStalled);
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onAbort);
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (ms <= 0) {
    signal?.throwIfAborted();
    return Promise.resolve();
  }
  return new Promise((resolvePromise, reject) => {
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolvePromise();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function parseContentRange(h: string | null): { start: number; total?: number } | undefined {
  const m = h && /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(h.trim());
  if (!m) return undefined;
  return { start: Number(m[1]), total: m[3] === '*' ? undefined : Number(m[3]) };
}

function unreachable(url: string, err: unknown, file?: string): ModelDownloadError {
  const host = safeHost(url);
  return new ModelDownloadError(
    'network',
    `cannot reach ${host} (${url}): ${describeWithCause(err)}. Check the internet connection and the download address, then try again.`,
    url,
    file,
    { cause: err },
  );
}

function interrupted(url: string, path: string, have: number, total: number | undefined, err: unknown): ModelDownloadError {
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

function stallError(url: string, path: string, ms: number): ModelDownloadError {
  return new ModelDownloadError(
    'stalled',
    `download of ${path} stalled: no data from ${safeHost(url)} for ${ms / 1000} s (${url})`,
    url,
    path,
  );
}

/** Error text including the low-level cause Node's fetch hides in `cause` (ECONNREFUSED, ...). */

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** `{base}/{repo}/resolve/{revision}/{path}`. */
export function fileUrl(baseUrl: string, repo: string, revision: string, path: string): string {
  return `${trimSlash(baseUrl)}/${repo}/resolve/${encodeURIComponent(revision)}/${encodePath(path)}`;
}

function key(r: Resolved, path: string): string {
  return `${r.prefix}/${path}`;
}

function encodePath(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/');
}

function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
}

function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

function trimSlash(s: string): string {
  return s.replace(/\/+$/, '');
}

