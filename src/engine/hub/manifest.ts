// The bookkeeping file written next to a model's files, and turning stored files back into the
// bytes the engine loads (graphs with their external data, tokenizer).

import { filesForBackend } from '../registry.ts';
import type { Backend, ModelBytes, ModelSpec } from '../types.ts';
import { type Resolved, storeKey } from './options.ts';
import { basename } from './paths.ts';
import type { ModelStore } from './store.ts';

/** Name of the bookkeeping file written next to a model's files (also used for bundled models). */
export const MANIFEST_FILE = 'manifest.json';

export interface ModelFiles {
  vision: ModelBytes;
  text: ModelBytes;
  tokenizer: Uint8Array;
}

/**
 * A model's files with the vision graph read only when asked for: the text tower's files are all
 * an engine that opens its text tower first needs to start (and all a query or a page of cached
 * images ever needs).
 */
export interface TextFirstFiles {
  text: ModelBytes;
  tokenizer: Uint8Array;
  /** Reads the vision graph (again at each call); rejects as a missing file does for the others. */
  vision(): Promise<ModelBytes>;
}

/** All of them, the vision graph read now. */
export async function allFiles(files: TextFirstFiles): Promise<ModelFiles> {
  return { text: files.text, tokenizer: files.tokenizer, vision: await files.vision() };
}

/** What we know about a file before downloading it (from the tree listing). */
export interface ExpectedFile {
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

export function parseManifest(bytes: Uint8Array, where: string): ModelManifest {
  const m = JSON.parse(new TextDecoder().decode(bytes)) as ModelManifest;
  if (m?.version !== 1 || typeof m.files !== 'object' || typeof m.externalData !== 'object') {
    throw new Error(`${where} is not a model manifest`);
  }
  return m;
}

/** The stored manifest of the resolved model, if it is there and readable. */
export async function readManifest(store: ModelStore, r: Resolved): Promise<ModelManifest | undefined> {
  const bytes = await store.get(storeKey(r, MANIFEST_FILE));
  if (!bytes) return undefined;
  try {
    return parseManifest(bytes, MANIFEST_FILE);
  } catch {
    return undefined; // unreadable bookkeeping only costs a re-check against the listing
  }
}

export async function writeManifest(store: ModelStore, r: Resolved, manifest: ModelManifest): Promise<void> {
  await store.put(storeKey(r, MANIFEST_FILE), new TextEncoder().encode(JSON.stringify(manifest, null, 2)));
}

/** The manifest describes this repo and revision (and not, say, an earlier one under the same key). */
export function sameSource(m: ModelManifest | undefined, spec: ModelSpec, r: Resolved): m is ModelManifest {
  return !!m && m.repo === spec.repo && m.revision === r.revision;
}

/** Paths (with external data) a backend needs, or undefined if the manifest does not cover them. */
export function neededPaths(spec: ModelSpec, backend: Backend, manifest: ModelManifest): string[] | undefined {
  const f = filesForBackend(spec, backend);
  const out = [f.vision, f.text, f.tokenizer];
  for (const g of [f.vision, f.text]) {
    const extra = manifest.externalData[g];
    if (!extra) return undefined;
    out.push(...extra);
  }
  return out.every((p) => manifest.files[p]) ? out : undefined;
}

/**
 * The engine's bytes for a backend, read with `get` (repo-relative path → bytes, or undefined when
 * missing; `missing` says why for such a path): the tokenizer, then the text graph, the vision
 * graph when asked for. `onTokenizer` has the tokenizer's bytes while the text graph is read (its
 * parse need not wait for the graph). External data comes from `externalData` (a manifest's); a
 * graph without an entry there is taken as self-contained.
 */
export async function assemble(
  spec: ModelSpec,
  backend: Backend,
  externalData: Record<string, string[]>,
  get: (path: string) => Promise<Uint8Array | undefined>,
  missing: (path: string) => Error,
  onTokenizer?: (bytes: Uint8Array) => void,
): Promise<TextFirstFiles> {
  const f = filesForBackend(spec, backend);
  const tokenizer = await need(f.tokenizer, get, missing);
  const text = readGraph(f.text, externalData, get, missing);
  onTokenizer?.(tokenizer);
  return { text: await text, tokenizer, vision: () => readGraph(f.vision, externalData, get, missing) };
}

/** One graph with its external data (see assemble). */
export async function readGraph(
  path: string,
  externalData: Record<string, string[]>,
  get: (path: string) => Promise<Uint8Array | undefined>,
  missing: (path: string) => Error,
): Promise<ModelBytes> {
  const model = await need(path, get, missing);
  const extra = externalData[path] ?? [];
  if (extra.length === 0) return { model };
  const data: { path: string; data: Uint8Array }[] = [];
  // onnxruntime matches external data by the location string in the graph, which is
  // relative to the .onnx file: the bare file name.
  for (const e of extra) data.push({ path: basename(e), data: await need(e, get, missing) });
  return { model, externalData: data };
}

async function need(path: string, get: (path: string) => Promise<Uint8Array | undefined>, missing: (path: string) => Error): Promise<Uint8Array> {
  const bytes = await get(path);
  if (!bytes) throw missing(path);
  return bytes;
}
