// Owns the one MobileCLIP engine of the background: which model, where its bytes come from,
// which backend answers, and the status every popup shows.
import browser from 'webextension-polyfill';
import * as ort from 'onnxruntime-web';
// A second ORT instance (WASM-only build) for the WASM sessions: one ORT instance runs one
// inference at a time, so with a single instance WASM answers would wait behind WebGPU's
// first-time shader compilation (tens of seconds). Costs a second WASM module in memory.
import * as ortWasm from 'onnxruntime-web/wasm';
import { createEngine, type Embedder } from './create-engine';
import { ClipTokenizer } from '../engine/tokenizer';
import { DEFAULT_MODEL_ID, getModel, withoutFp16Vision } from '../engine/registry';
import { downloadSize } from '../engine/download-size';
import { ensureModelStored, isModelStored, loadBundledFile, loadBundledModel, readStoredFile, readStoredModel, type ModelFiles } from '../engine/hub/model-files';
import { CacheStorageModelStore } from '../engine/hub/store-cache';
import type { Backend, ModelSpec } from '../engine/types';
import type { LoadingStep, ModelFailure, ModelStatus } from '../messages';
import { loadSettings, type Settings } from '../settings';
import { awaitsDownloadAnswer, DownloadCancelled, DownloadNeedsConsent, downloadFailure, ModelLoadError, startFailure } from './model-errors';
import { DownloadConsents } from './download-consents';
import type { UpcomingModel } from './embedding-pipeline';
import { mark } from './timeline';

declare const __TEST_BUILD__: boolean;
declare const __TARGET__: 'chrome' | 'firefox';

export interface LoadedModel {
  spec: ModelSpec;
  /** In Chrome, WASM runs in an offscreen document with threads (create-engine.ts). */
  engine: Embedder;
}

type Listener = (status: ModelStatus) => void;

// The service worker cannot start Workers, so ORT runs on this thread: one WASM thread.
// (The WASM binary is found without wasmPaths: vite rewrites ORT's `new URL(…, import.meta.url)` to the emitted asset.)
ort.env.wasm.numThreads = 1;
ortWasm.env.wasm.numThreads = 1;
// Firefox's event page is a page, and the engine runs in it: ORT's WASM on its thread would hold
// every message (a popup's query, a page's report) for a whole run. ORT's proxy runs the WASM
// in a Worker of its own instead. (Chrome's service worker cannot start Workers; its WASM runs in
// the offscreen document.)
if (__TARGET__ === 'firefox') ortWasm.env.wasm.proxy = true;

let bundledIds: Promise<string[]> | null = null;
/** Ids of the models shipped inside this build. */
export function bundledModels(): Promise<string[]> {
  bundledIds ??= fetch(browser.runtime.getURL('bundled-models.json'))
    .then((r) => (r.ok ? r.json() : []))
    .then((ids: unknown) => (Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : []))
    .catch(() => []);
  return bundledIds;
}

/** The spec for an id if this build may run it: test-only models only in test builds or when bundled. */
export async function usableModel(id: string): Promise<ModelSpec | undefined> {
  const spec = getModel(id);
  return spec && (!spec.testOnly || __TEST_BUILD__ || (await bundledModels()).includes(id)) ? spec : undefined;
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

// One store object for every download: ensureModelStored queues concurrent downloads of a model per
// store object, so two instances could append to the same partial entries at once.
export const modelStore = new CacheStorageModelStore();

/**
 * Received bytes are written to the model store's partial entry every this many: Chrome may stop
 * the service worker mid-download, and what it held in memory is fetched again.
 */
export const DOWNLOAD_FLUSH_BYTES = 1024 * 1024;

/** The backend whose files a load stores first (and a switch downloads): WebGPU only when asked for it. */
export function storageBackend(settings: Settings): Backend {
  return __TARGET__ === 'chrome' && settings.backend === 'webgpu' ? 'webgpu' : 'wasm';
}

class EngineHost {
  /** What get() hands out: the current attempt's engine, or the next one's if reset() replaced it. */
  private loading: Promise<LoadedModel> | null = null;
  /** The current attempt itself; reset() disposes its engine. */
  private attempt: Promise<LoadedModel> | null = null;
  /** Aborts the current attempt's download when reset() replaces it. */
  private abort: AbortController | null = null;
  /** What the current attempt loads, as soon as it knows (before any session opens). */
  private plan: Promise<UpcomingModel> | null = null;
  private listeners = new Set<Listener>();
  /**
   * Per model, the backends whose files the person agreed to download, until they are stored: a
   * background restarted mid-download resumes it (from the bytes already received) without
   * asking again.
   */
  private readonly consents = new DownloadConsents();
  /** The last load stopped to ask (phase 'confirm'): `loading` holds that answer until a yes or reset(). */
  private awaitingAnswer = false;
  /** The size the current attempt asks about (or asked about): shown again when a download is cancelled. */
  private askedBytes: number | null = null;
  status: ModelStatus = { id: '', label: '', testOnly: false, phase: 'idle', backend: null, progress: null, downloaded: null, error: null };

  /**
   * The person said yes to downloading `id`: by default to every file the confirmation counted
   * (both backends'); a switch that fetched one backend's files consents to those only, so the
   * load after it asks before fetching the other's.
   */
  consent(id: string, backends: readonly Backend[] = ['wasm', 'webgpu']): void {
    this.consents.give(id, backends);
    // The load that stopped to ask is over: the next get() starts one with this yes.
    if (this.awaitingAnswer) {
      this.awaitingAnswer = false;
      this.loading = null;
    }
  }

  /** A switch's download ended (stored, failed or cancelled), or the model was deleted: a later download asks again. */
  forgetConsent(id: string, backends?: readonly Backend[]): void {
    this.consents.drop(id, backends);
  }

  /** Stops the download of the model being loaded; the load falls back to asking (phase 'confirm'). */
  cancelDownload(): boolean {
    if (this.status.phase !== 'downloading' || !this.abort) return false;
    this.consents.drop(this.status.id);
    this.abort.abort(new DownloadCancelled());
    return true;
  }

  /** Status changes from outside a load (a switch's download, its failure). */
  update(patch: Partial<ModelStatus>): void {
    this.setStatus(patch);
  }

  onStatus(listener: Listener): void {
    this.listeners.add(listener);
  }

  private setStatus(patch: Partial<ModelStatus>): void {
    this.status = { ...this.status, ...patch };
    for (const listener of this.listeners) listener(this.status);
  }

  /**
   * Starts loading (as get()) and says which model the load is for and whether its files are on
   * this device, as soon as the load knows: before its sessions open. Rejects as the load does
   * when it fails before knowing.
   */
  upcoming(): Promise<UpcomingModel> {
    this.get().catch(() => undefined);
    return this.plan!;
  }

  /** Loads (once) and returns the engine. A failed load is retried on the next call. */
  get(): Promise<LoadedModel> {
    if (!this.loading) {
      this.awaitingAnswer = false;
      const abort = (this.abort = new AbortController());
      const replaced = () => this.abort !== abort;
      // An attempt that reset() replaced must not write its progress or error over the new one's.
      const current = (patch: Partial<ModelStatus>) => {
        if (!replaced()) this.setStatus(patch);
      };
      mark('model-requested');
      let announce!: (plan: UpcomingModel) => void;
      const plan = new Promise<UpcomingModel>((resolve) => (announce = resolve));
      const attempt = this.load(current, abort.signal, announce);
      // A load that fails before it knows its model leaves no plan behind: it rejects as the load does.
      this.plan = Promise.race([plan, attempt.then(() => plan)]);
      this.plan.catch(() => undefined);
      this.attempt = attempt;
      this.loading = attempt.then(
        // Whoever waited for a replaced attempt (the indexer, a search) gets the model the
        // settings now name instead of a disposed engine or a "replaced" error.
        (model) => (replaced() ? this.get() : model),
        (error: unknown) => {
          if (replaced()) return this.get();
          this.attempt = null;
          const idle = { progress: null, downloaded: null, step: null, stepSince: null, error: null, errorDetail: null };
          if (awaitsDownloadAnswer(error)) {
            // Not a failure: nothing is fetched until the person says yes (again). Until then
            // (consent() or reset()) every get() gets this answer without checking the store again.
            this.awaitingAnswer = true;
            current({ ...idle, phase: 'confirm', downloadBytes: error instanceof DownloadNeedsConsent ? error.bytes : this.askedBytes });
          } else {
            this.loading = null;
            const failure: ModelFailure =
              error instanceof ModelLoadError ? error.failure : startFailure(this.status, error);
            current({ ...idle, phase: 'error', error: failure.message, errorDetail: failure.detail });
          }
          throw error;
        },
      );
    }
    return this.loading;
  }

  /** Drops the engine so the next get() loads the model the settings now name. */
  async reset(): Promise<void> {
    const previous = this.attempt;
    this.loading = null;
    this.awaitingAnswer = false;
    this.attempt = null;
    this.abort?.abort(new Error('the model was replaced'));
    this.abort = null;
    this.setStatus({ phase: 'idle', backend: null, progress: null, downloaded: null, error: null, errorDetail: null, step: null, stepSince: null });
    // An attempt still loading stops at its next download step; its engine, if it got one, is
    // released before the caller goes on to load another (two models at once could exhaust memory).
    if (previous) await previous.then((m) => m.engine.dispose()).catch(() => undefined);
  }

  /**
   * Throws DownloadNeedsConsent, with the size of every file still to fetch, unless the person
   * agreed to each backend missing. True when nothing is missing.
   */
  private async askFirst(id: string, backends: Backend[], specFor: (backend: Backend) => Promise<ModelSpec>): Promise<boolean> {
    const stored = await Promise.all(backends.map(async (b) => isModelStored(await specFor(b), b, { store: modelStore })));
    const missing = backends.filter((_, i) => !stored[i]);
    const present = backends.filter((_, i) => stored[i]);
    // The WebGPU spec names the files either backend loads (it differs only in the GPU's vision file).
    const spec = await specFor(backends.includes('webgpu') ? 'webgpu' : 'wasm');
    this.askedBytes = downloadSize(spec, missing, present);
    if (!(await this.consents.covers(id, missing))) throw new DownloadNeedsConsent(spec, this.askedBytes);
    return missing.length === 0;
  }

  /** `announce` hears which model this is, and whether it loads without a download, before any session opens. */
  private async load(setStatus: (patch: Partial<ModelStatus>) => void, signal: AbortSignal, announce: (plan: UpcomingModel) => void): Promise<LoadedModel> {
    const settings = await loadSettings();
    const spec = await chooseModel(settings);
    // Files for the second backend (WebGPU warming up while WASM answers) may arrive after the
    // engine is ready: from then on the phase stays 'ready' instead of flipping back.
    let ready = false;
    const step = (name: LoadingStep) => {
      if (ready) return;
      mark('engine-step', { name });
      setStatus({ phase: 'loading', step: name, stepSince: Date.now(), progress: null, downloaded: null });
    };
    setStatus({ id: spec.id, label: spec.label, testOnly: !!spec.testOnly, backend: null, error: null, errorDetail: null });
    const bundled = (await bundledModels()).includes(spec.id);
    // The Firefox build bundles neither WebGPU's runtime nor its model files (vite.config.ts, scripts/bundle-model.ts).
    const hasGpu = __TARGET__ === 'chrome' && typeof navigator !== 'undefined' && 'gpu' in navigator && !!navigator.gpu;
    const prefer = __TARGET__ === 'firefox' ? 'wasm' : settings.backend === 'auto' ? (hasGpu ? 'auto' : 'wasm') : settings.backend;

    const model = spec;
    const specFor = async (backend: Backend) => (backend === 'webgpu' && !(await gpuHasFp16()) ? withoutFp16Vision(model) : model);
    // Nothing is fetched before the person agreed, the first run included; and the yes covers
    // every file the backend policy will fetch, the GPU's as well as WASM's.
    const onDevice = bundled || (await this.askFirst(spec.id, prefer !== 'wasm' && hasGpu ? ['wasm', 'webgpu'] : ['wasm'], specFor));
    announce({ spec, local: onDevice });
    step('checking');
    /** Backends whose files this load has found or put in the model store. */
    const stored = new Set<Backend>();
    /** Makes sure a backend's files are in the model store, showing download progress in the popup; returns the spec stored. */
    const store = async (backend: Backend): Promise<ModelSpec> => {
      const spec = await specFor(backend);
      // A model already in Cache Storage starts without the network: "Downloading" would be wrong.
      const present = await isModelStored(spec, backend, { store: modelStore });
      if (!ready && !present) setStatus({ phase: 'downloading', progress: 0, downloaded: { loaded: 0, total: spec.downloadBytes ?? null }, step: null });
      try {
        if (!present) {
          await ensureModelStored(spec, {
            backend,
            baseUrl: settings.modelBaseUrl,
            store: modelStore,
            signal,
            flushBytes: DOWNLOAD_FLUSH_BYTES,
            onProgress: (p) => {
              if (!ready) {
                setStatus({ phase: 'downloading', progress: p.total ? p.loaded / p.total : null, downloaded: { loaded: p.loaded, total: p.total ?? null } });
              }
            },
          });
          this.consents.drop(model.id, [backend]);
        }
      } catch (error) {
        if (signal.aborted && signal.reason instanceof DownloadCancelled) throw signal.reason;
        throw new ModelLoadError(downloadFailure(spec, settings.modelBaseUrl, error), { cause: error });
      }
      stored.add(backend);
      step('reading-files');
      return spec;
    };
    const readFiles = async (backend: Backend): Promise<ModelFiles> => {
      if (bundled) return loadBundledModel(await specFor(backend), browser.runtime.getURL('models'), backend);
      const spec = await store(backend);
      try {
        return await readStoredModel(spec, backend, { store: modelStore });
      } catch (error) {
        throw new ModelLoadError(downloadFailure(spec, settings.modelBaseUrl, error), { cause: error });
      }
    };
    // The sessions open once their files are read: the steps this context can see of a start-up.
    const fetchFiles = async (backend: Backend): Promise<ModelFiles> => {
      step('reading-files');
      const files = await readFiles(backend);
      step('starting-sessions');
      return files;
    };
    /** For WASM in the offscreen document, which reads the bytes itself (and then opens its sessions). */
    const ensureStored = async (backend: Backend): Promise<void> => {
      if (!bundled && !stored.has(backend)) await store(backend);
      step('starting-sessions');
    };

    // The graphs are read by whichever context runs them (in Chrome the offscreen document reads
    // the WASM files itself), so this worker never holds model bytes it does not run; the
    // tokenizer only once a text runs here (in Chrome, only when the document cannot).
    if (!bundled) await store(prefer === 'webgpu' ? 'webgpu' : 'wasm');
    let tokenizer: Promise<ClipTokenizer> | null = null;
    const loadTokenizer = () =>
      (tokenizer ??= (bundled ? loadBundledFile(spec, browser.runtime.getURL('models'), spec.files.tokenizer) : readTokenizer(spec, settings.modelBaseUrl)).then((bytes) => ClipTokenizer.load(bytes)));
    const engine = await createEngine({
      spec,
      ort,
      wasmOrt: ortWasm,
      tokenizer: loadTokenizer,
      prefer,
      loadFiles: fetchFiles,
      ensureStored,
      source: bundled ? { kind: 'bundled', baseUrl: browser.runtime.getURL('models') } : { kind: 'store', baseUrl: settings.modelBaseUrl },
      // Asked for the GPU and not on it: the reason (unavailable, failed to start, failed later) for the popup.
      onBackendChange: (backend, reason, threads) => setStatus({ backend, threads, webgpuFailure: settings.backend === 'webgpu' && backend !== 'webgpu' ? reason : null }),
      onStep: (_backend, name) => step(name),
    });
    ready = true;
    mark('engine-ready');
    setStatus({ phase: 'ready', backend: engine.backend, threads: engine.threads, progress: null, downloaded: null, error: null, errorDetail: null, step: null, stepSince: null });
    return { spec, engine };
  }
}

/** The stored tokenizer of a model the store holds (store() made sure of it). */
async function readTokenizer(spec: ModelSpec, baseUrl: string): Promise<Uint8Array> {
  try {
    return await readStoredFile(spec, spec.files.tokenizer, { store: modelStore });
  } catch (error) {
    throw new ModelLoadError(downloadFailure(spec, baseUrl, error), { cause: error });
  }
}

/** Whether the GPU that WebGPU sessions will use has fp16 shaders ('shader-f16'). */
async function gpuHasFp16(): Promise<boolean> {
  const gpu = (navigator as { gpu?: { requestAdapter(): Promise<{ features: ReadonlySet<string> } | null> } }).gpu;
  const adapter = await gpu?.requestAdapter().catch(() => null);
  return !!adapter?.features.has('shader-f16');
}

export const engineHost = new EngineHost();
