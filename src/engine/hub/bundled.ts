// Models that need no download: shipped inside the extension build, or a directory on disk
// (store-fs.ts). No hashes: the files come from the package or the user's own disk.

import { describeWithCause } from '../../errors.ts';
import { filesForBackend } from '../registry.ts';
import type { Backend, ModelBytes, ModelSpec } from '../types.ts';
import { ModelDownloadError } from './errors.ts';
import { allFiles, assemble, MANIFEST_FILE, type ModelFiles, parseManifest, readGraph, type TextFirstFiles } from './manifest.ts';
import { trimSlash } from './paths.ts';

function missingFile(spec: ModelSpec, path: string, where: string): ModelDownloadError {
  return new ModelDownloadError('missing', `model ${spec.id}: ${path} is missing from ${where}`, undefined, path);
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
  return allFiles(await readModelFilesTextFirst(spec, backend, read, where));
}

/** The manifest's external data next to the files, if there is a manifest (see readModelFiles). */
async function externalDataOf(read: (path: string) => Promise<Uint8Array | undefined>, where: string): Promise<Record<string, string[]>> {
  const manifestBytes = await read(MANIFEST_FILE).catch(() => undefined);
  return manifestBytes ? parseManifest(manifestBytes, `${where}/${MANIFEST_FILE}`).externalData : {};
}

/** As readModelFiles, answering once the text tower's files are read (see TextFirstFiles and assemble). */
async function readModelFilesTextFirst(
  spec: ModelSpec,
  backend: Backend,
  read: (path: string) => Promise<Uint8Array | undefined>,
  where: string,
  onTokenizer?: (bytes: Uint8Array) => void,
): Promise<TextFirstFiles> {
  return assemble(spec, backend, await externalDataOf(read, where), read, (path) => missingFile(spec, path, where), onTokenizer);
}

/** Reads files of a model shipped inside the extension build; undefined for a missing one. */
function bundledReader(dir: string, fetchImpl: typeof fetch): (path: string) => Promise<Uint8Array | undefined> {
  return async (path) => {
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
  };
}

const bundledDir = (spec: ModelSpec, baseUrl: string) => `${trimSlash(baseUrl)}/${spec.id}`;

/**
 * Loads a model shipped inside the extension build: `${baseUrl}/${spec.id}/<repo path>`, e.g.
 * baseUrl `models` (relative to the page/worker) or `chrome.runtime.getURL('models')`.
 */
export async function loadBundledModel(
  spec: ModelSpec,
  baseUrl: string,
  backend: Backend,
  fetchImpl: typeof fetch = globalThis.fetch.bind(globalThis),
): Promise<ModelFiles> {
  const dir = bundledDir(spec, baseUrl);
  return readModelFiles(spec, backend, bundledReader(dir, fetchImpl), dir);
}

/** As loadBundledModel, answering once the text tower's files are read (see TextFirstFiles and assemble). */
export function loadBundledTextFirst(spec: ModelSpec, baseUrl: string, backend: Backend, onTokenizer?: (bytes: Uint8Array) => void): Promise<TextFirstFiles> {
  const dir = bundledDir(spec, baseUrl);
  return readModelFilesTextFirst(spec, backend, bundledReader(dir, globalThis.fetch.bind(globalThis)), dir, onTokenizer);
}

/** The vision graph alone (with its external data) of a model shipped inside the extension build. */
export async function loadBundledVision(spec: ModelSpec, baseUrl: string, backend: Backend): Promise<ModelBytes> {
  const dir = bundledDir(spec, baseUrl);
  const read = bundledReader(dir, globalThis.fetch.bind(globalThis));
  return readGraph(filesForBackend(spec, backend).vision, await externalDataOf(read, dir), read, (path) => missingFile(spec, path, dir));
}

/** One file (repo path) of a model shipped inside the extension build, e.g. its tokenizer. */
export async function loadBundledFile(
  spec: ModelSpec,
  baseUrl: string,
  path: string,
  fetchImpl: typeof fetch = globalThis.fetch.bind(globalThis),
): Promise<Uint8Array> {
  const dir = bundledDir(spec, baseUrl);
  const bytes = await bundledReader(dir, fetchImpl)(path);
  if (!bytes) throw missingFile(spec, path, dir);
  return bytes;
}
