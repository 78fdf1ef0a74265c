// Downloading a model: every file the chosen backends need plus their external data, one after
// the other, with one progress stream over all of them, then the manifest. Callers hold the
// model's lock (model-files.ts).

import { filesForBackend, requiredFiles } from '../registry.ts';
import type { Backend, ModelSpec } from '../types.ts';
import { externalDataFor, listFiles } from './hf-listing.ts';
import { type ExpectedFile, type ModelManifest, readManifest, sameSource, writeManifest } from './manifest.ts';
import { type DownloadOptions, type DownloadProgress, resolve, storeKey } from './options.ts';
import { FileTransfer } from './transfer.ts';
import { storedStillValid } from './verify.ts';

/**
 * Overall progress of one call. A file without a known size leaves the total unknown until its
 * response headers arrive.
 */
class ProgressTally {
  private readonly sizes: Map<string, number | undefined>;
  private readonly doneBytes = new Map<string, number>();

  constructor(
    paths: string[],
    listing: Map<string, ExpectedFile> | undefined,
    private readonly onProgress: ((p: DownloadProgress) => void) | undefined,
  ) {
    this.sizes = new Map(paths.map((p) => [p, listing?.get(p)?.size]));
  }

  receiving(file: string, fileLoaded: number, fileTotal: number | undefined): void {
    if (fileTotal !== undefined) this.sizes.set(file, fileTotal);
    this.onProgress?.({ file, fileLoaded, fileTotal, loaded: this.loaded(file, fileLoaded), total: this.total(), fileDone: false });
  }

  done(file: string, size: number): void {
    this.sizes.set(file, size);
    this.doneBytes.set(file, size);
    this.onProgress?.({ file, fileLoaded: size, fileTotal: size, loaded: this.loaded(), total: this.total(), fileDone: true });
  }

  private total(): number | undefined {
    let t = 0;
    for (const s of this.sizes.values()) {
      if (s === undefined) return undefined;
      t += s;
    }
    return t;
  }

  private loaded(current?: string, currentLoaded = 0): number {
    let l = current ? currentLoaded : 0;
    for (const [p, n] of this.doneBytes) if (p !== current) l += n;
    return l;
  }
}

/**
 * Downloads (or completes) every file the given backends need, plus any ONNX external-data files,
 * and records them in the model's manifest. Files already stored and still matching the listing
 * are not downloaded again.
 */
export async function downloadModelFiles(
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

  const tally = new ProgressTally(all, listing, options.onProgress);
  const previous = await readManifest(store, r);
  const recorded = sameSource(previous, spec, r) ? previous.files : {};
  const files: ModelManifest['files'] = {};

  for (const path of all) {
    signal?.throwIfAborted();
    const expected: ExpectedFile = listing?.get(path) ?? {};
    const k = storeKey(r, path);
    let bytes = await store.get(k);
    if (bytes && !(await storedStillValid(bytes, expected, recorded[path]))) {
      // The repo changed since we stored this file (or the store was tampered with): replace it.
      await store.delete(k);
      bytes = undefined;
    }
    bytes ??= await new FileTransfer({ path, expected, storeKey: k }, r, options, (loaded, total) =>
      tally.receiving(path, loaded, total),
    ).run();
    files[path] = { ...expected, size: bytes.length };
    tally.done(path, bytes.length);
  }

  // Merge with what an earlier call (e.g. for the other backend) recorded.
  const manifest: ModelManifest = {
    version: 1,
    modelId: spec.id,
    repo: spec.repo,
    revision: r.revision,
    files: { ...recorded, ...files },
    externalData: { ...(sameSource(previous, spec, r) ? previous.externalData : {}), ...externalData },
  };
  await writeManifest(store, r, manifest);
  return manifest;
}
