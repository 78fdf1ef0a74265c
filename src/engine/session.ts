// The one engine API over ONNX Runtime: unit-length image and text embeddings from the two
// MobileCLIP towers, on WebGPU, WASM (onnxruntime-web) or the native CPU runtime
// (onnxruntime-node).
//
// ClipEngine is BackendPolicy (which backend answers, switching, fallback, dispose) over the
// towers of this context (TowerBackends). Chrome's service worker passes its own WASM provider
// (`wasmBackend`: WASM with threads in the offscreen document), so the same policy serves the
// split as well. Two facts about onnxruntime-web shape the details:
// - One ORT module runs one inference at a time across all its sessions (tower-session.ts):
//   pass a separate module as `wasmOrt` (e.g. onnxruntime-web/wasm) to keep WASM answering
//   while WebGPU compiles its shaders.
// - The first WebGPU run compiles shaders and can take tens of seconds: 'auto' answers from
//   WASM at once, warms WebGPU up in the background and switches when it is ready; a lost
//   device or a failing WebGPU run falls back to WASM for good.

import type { Backend, ModelSpec } from './types.ts';
import { BackendPolicy, type BackendProvider } from './backend-policy.ts';
import { TowerBackends, type EmbeddingBackend, type Tokenizer, type TowerFiles, type TowerOptions } from './towers.ts';
import type { OrtModule } from './tower-session.ts';

export { TowerSession, type OpenMode, type OrtModule } from './tower-session.ts';
export type { EmbeddingBackend } from './towers.ts';

export interface EngineInit {
  spec: ModelSpec;
  ort: OrtModule;
  /**
   * ORT module for the WASM sessions; defaults to `ort`. A separate instance lets WASM keep
   * answering while a WebGPU run (or its first-time shader compilation) is in flight.
   */
  wasmOrt?: OrtModule;
  /** The caller downloads or reads the bytes. 'cpu' asks for the 'wasm' files. */
  loadFiles(backend: Backend): Promise<TowerFiles>;
  /**
   * Needed first by a text run here (the warm-up's included): a loader is called then, so a
   * context whose texts run elsewhere never parses one, and one still being parsed need not be
   * waited for before the sessions open. Called once per text run: memoise it.
   */
  tokenizer: Tokenizer | (() => Promise<Tokenizer>);
  /** 'auto': onnxruntime-node -> cpu; a browser with navigator.gpu -> WASM now, WebGPU when warm; else WASM. */
  prefer?: 'auto' | 'webgpu' | 'wasm' | 'cpu';
  /** ort.env.wasm.numThreads; only takes effect before the WASM module is first initialised. */
  wasmThreads?: number;
  /** Largest batch per inference run (default 8); bigger requests are split. */
  maxBatch?: number;
  /**
   * WASM opens only the text tower before the engine is ready; the vision tower opens with the
   * first images. A query needs only the text tower, and so does a page whose images are all
   * cached: they are answered without waiting for the larger graph.
   */
  textFirst?: boolean;
  /**
   * The bytes loadFiles returns are the engine's alone (each graph in buffers of its own): each
   * graph's are freed as soon as its session is open. ORT has copied the graph into its own heap
   * by then, so the bytes only cost memory, the model's size again, until a garbage collection
   * that a worker allocating little else may put off for long. Off by default: a caller may
   * reuse the bytes (tests open several engines from one read).
   */
  releaseFiles?: boolean;
  /**
   * Opens WASM somewhere else instead of on `wasmOrt` here (Chrome: the offscreen document).
   * Its rows must be unit-length too.
   */
  wasmBackend?: BackendProvider<EmbeddingBackend>;
  /** Called whenever the backend answering requests changes (including the first choice), or its thread count does. */
  onBackendChange?(backend: Backend, reason: string, threads: number | null): void;
  /** Start-up steps of the backends opened in this context (sessions, warm-up). */
  onStep?: TowerOptions['onStep'];
  /**
   * With textFirst: called as the vision session starts opening on first use, with that opening
   * (settled once it is open or has failed). The opening holds the graph's bytes, ORT's heap
   * growing by the weights and, the first time, V8's optimising compiles of ORT's code all at
   * once: a host may hold back other work that would sit in memory beside them.
   */
  onVisionOpening?: TowerOptions['onVisionOpening'];
}

export interface EngineInfo {
  backend: Backend;
  runtime: 'onnxruntime-web' | 'onnxruntime-node';
  /** Why WebGPU is not (or no longer) used, if it was considered. */
  webgpuFailure?: string;
  /** Whether the WebGPU device ORT uses has 'shader-f16' (fp16 kernels for fp16 models). */
  shaderF16?: boolean;
  /** Session creation + warm-up time per backend opened in this context (after its files arrived), milliseconds. */
  openMs: Partial<Record<Backend, number>>;
}

const DEFAULT_MAX_BATCH = 8;

export class ClipEngine {
  private constructor(
    private readonly spec: ModelSpec,
    private readonly runtime: EngineInfo['runtime'],
    private readonly towers: TowerBackends,
    private readonly policy: BackendPolicy<EmbeddingBackend>,
  ) {}

  /** Opens sessions and warms them up; resolves as soon as one backend can answer. */
  static async create(init: EngineInit): Promise<ClipEngine> {
    const prefer = init.prefer ?? 'auto';
    const cpu = 'node' in init.ort.env.versions;
    if (cpu && prefer !== 'auto' && prefer !== 'cpu') throw new Error(`onnxruntime-node only runs the 'cpu' backend (prefer: '${prefer}')`);
    if (!cpu && prefer === 'cpu') throw new Error("prefer 'cpu' needs onnxruntime-node; this ORT module is onnxruntime-web");

    const { spec, ort, wasmOrt, loadFiles, tokenizer, wasmThreads, wasmBackend, onBackendChange, textFirst, releaseFiles, onStep, onVisionOpening } = init;
    const maxBatch = Math.max(1, Math.floor(init.maxBatch ?? DEFAULT_MAX_BATCH));
    const towers = new TowerBackends({ spec, ort, wasmOrt, loadFiles, tokenizer, wasmThreads, maxBatch, cpu, wasmElsewhere: !!wasmBackend, textFirst, releaseFiles, onStep, onVisionOpening });
    const policy = new BackendPolicy<EmbeddingBackend>({
      prefer: prefer === 'cpu' ? 'auto' : prefer,
      wasm: wasmBackend ?? towers.wasm,
      webgpu: towers.webgpu,
      webgpuUnavailable: towers.webgpuUnavailable(),
      onChange: (answering, reason) => onBackendChange?.(answering.backend, reason, answering.threads),
    });
    await policy.start();
    return new ClipEngine(spec, cpu ? 'onnxruntime-node' : 'onnxruntime-web', towers, policy);
  }

  /** The backend answering requests now. */
  get backend(): Backend {
    return this.policy.answering.backend;
  }

  /** WASM threads of the backend answering now; null for WebGPU (or when ORT decides). */
  get threads(): number | null {
    return this.policy.answering.threads;
  }

  get info(): EngineInfo {
    return {
      backend: this.backend,
      runtime: this.runtime,
      webgpuFailure: this.policy.webgpuFailure,
      shaderF16: this.towers.shaderF16,
      openMs: { ...this.towers.openMs },
    };
  }

  /** Resolves once background work (the WebGPU warm-up in 'auto') has finished, either way. */
  settled(): Promise<Backend> {
    return this.policy.settled();
  }

  /**
   * Unit-length image_embeds rows for `count` images packed as CHW float32
   * [count, 3, size, size], as preprocess() writes them.
   */
  async embedImages(pixelValues: Float32Array, count: number): Promise<Float32Array[]> {
    const size = this.spec.imageSize;
    const per = 3 * size * size;
    if (!Number.isInteger(count) || count < 0 || pixelValues.length !== count * per)
      throw new RangeError(`Expected ${count} x 3 x ${size} x ${size} = ${count * per} floats, got ${pixelValues.length}`);
    return this.policy.run((backend) => backend.embedImages(pixelValues, count));
  }

  /** Unit-length text_embeds rows, one per text. */
  embedTexts(texts: string[]): Promise<Float32Array[]> {
    return this.policy.run((backend) => backend.embedTexts(texts));
  }

  /** Releases every session, including those still opening (it waits for them). */
  dispose(): Promise<void> {
    return this.policy.dispose();
  }
}
