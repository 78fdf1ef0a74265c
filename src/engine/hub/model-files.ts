// Model delivery, public entry points: fetch a registry entry's files from a Hugging Face style
// host, check them, keep them in a ModelStore, and read them back. Plain TypeScript on top of
// fetch, so the same code runs in the extension, the Node CLI and the tests.
//
// Storing and reading are separate steps: ensureModelStored() downloads what is missing and
// returns nothing, readStoredModel() reads the bytes without any network. A caller that only
// needs the model on disk (or in Cache Storage) never holds its bytes.
//
// Guarantees:
// - Only bytes whose size (and SHA-256 or git blob id, when the host publishes one) match are ever
//   put in the store; a mismatch deletes the partial download and throws an error naming the file.
// - Interrupted transfers resume, stalled ones abort with a clear error (transfer.ts).
// - Progress events never go backwards and the last one reports loaded === total.

import { KeyedMutex } from '../../concurrency.ts';
import { filesForBackend, requiredFiles } from '../registry.ts';
import type { Backend, ModelBytes, ModelSpec } from '../types.ts';
import { downloadModelFiles } from './download-model.ts';
import { ModelDownloadError } from './errors.ts';
import { allFiles, assemble, MANIFEST_FILE, type ModelFiles, type ModelManifest, neededPaths, readGraph, readManifest, sameSource, type TextFirstFiles } from './manifest.ts';
import { type DownloadOptions, type Resolved, resolve, storeKey, type StoredModelOptions } from './options.ts';
import type { ModelStore } from './store.ts';

export { loadBundledFile, loadBundledModel, loadBundledTextFirst, loadBundledVision } from './bundled.ts';
export { type DownloadErrorCode, ModelDownloadError } from './errors.ts';
export { MANIFEST_FILE, type ModelFiles, type ModelManifest, type TextFirstFiles } from './manifest.ts';
export type { DownloadOptions, DownloadProgress, StoredModelOptions } from './options.ts';
export { DEFAULT_BASE_URL, DEFAULT_REVISION, fileUrl } from './paths.ts';
export type { ModelStore, PartialDownload } from './store.ts';

export interface EnsureModelOptions extends DownloadOptions {
  backend: Backend;
}

/**
 * Two downloads of the same model into the same store would append to the same partial entries.
 * Calls are queued per store object and key prefix instead; a queued ensureModelStored then finds
 * the files stored. (This covers one JS context; the engine host is the only downloader across
 * contexts.)
 */
const locks = new WeakMap<ModelStore, KeyedMutex<string>>();

function exclusive<T>(store: ModelStore, r: Resolved, task: () => Promise<T>): Promise<T> {
  let lock = locks.get(store);
  if (!lock) locks.set(store, (lock = new KeyedMutex()));
  return lock.run(r.prefix, task);
}

/**
 * Makes sure the store holds the model's files for a backend, downloading what is missing
 * (resuming partial downloads, verifying sizes and hashes). When everything is already stored
 * (according to the manifest) no request is made.
 */
export function ensureModelStored(spec: ModelSpec, options: EnsureModelOptions): Promise<void> {
  const r = resolve(spec, options);
  return exclusive(options.store, r, async () => {
    if (await isStored(spec, options.backend, options.store, r)) return;
    await downloadModelFiles(spec, [options.backend], options);
  });
}

/**
 * Downloads (or completes) every file the given backends need and returns the manifest. Unlike
 * ensureModelStored it always checks stored files against the host's listing, so a repo that
 * changed is fetched again: what `npm run models:fetch` wants.
 */
export function downloadModel(spec: ModelSpec, backends: readonly Backend[], options: DownloadOptions): Promise<ModelManifest> {
  return exclusive(options.store, resolve(spec, options), () => downloadModelFiles(spec, backends, options));
}

/** The stored bytes of a model for a backend, without network; throws if they are not all stored. */
export async function readStoredModel(spec: ModelSpec, backend: Backend, options: StoredModelOptions): Promise<ModelFiles> {
  return allFiles(await readStoredTextFirst(spec, backend, options));
}

/** As readStoredModel, answering once the text tower's files are read (see TextFirstFiles and assemble). */
export function readStoredTextFirst(spec: ModelSpec, backend: Backend, options: StoredModelOptions, onTokenizer?: (bytes: Uint8Array) => void): Promise<TextFirstFiles> {
  const { r, missing, covering } = storedParts(spec, backend, options);
  return exclusive(options.store, r, async () => {
    const { externalData, get } = await covering();
    return { ...(await assemble(spec, backend, externalData, get, missing, onTokenizer)), vision: () => readStoredVision(spec, backend, options) };
  });
}

/** The stored vision graph alone (with its external data), without network. */
export function readStoredVision(spec: ModelSpec, backend: Backend, options: StoredModelOptions): Promise<ModelBytes> {
  const { r, missing, covering } = storedParts(spec, backend, options);
  return exclusive(options.store, r, async () => {
    const { externalData, get } = await covering();
    return readGraph(filesForBackend(spec, backend).vision, externalData, get, missing);
  });
}

function storedParts(spec: ModelSpec, backend: Backend, options: StoredModelOptions) {
  const r = resolve(spec, options);
  const missing = (path?: string) => new ModelDownloadError('missing', `${spec.label} is not in the model cache`, undefined, path);
  // Each read under the lock: a download in progress may be replacing a file.
  const covering = async () => {
    const covered = await coveringManifest(spec, backend, options.store, r);
    if (!covered) throw missing();
    return { externalData: covered.manifest.externalData, get: storedReader(options.store, r, covered.manifest) };
  };
  return { r, missing, covering };
}

/**
 * One stored file of a model (the tokenizer, say), without network: for a context that needs
 * that file and not the graphs. Throws if it is not stored whole.
 */
export function readStoredFile(spec: ModelSpec, path: string, options: StoredModelOptions): Promise<Uint8Array> {
  const r = resolve(spec, options);
  return exclusive(options.store, r, async () => {
    const manifest = await readManifest(options.store, r);
    const bytes = sameSource(manifest, spec, r) ? await storedReader(options.store, r, manifest)(path) : undefined;
    if (!bytes) throw new ModelDownloadError('missing', `${spec.label}: ${path} is not in the model cache`, undefined, path);
    return bytes;
  });
}

/** True when ensureModelStored would return without touching the network. */
export async function isModelStored(spec: ModelSpec, backend: Backend, options: StoredModelOptions): Promise<boolean> {
  return isStored(spec, backend, options.store, resolve(spec, options));
}

/** Removes every stored file, partial download and the manifest of a model. */
export async function deleteModel(spec: ModelSpec, options: StoredModelOptions): Promise<void> {
  const r = resolve(spec, options);
  const manifest = await readManifest(options.store, r);
  const paths = new Set<string>([...requiredFiles(spec, ['wasm', 'webgpu']), ...Object.keys(manifest?.files ?? {})]);
  for (const p of paths) await options.store.delete(storeKey(r, p));
  await options.store.delete(storeKey(r, MANIFEST_FILE));
}

/** The stored manifest, when it is this model's and covers every file the backend needs. */
async function coveringManifest(
  spec: ModelSpec,
  backend: Backend,
  store: ModelStore,
  r: Resolved,
): Promise<{ manifest: ModelManifest; needed: string[] } | undefined> {
  const manifest = await readManifest(store, r);
  if (!sameSource(manifest, spec, r)) return undefined;
  const needed = neededPaths(spec, backend, manifest);
  return needed && { manifest, needed };
}

/** Reads stored files; undefined for one that is missing or not the size the manifest recorded. */
function storedReader(store: ModelStore, r: Resolved, manifest: ModelManifest): (path: string) => Promise<Uint8Array | undefined> {
  return async (path) => {
    const bytes = await store.get(storeKey(r, path));
    // A size change means the entry is not what the manifest recorded; go the network path.
    return bytes && bytes.length === manifest.files[path]?.size ? bytes : undefined;
  };
}

async function isStored(spec: ModelSpec, backend: Backend, store: ModelStore, r: Resolved): Promise<boolean> {
  const covered = await coveringManifest(spec, backend, store, r);
  if (!covered) return false;
  const read = storedReader(store, r, covered.manifest);
  for (const p of covered.needed) if (!(await read(p))) return false;
  return true;
}
