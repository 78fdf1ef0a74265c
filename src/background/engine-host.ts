// Owns the one MobileCLIP engine of the background: which model, where its bytes come from,
// which backend answers, and the status every popup shows.
import browser from 'webextension-polyfill';
import * as ort from 'onnxruntime-web';
import { ClipEngine } from '../engine/session';
import { ClipTokenizer } from '../engine/tokenizer';
import { DEFAULT_MODEL_ID, getModel } from '../engine/registry';
import { ensureModel, loadBundledModel } from '../engine/download';
import { CacheStorageModelStore } from '../engine/model-store-cache';
import type { Backend, ModelSpec } from '../engine/types';
import type { ModelStatus } from '../messages';
import { loadSettings, type Settings } from '../settings';

declare const __TEST_BUILD__: boolean;

export interface LoadedModel {
  spec: ModelSpec;
  engine: ClipEngine;
  tokenizer: ClipTokenizer;
}

type Listener = (status: ModelStatus) => void;

// The service worker cannot start Workers, so ORT runs on this thread: one WASM thread.
// (The WASM binary is found without wasmPaths: vite rewrites ORT's `new URL(…, import.meta.url)` to the emitted asset.)
ort.env.wasm.numThreads = 1;

let bundledIds: Promise<string[]> | null = null;
function bundledModels(): Promise<string[]> {
  bundledIds ??= fetch(browser.runtime.getURL('bundled-models.json'))
    .then((r) => (r.ok ? r.json() : []))
    .then((ids: unknown) => (Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : []))
    .catch(() => []);
  return bundledIds;
}

/** The model the user chose, else a bundled one, else the default download. Test-only models never stand in for real ones. */
export async function chooseModel(settings: Settings): Promise<ModelSpec> {
  const bundled = await bundledModels();
  const usable = (id: string) => {
    const spec = getModel(id);
    return spec && (!spec.testOnly || __TEST_BUILD__ || bundled.includes(id)) ? spec : undefined;
  };
  return (
    (settings.modelId && usable(settings.modelId)) ||
    bundled.map(usable).find((s) => s && !s.testOnly) ||
    (__TEST_BUILD__ ? usable('fixture') : undefined) ||
    getModel(DEFAULT_MODEL_ID)!
  );
}

class EngineHost {
  private loading: Promise<LoadedModel> | null = null;
  private listeners = new Set<Listener>();
  status: ModelStatus = { id: '', label: '', testOnly: false, phase: 'idle', backend: null, progress: null, error: null };

  onStatus(listener: Listener): void {
    this.listeners.add(listener);
  }

  private setStatus(patch: Partial<ModelStatus>): void {
    this.status = { ...this.status, ...patch };
    for (const listener of this.listeners) listener(this.status);
  }

  /** Loads (once) and returns the engine. A failed load is retried on the next call. */
  get(): Promise<LoadedModel> {
    this.loading ??= this.load().catch((error: unknown) => {
      this.loading = null;
      this.setStatus({ phase: 'error', error: describe(error), progress: null });
      throw error;
    });
    return this.loading;
  }

  /** Drops the engine so the next get() loads the model the settings now name. */
  async reset(): Promise<void> {
    const previous = this.loading;
    this.loading = null;
    this.setStatus({ phase: 'idle', backend: null, progress: null, error: null });
    if (previous) await previous.then((m) => m.engine.dispose()).catch(() => undefined);
  }

  private async load(): Promise<LoadedModel> {
    const settings = await loadSettings();
    const spec = await chooseModel(settings);
    this.setStatus({ id: spec.id, label: spec.label, testOnly: !!spec.testOnly, phase: 'loading', backend: null, progress: null, error: null });
    const bundled = (await bundledModels()).includes(spec.id);
    const hasGpu = typeof navigator !== 'undefined' && 'gpu' in navigator && !!navigator.gpu;
    const prefer = settings.backend === 'auto' ? (hasGpu ? 'auto' : 'wasm') : settings.backend;

    const fetchFiles = async (backend: Backend) => {
      if (bundled) return loadBundledModel(spec, browser.runtime.getURL('models'), backend);
      this.setStatus({ phase: 'downloading', progress: 0 });
      const files = await ensureModel(spec, {
        backend,
        baseUrl: settings.modelBaseUrl,
        store: new CacheStorageModelStore(),
        onProgress: (p) => this.setStatus({ phase: 'downloading', progress: p.total ? p.loaded / p.total : null }),
      });
      this.setStatus({ phase: 'loading', progress: null });
      return files;
    };

    const first = await fetchFiles(prefer === 'webgpu' ? 'webgpu' : 'wasm');
    const tokenizer = await ClipTokenizer.load(first.tokenizer);
    const engine = await ClipEngine.create({
      spec,
      ort,
      tokenizer,
      prefer,
      wasmThreads: 1,
      loadFiles: async (backend) => (backend === (prefer === 'webgpu' ? 'webgpu' : 'wasm') ? first : fetchFiles(backend)),
      onBackendChange: (backend) => this.setStatus({ backend }),
    });
    this.setStatus({ phase: 'ready', backend: engine.backend, progress: null, error: null });
    return { spec, engine, tokenizer };
  }
}

export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export const engineHost = new EngineHost();
