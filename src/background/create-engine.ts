// Which engine the background uses. One ClipEngine either way; in Chrome its WASM runs with
// threads in the offscreen document (src/offscreen/client.ts) while WebGPU stays here. Firefox
// has no offscreen documents (and no SharedArrayBuffer in its event page): there, and wherever
// the offscreen API is missing, WASM runs here on one thread, and in Firefox a second vision
// session in a Worker runs half of each batch of images (src/offscreen/vision-lanes.ts).

import { ClipEngine, type EngineInit, type OrtModule } from '../engine/session';
import type { Backend, ModelSpec } from '../engine/types';
import { offscreenWasm } from '../offscreen/client';
import { offscreenAvailable } from '../offscreen/document';
import type { ModelSource } from '../offscreen/protocol';
import { LANE_BATCH, VisionLanes } from '../offscreen/vision-lanes';

/** What the background needs of an engine. */
export interface Embedder {
  /** The backend answering requests now. */
  readonly backend: Backend;
  /** WASM threads of the engine answering now; null while WebGPU answers. */
  readonly threads: number | null;
  /** Unit-length image embeddings for `count` CHW float32 images (as ClipEngine.embedImages). */
  embedImages(pixelValues: Float32Array, count: number): Promise<Float32Array[]>;
  /** Unit-length text embeddings, one per text. */
  embedTexts(texts: string[]): Promise<Float32Array[]>;
  /** Vision sessions that images run on now: 2 once Firefox's second one is open, else 1. */
  readonly visionSessions?: number;
  dispose(): Promise<void>;
}

export interface EngineOptions {
  spec: ModelSpec;
  /** The worker's ORT module (WebGPU here, and the single-threaded WASM fallback). */
  ort: OrtModule;
  /** A separate ORT module for WASM in the worker, so it answers while WebGPU compiles (see ClipEngine). */
  wasmOrt?: OrtModule;
  /** For the sessions opened in this worker (see EngineInit.tokenizer). */
  tokenizer: EngineInit['tokenizer'];
  prefer: 'auto' | 'webgpu' | 'wasm';
  /** Model files for a backend that runs here, downloaded into the model store first if need be. */
  loadFiles: EngineInit['loadFiles'];
  /** Makes sure a backend's files are stored (downloading with progress) without reading them: the offscreen document reads its own. */
  ensureStored(backend: Backend): Promise<void>;
  /** Where the offscreen document reads the WASM files from, once ensureStored('wasm') has made sure of them. */
  source: ModelSource;
  /** The backend or thread count answering requests changed (including the first choice). */
  onBackendChange?(backend: Backend, reason: string, threads: number | null): void;
  /** Start-up steps of sessions opened, here or in the offscreen document (which reports its own). */
  onStep?: EngineInit['onStep'];
}

export async function createEngine(o: EngineOptions): Promise<Embedder> {
  const { spec, ort, wasmOrt, tokenizer, prefer, loadFiles, ensureStored, source, onBackendChange, onStep } = o;
  // The service worker cannot start Workers: WASM here runs on one thread. Text first (ClipEngine's textFirst).
  const here = { spec, ort, wasmOrt, tokenizer, loadFiles, wasmThreads: 1, textFirst: true, onStep };
  if (offscreenAvailable()) {
    const wasmBackend = offscreenWasm({ spec, source, ensureStored, inWorker: () => ClipEngine.create({ ...here, prefer: 'wasm' }), onStep: (step) => onStep?.('wasm', step) });
    return ClipEngine.create({ ...here, prefer, wasmBackend, onBackendChange });
  }
  if (!laneWanted()) return ClipEngine.create({ ...here, prefer, onBackendChange });
  // Firefox: a second vision session in a Worker, so that images run on two cores (vision-lanes.ts).
  // Its files are stored by now (the caller stores them before it creates the engine).
  const lanes = new VisionLanes({
    threads: 1,
    spec,
    source,
    startWorker: () => new Worker(new URL('../offscreen/vision-lane-worker.ts', import.meta.url), { type: 'module', name: 'lens-vision-lane' }),
  });
  try {
    const engine = await ClipEngine.create({
      ...here,
      prefer,
      onBackendChange,
      maxBatch: LANE_BATCH,
      onVisionOpening: (opening) => void opening.then(() => lanes.start(), () => undefined),
    });
    return withLane(engine, lanes);
  } catch (error) {
    lanes.dispose();
    throw error;
  }
}

/** A context that can start Workers, has a core for each session, and no threads for ORT (Firefox's event page). */
function laneWanted(): boolean {
  return typeof Worker === 'function' && !globalThis.crossOriginIsolated && (globalThis.navigator?.hardwareConcurrency ?? 1) >= 2;
}

/** The engine with its images split between its own vision session and the lane's. */
function withLane(engine: ClipEngine, lanes: VisionLanes): Embedder {
  return {
    get backend() {
      return engine.backend;
    },
    get threads() {
      return engine.threads;
    },
    get visionSessions() {
      return lanes.open ? 2 : 1;
    },
    embedImages: (pixels, count) => lanes.embedImages(engine, pixels, count),
    embedTexts: (texts) => engine.embedTexts(texts),
    dispose: async () => {
      lanes.dispose();
      await engine.dispose();
    },
  };
}
