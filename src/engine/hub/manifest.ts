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
 * missing). External data comes from `externalData` (a manifest's); a graph without an entry there
 * is taken as self-contained. Undefined as soon as a file is missing.
 */
export async function assemble(
  spec: ModelSpec,
  backend: Backend,
  externalData: Record<string, string[]>,
  get: (path: string) => Promise<Uint8Array | undefined>,
): Promise<ModelFiles | undefined> {
  const f = filesForBackend(spec, backend);
  const graph = async (path: string): Promise<ModelBytes | undefined> => {
    const model = await get(path);
    if (!model) return undefined;
    const extra = externalData[path] ?? [];
    if (extra.length === 0) return { model };
    const data: { path: string; data: Uint8Array }[] = [];
    for (const e of extra) {
      const bytes = await get(e);
      if (!bytes) return undefined;
      // onnxruntime matches external data by the location string in the graph, which is
      // relative to the .onnx file: the bare file name.
      data.push({ path: basename(e), data: bytes });
    }
    return { model, externalData: data };
  };
  const vision = await graph(f.vision);
  const text = vision && (await graph(f.text));
  const tokenizer = text && (await get(f.tokenizer));
  return vision && text && tokenizer ? { vision, text, tokenizer } : undefined;
}
