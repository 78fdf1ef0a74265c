// Reading the model's files in the offscreen document's workers, from where the service worker
// said they are (ModelSource): shipped in the extension, or downloaded into Cache Storage.

import { loadBundledTextFirst, loadBundledVision, readStoredTextFirst, readStoredVision, type TextFirstFiles } from '../engine/hub/model-files';
import { CacheStorageModelStore } from '../engine/hub/store-cache';
import type { ModelBytes, ModelSpec } from '../engine/types';
import type { ModelSource } from './protocol';

// The service worker downloads (with progress in the popup) before it asks; downloading here as
// well could race it on the same partial entries, so these only read.

/** The text tower's files (the vision graph is read with the first images); see assemble for `onTokenizer`. */
export function readTextFirst(spec: ModelSpec, source: ModelSource, onTokenizer?: (bytes: Uint8Array) => void): Promise<TextFirstFiles> {
  if (source.kind === 'bundled') return loadBundledTextFirst(spec, source.baseUrl, 'wasm', onTokenizer);
  return readStoredTextFirst(spec, 'wasm', { store: new CacheStorageModelStore() }, onTokenizer);
}

/** The vision graph alone. */
export function readVision(spec: ModelSpec, source: ModelSource): Promise<ModelBytes> {
  if (source.kind === 'bundled') return loadBundledVision(spec, source.baseUrl, 'wasm');
  return readStoredVision(spec, 'wasm', { store: new CacheStorageModelStore() });
}
