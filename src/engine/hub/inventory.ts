// What the model store holds of each model, for a list like an app store's: stored whole,
// partly downloaded, or absent, with the bytes it takes on disk measured from the store itself
// (not the registry's estimate), and removing a model outright.

import type { Backend, ModelSpec } from '../types.ts';
import { isModelStored } from './model-files.ts';
import { resolve, type StoredModelOptions } from './options.ts';
import type { InventoryStore } from './store.ts';

export interface StoredModel {
  /** Every file the backend needs is stored and matches the manifest. */
  complete: boolean;
  /** Bytes under the model's keys: complete files and partial downloads. */
  diskBytes: number;
}

export interface InventoryOptions extends Omit<StoredModelOptions, 'store'> {
  store: InventoryStore;
}

/** What the store holds of a model for a backend. */
export async function storedModel(spec: ModelSpec, backend: Backend, options: InventoryOptions): Promise<StoredModel> {
  const { prefix } = resolve(spec, options);
  const [complete, diskBytes] = await Promise.all([isModelStored(spec, backend, options), options.store.usage(prefix)]);
  return { complete, diskBytes };
}

/** Removes everything stored for a model (files of every backend, partial downloads, manifest). */
export async function removeStoredModel(spec: ModelSpec, options: InventoryOptions): Promise<void> {
  await options.store.deleteUnder(resolve(spec, options).prefix);
}
