// Downloading a model: every file the chosen backends need plus their external data, one after
// the other, with one progress stream over all of them, then the manifest. Files are fetched at
// the pinned (or first-use) commit and checked against their pins (trust.ts). Callers hold the
// model's lock (model-files.ts).

import { filesForBackend, requiredFiles } from '../registry.ts';
import type { Backend, ModelSpec } from '../types.ts';
import { externalDataFor, listFiles } from './hf-listing.ts';
import { type ExpectedFile, type ModelManifest, readManifest, sameSource, writeManifest } from './manifest.ts';
import { type DownloadOptions, type DownloadProgress, resolve, storeKey } from './options.ts';
import { fileUrl } from './paths.ts';
import { FileTransfer } from './transfer.ts';
import { establishTrust, type Trust } from './trust.ts';
import { changedUpstream, storedStillValid } from './verify.ts';

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
 * What a file must be: its pin when there is one (the listing must then agree, or the file changed
 * upstream before we even fetch it), else what the listing says.
 */
function expectationFor(
  path: string,
  trust: Trust,
  listing: Map<string, ExpectedFile> | undefined,
  url: string,
): { expected: ExpectedFile; pinnedBy?: string } {
  const listed = listing?.get(path);
  const pinned = trust.pinOf(path);
  if (!pinned) return { expected: listed ?? {} };
  const { pin, by } = pinned;
  if (listed?.sha256 && listed.sha256 !== pin.sha256) throw changedUpstream(path, `SHA-256 ${listed.sha256} in the host's listing, expected ${pin.sha256}`, by, url);
  if (listed?.size !== undefined && listed.size !== pin.size) throw changedUpstream(path, `size ${listed.size} bytes in the host's listing, expected ${pin.size}`, by, url);
  return { expected: { size: pin.size, sha256: pin.sha256 }, pinnedBy: by };
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

  // Which commit to ask for and which files to accept (registry pins, or trust on first use).
  const trust = await establishTrust(spec, r, options);
  const atCommit = { ...r, revision: trust.revision };

  // One listing per directory gives external-data files, and sizes and hashes for what is not pinned.
  const listing = await listFiles(paths, atCommit, signal);

  const externalData: Record<string, string[]> = {};
  const all: string[] = [...paths];
  for (const p of onnxPaths) {
    const extra = listing ? externalDataFor(p, listing) : [];
    externalData[p] = extra;
    for (const e of extra) if (!all.includes(e)) all.push(e);
  }

  const expectations = new Map(all.map((p) => [p, expectationFor(p, trust, listing, fileUrl(r.base, r.repo, trust.revision, p))]));
  const tally = new ProgressTally(all, new Map(all.map((p) => [p, expectations.get(p)!.expected])), options.onProgress);
  const previous = await readManifest(store, r);
  const recorded = sameSource(previous, spec, r) ? previous.files : {};
  const files: ModelManifest['files'] = {};
  const verified = new Map<string, Uint8Array>();

  for (const path of all) {
    signal?.throwIfAborted();
    const { expected, pinnedBy } = expectations.get(path)!;
    const k = storeKey(r, path);
    let bytes = await store.get(k);
    if (bytes && !(await storedStillValid(bytes, expected, recorded[path]))) {
      // The repo changed since we stored this file (or the store was tampered with): replace it.
      await store.delete(k);
      bytes = undefined;
    }
    bytes ??= await new FileTransfer({ path, expected, storeKey: k, pinnedBy }, atCommit, options, (loaded, total) =>
      tally.receiving(path, loaded, total),
    ).run();
    files[path] = { ...expected, size: bytes.length };
    verified.set(path, bytes);
    tally.done(path, bytes.length);
  }
  await trust.remember(verified, (p) => listing?.get(p)?.sha256);

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
