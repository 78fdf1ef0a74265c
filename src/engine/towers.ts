// The two MobileCLIP towers of this context, opened on a backend: the providers BackendPolicy
// chooses between when WASM and WebGPU run here (ClipEngine), and the WebGPU provider of
// Chrome's split, whose WASM runs in the offscreen document.

import type { Backend, ModelBytes, ModelSpec } from './types.ts';
import type { BackendProvider, OpenBackend, OpenContext } from './backend-policy.ts';
import { TowerSession, type OpenMode, type OrtModule } from './tower-session.ts';
import { l2normalize } from './similarity.ts';
import { releaseBuffer } from '../bytes.ts';

/** An opened backend that embeds: what ClipEngine asks of WASM and WebGPU, here or elsewhere. */
export interface EmbeddingBackend extends OpenBackend {
  /** Unit-length image embeddings for `count` CHW float32 images [count, 3, size, size]. */
  embedImages(pixelValues: Float32Array, count: number): Promise<Float32Array[]>;
  /** Unit-length text embeddings, one per text. */
  embedTexts(texts: string[]): Promise<Float32Array[]>;
}

export interface Tokenizer {
  tokenizeBatch(texts: string[], contextLength?: number): BigInt64Array;
}

const tokenizerOf = ({ tokenizer }: TowerOptions): Tokenizer | Promise<Tokenizer> => (typeof tokenizer === 'function' ? tokenizer() : tokenizer);

/**
 * Both towers' graphs. The vision graph may be given as its reader, called where its session
 * opens (with textFirst, at the first images): a text-first engine opens without it.
 */
export interface TowerFiles {
  text: ModelBytes;
  vision: ModelBytes | (() => Promise<ModelBytes>);
}

const visionGraph = (vision: TowerFiles['vision']): ModelBytes | Promise<ModelBytes> => (typeof vision === 'function' ? vision() : vision);

export interface TowerOptions {
  spec: ModelSpec;
  /** The ORT module for WebGPU sessions (and, without wasmOrt, for WASM). */
  ort: OrtModule;
  /** ORT module for the WASM sessions; defaults to `ort`. */
  wasmOrt?: OrtModule;
  /** The caller downloads or reads the bytes. 'cpu' asks for the 'wasm' files. */
  loadFiles(backend: Backend): Promise<TowerFiles>;
  tokenizer: Tokenizer | (() => Promise<Tokenizer>);
  /** ort.env.wasm.numThreads; only takes effect before the WASM module is first initialised. */
  wasmThreads?: number;
  /** Largest batch per inference run; bigger requests are split. */
  maxBatch: number;
  /** WASM sessions open on onnxruntime-node's CPU provider. */
  cpu: boolean;
  /** WASM runs elsewhere (the policy's WASM provider is not `wasm` here): WebGPU never waits for it. */
  wasmElsewhere?: boolean;
  /** WASM opens the vision tower on first use (see EngineInit.textFirst). */
  textFirst?: boolean;
  /** Each graph's bytes are freed once its session is open (see EngineInit.releaseFiles). */
  releaseFiles?: boolean;
  /** Start-up progress of a backend opened here (for a sign of life while sessions are created). */
  onStep?(backend: Backend, step: StartupStep): void;
  /** See EngineInit.onVisionOpening. */
  onVisionOpening?(opening: Promise<unknown>): void;
}

/**
 * What opening a backend is busy with: reading the graphs (reported by a host that reads its own,
 * as the offscreen document does), each session, then one warm-up run of each tower.
 */
export type StartupStep = 'reading-files' | 'vision-session' | 'text-session' | 'warming-up';

const WARMUP_TEXT = 'a photo of a cat';
const VISION_NAMES = { input: 'pixel_values', output: 'image_embeds' };
const TEXT_NAMES = { input: 'input_ids', output: 'text_embeds' };

// Minimal WebGPU shapes (the project does not depend on @webgpu/types).
interface GpuDeviceLike {
  features: { has(name: string): boolean };
  lost: Promise<{ reason?: string; message?: string }>;
}
interface GpuLike {
  requestAdapter(options?: object): Promise<{ features: { has(name: string): boolean } } | null>;
}

function navigatorGpu(): GpuLike | undefined {
  return (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu;
}

/**
 * The vision and text sessions of one backend. The vision session is either open from the
 * start or opened with the first images (TowerOptions.textFirst); an opening that failed is
 * tried again with the next images.
 */
class TowerPair implements EmbeddingBackend {
  private vision: Promise<TowerSession> | null;
  private disposed = false;

  constructor(
    readonly backend: Backend,
    readonly threads: number | null,
    vision: TowerSession | (() => Promise<TowerSession>),
    private readonly text: TowerSession,
    private readonly o: TowerOptions,
  ) {
    this.openVision = typeof vision === 'function' ? vision : () => Promise.resolve(vision);
    this.vision = typeof vision === 'function' ? null : Promise.resolve(vision);
  }

  private readonly openVision: () => Promise<TowerSession>;

  private visionSession(): Promise<TowerSession> {
    if (this.disposed) return Promise.reject(new Error('the engine has been disposed'));
    const opening = (this.vision ??= this.openVision());
    opening.catch(() => {
      if (this.vision === opening) this.vision = null;
    });
    return opening;
  }

  async embedImages(pixelValues: Float32Array, count: number): Promise<Float32Array[]> {
    const vision = await this.visionSession();
    const size = this.o.spec.imageSize;
    return this.unit(await vision.runInBatches(pixelValues, count, [3, size, size], this.o.maxBatch));
  }

  async embedTexts(texts: string[]): Promise<Float32Array[]> {
    const ctx = this.o.spec.contextLength;
    const rows: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += this.o.maxBatch) {
      const chunk = texts.slice(start, start + this.o.maxBatch);
      const ids = (await tokenizerOf(this.o)).tokenizeBatch(chunk, ctx);
      if (ids.length !== chunk.length * ctx)
        throw new Error(`Tokenizer returned ${ids.length} ids for ${chunk.length} texts of context ${ctx}`);
      rows.push(...this.unit(await this.text.run(ids, chunk.length, [ctx])));
    }
    return rows;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await Promise.allSettled([this.vision?.then((v) => v.release()), this.text.release()]);
  }

  /** Checks the width the spec declares; every consumer compares by cosine, so rows leave unit-length. */
  private unit(rows: Float32Array[]): Float32Array[] {
    const want = this.o.spec.embedDim;
    if (rows.length && rows[0].length !== want)
      throw new Error(`Model outputs ${rows[0].length}-d embeddings but ${this.o.spec.id} declares ${want}`);
    return rows.map(l2normalize);
  }
}

/** Opens the towers on this context's ORT modules, for BackendPolicy. */
export class TowerBackends {
  /** Whether the WebGPU device ORT uses has 'shader-f16' (fp16 kernels for fp16 models). */
  shaderF16?: boolean;
  /** Session creation + warm-up time per opened backend (after its files arrived), milliseconds. */
  readonly openMs: Partial<Record<Backend, number>> = {};
  private readonly wasmOrt: OrtModule;

  readonly wasm: BackendProvider<EmbeddingBackend> = { open: (context) => this.openWasm(context) };
  readonly webgpu: BackendProvider<EmbeddingBackend> = { open: (context) => this.openWebGpu(context) };

  constructor(private readonly o: TowerOptions) {
    this.wasmOrt = o.wasmOrt ?? o.ort;
  }

  /** Why WebGPU cannot be tried here at all; undefined if it can. */
  webgpuUnavailable(): string | undefined {
    if (this.o.cpu) return 'onnxruntime-node';
    return navigatorGpu() ? undefined : 'WebGPU not available (no navigator.gpu)';
  }

  private openWasm(context: OpenContext): Promise<TowerPair> {
    if (this.o.wasmThreads) this.wasmOrt.env.wasm.numThreads = this.o.wasmThreads;
    return this.open(this.o.cpu ? 'cpu' : 'wasm', context);
  }

  private async openWebGpu(context: OpenContext): Promise<TowerPair> {
    await this.prepareWebGpu();
    // Sharing one ORT module, the WebGPU warm-up would hold the module's lock for its whole
    // shader compilation, so its sessions wait until WASM is warm (files still load at once).
    const shared = !this.o.wasmElsewhere && this.wasmOrt.env === this.o.ort.env;
    const towers = await this.open('webgpu', context, shared ? context.wasm?.catch(() => undefined) : undefined);
    await this.watchDevice(context);
    return towers;
  }

  /**
   * Picks the adapter before ORT does. The JSEP build (the default `onnxruntime-web` export)
   * creates its device from env.webgpu.adapter and adds 'shader-f16' to requiredFeatures
   * when the adapter lists it (lib/wasm/jsep/backend-webgpu.ts); the native WebGPU EP build
   * (`onnxruntime-web/webgpu`) requests its own adapter and does the same in C++. So ORT
   * requests the feature either way; watchDevice() records whether the device got it.
   * Checking for an adapter here also turns "no usable GPU" into a clear reason.
   */
  private async prepareWebGpu(): Promise<void> {
    const gpu = navigatorGpu();
    if (!gpu) throw new Error('no navigator.gpu');
    const env = this.o.ort.env.webgpu;
    if (env.adapter) return; // chosen earlier (by us or the host); ORT may have made it read-only
    // No powerPreference: embeddings are light enough for an integrated GPU, and waking a
    // discrete GPU costs battery.
    const adapter = await gpu.requestAdapter();
    if (!adapter) throw new Error('no WebGPU adapter');
    env.adapter = adapter as typeof env.adapter;
  }

  /** Reports a lost GPU device (driver reset, GPU process crash): the policy falls back to WASM. */
  private async watchDevice(context: OpenContext): Promise<void> {
    let device: GpuDeviceLike | undefined;
    try {
      device = (await this.o.ort.env.webgpu.device) as GpuDeviceLike | undefined;
    } catch {
      device = undefined;
    }
    if (!device?.lost) return;
    this.shaderF16 = device.features.has('shader-f16');
    void device.lost.then((info) => context.lost(`GPU device lost (${info.reason ?? 'unknown'}): ${info.message ?? ''}`.trim()));
  }

  /**
   * Creates both sessions for a backend and warms each up with one run; with `textFirst` (not
   * on WebGPU) only the text session, the vision one on first use (and without a warm-up). Session creation waits for
   * `gate` (the files load before that).
   */
  private async open(mode: OpenMode, context: OpenContext, gate?: Promise<unknown>): Promise<TowerPair> {
    const backend: Backend = mode === 'cpu' ? 'wasm' : mode;
    const ort = mode === 'webgpu' ? this.o.ort : this.wasmOrt;
    const files = await this.o.loadFiles(backend);
    await gate;
    const stillWanted = () => {
      if (context.disposed) throw new Error('the engine was disposed while it opened');
    };
    stillWanted();
    const t0 = performance.now();
    const textFirst = !!this.o.textFirst && mode !== 'webgpu';
    if (!textFirst) this.o.onStep?.(backend, 'vision-session');
    const vision = textFirst ? this.visionOnFirstUse(ort, mode, files.vision, stillWanted) : await this.openSession(ort, mode, await visionGraph(files.vision), VISION_NAMES);
    let text: TowerSession;
    try {
      this.o.onStep?.(backend, 'text-session');
      text = await this.openSession(ort, mode, files.text, TEXT_NAMES);
    } catch (err) {
      if (vision instanceof TowerSession) await vision.release().catch(() => undefined);
      throw err;
    }
    const threads = mode === 'wasm' ? ort.env.wasm?.numThreads || null : null;
    const towers = new TowerPair(backend, threads, vision, text, this.o);
    try {
      stillWanted();
      this.o.onStep?.(backend, 'warming-up');
      const size = this.o.spec.imageSize;
      if (!textFirst) await towers.embedImages(new Float32Array(3 * size * size), 1);
      await towers.embedTexts([WARMUP_TEXT]);
      stillWanted();
    } catch (err) {
      await towers.dispose();
      throw err;
    }
    this.openMs[backend] = performance.now() - t0;
    return towers;
  }

  /** A session from a graph's bytes; with releaseFiles, the bytes are freed once it is open (a failed open keeps them for the next try). */
  private async openSession(ort: OrtModule, mode: OpenMode, bytes: ModelBytes, names: { input: string; output: string }): Promise<TowerSession> {
    const session = await TowerSession.open(ort, mode, bytes, names);
    if (this.o.releaseFiles) for (const part of [bytes.model, ...(bytes.externalData ?? []).map((d) => d.data)]) releaseBuffer(part.buffer);
    return session;
  }

  /**
   * Opens the vision session when called, reading its graph then if it was given as a reader;
   * only the graph's bytes (or reader) are kept until then. No warm-up run: the images that asked for it are its first run (a dummy run
   * first would delay them by about its own length, and the first real run would still be the
   * first of its shape).
   */
  private visionOnFirstUse(ort: OrtModule, mode: OpenMode, bytes: TowerFiles['vision'], stillWanted: () => void): () => Promise<TowerSession> {
    let kept: TowerFiles['vision'] | null = bytes;
    return async () => {
      // Read bytes are kept for a retry of a failed opening; a failed read is read again.
      const opening = (async () => {
        const graph = (kept = await visionGraph(kept!));
        stillWanted();
        return this.openSession(ort, mode, graph, VISION_NAMES);
      })();
      this.o.onVisionOpening?.(opening);
      const vision = await opening;
      kept = null;
      return vision;
    };
  }
}
