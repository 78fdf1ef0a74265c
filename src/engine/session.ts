// The one engine API over ONNX Runtime: image and text embeddings from the two MobileCLIP
// towers, on WebGPU, WASM (onnxruntime-web) or the native CPU runtime (onnxruntime-node).
//
// The caller passes the ORT module in rather than this file importing it, because which
// build to load depends on the host: a Chrome service worker must import a *.bundle.min.mjs
// build statically (no dynamic import there), the offscreen document may use threads, Node
// tests and the CLI use onnxruntime-node. Only types are imported here.
//
// Two facts about onnxruntime-web shape the design:
// - One ORT module (one WebAssembly instance) runs one inference at a time across ALL its
//   sessions: the WebGPU build throws "Session already started" when a second run begins
//   while another is awaiting the GPU. So every session call goes through a lock per ORT
//   module, not per session. With a single module, WASM answers therefore wait while a
//   WebGPU run is in flight; pass a separate module as `wasmOrt` (e.g. onnxruntime-web/wasm)
//   to keep WASM answering while WebGPU compiles its shaders.
// - The first WebGPU run compiles shaders and can take tens of seconds. 'auto' therefore
//   answers from WASM at once, warms WebGPU up in the background and switches when it is
//   ready; a lost device or a failing WebGPU run falls back to WASM for good.

import type { InferenceSession, Tensor } from 'onnxruntime-web';
import type { Backend, ModelBytes, ModelSpec } from './types.ts';
import { inlineExternalData } from './onnx-external.ts';
import { decodeEmbedding } from './similarity.ts';
import { Mutex } from '../concurrency.ts';
import { describe } from '../errors.ts';

/**
 * The parts of an ORT namespace the engine uses. Both `import * as ort from 'onnxruntime-web'`
 * (any of its builds) and onnxruntime-node satisfy it: they share onnxruntime-common's API.
 */
export type OrtModule = Pick<typeof import('onnxruntime-web'), 'InferenceSession' | 'Tensor' | 'env'>;

/**
 * How sessions are opened. 'cpu' is onnxruntime-node's CPU execution provider; it reports as
 * backend 'wasm' because it is the same CPU provider (onnxruntime-web registers 'cpu' as an
 * alias of 'wasm') running the same model files, just compiled natively.
 */
export type OpenMode = Backend | 'cpu';

export interface EngineInit {
  spec: ModelSpec;
  ort: OrtModule;
  /**
   * ORT module for the WASM sessions; defaults to `ort`. A separate instance lets WASM keep
   * answering while a WebGPU run (or its first-time shader compilation) is in flight.
   */
  wasmOrt?: OrtModule;
  /** The caller downloads or reads the bytes. 'cpu' asks for the 'wasm' files. */
  loadFiles(backend: Backend): Promise<{ vision: ModelBytes; text: ModelBytes }>;
  tokenizer: { tokenizeBatch(texts: string[], contextLength?: number): BigInt64Array };
  /** 'auto': onnxruntime-node -> cpu; a browser with navigator.gpu -> WASM now, WebGPU when warm; else WASM. */
  prefer?: 'auto' | 'webgpu' | 'wasm' | 'cpu';
  /** ort.env.wasm.numThreads; only takes effect before the WASM module is first initialised. */
  wasmThreads?: number;
  /** Largest batch per inference run (default 8); bigger requests are split. */
  maxBatch?: number;
  /** Called whenever the backend answering requests changes (including the first choice). */
  onBackendChange?(backend: Backend, reason: string): void;
}

export interface EngineInfo {
  backend: Backend;
  runtime: 'onnxruntime-web' | 'onnxruntime-node';
  /** Why WebGPU is not (or no longer) used, if it was considered. */
  webgpuFailure?: string;
  /** Whether the WebGPU device ORT uses has 'shader-f16' (fp16 kernels for fp16 models). */
  shaderF16?: boolean;
  /** Session creation + warm-up time per opened backend (after its files arrived), milliseconds. */
  openMs: Partial<Record<Backend, number>>;
}

const DEFAULT_MAX_BATCH = 8;
const WARMUP_TEXT = 'a photo of a cat';

// ---------------------------------------------------------------------------------------
// Serialising calls into one ORT module

// Keyed by the module's env object: each ORT build/instance has its own, and it is the one
// object every module exposes (onnxruntime-node included).
const moduleLocks = new WeakMap<object, Mutex>();
function lockFor(ort: OrtModule): Mutex {
  let lock = moduleLocks.get(ort.env);
  if (!lock) moduleLocks.set(ort.env, (lock = new Mutex()));
  return lock;
}

// ---------------------------------------------------------------------------------------
// Sessions

type TowerInput = Float32Array | BigInt64Array;

/**
 * One tower (vision or text) as one ORT session, with the engine's input typing, output
 * decoding and per-module lock. ClipEngine uses a pair per backend; the CLI uses one alone.
 */
export class TowerSession {
  private constructor(
    private readonly ort: OrtModule,
    private readonly lock: Mutex,
    private readonly session: InferenceSession,
    private readonly inputName: string,
    private readonly outputName: string,
    private readonly int32Ids: boolean,
  ) {}

  static async open(
    ort: OrtModule,
    mode: OpenMode,
    bytes: ModelBytes,
    names: { input: string; output: string },
  ): Promise<TowerSession> {
    const lock = lockFor(ort);
    let model = bytes.model;
    const options: InferenceSession.SessionOptions = {};
    if (mode === 'cpu') {
      // onnxruntime-node resolves external data only relative to a model path; from bytes
      // it needs the weights inline.
      model = inlineExternalData(bytes);
      options.executionProviders = ['cpu'];
    } else {
      // ORT requests 'shader-f16' on the device itself when the adapter has it (both the
      // JSEP build's backend-webgpu.ts and the native WebGPU EP do); see prepareWebGpu().
      options.executionProviders = [mode === 'webgpu' ? { name: 'webgpu' } : 'wasm'];
      if (bytes.externalData?.length) options.externalData = bytes.externalData;
    }
    const session = await lock.run(() => ort.InferenceSession.create(model, options));
    // Prefer the contract names, but accept exports that call them something else.
    const input = session.inputNames.includes(names.input) ? names.input : session.inputNames[0];
    const output = session.outputNames.includes(names.output) ? names.output : session.outputNames[0];
    const meta = (session.inputMetadata ?? []).find((m) => m.name === input);
    const int32Ids = !!meta && meta.isTensor && meta.type === 'int32';
    return new TowerSession(ort, lock, session, input, output, int32Ids);
  }

  /** One inference run over `count` inputs of shape rowShape; returns one row per input. */
  run(data: TowerInput, count: number, rowShape: readonly number[]): Promise<Float32Array[]> {
    return this.lock.run(async () => {
      const dims = [count, ...rowShape];
      // Typed inputs as the contract says (float32 pixels, int64 ids); the rare export that
      // takes int32 ids gets them converted.
      const input =
        data instanceof BigInt64Array
          ? this.int32Ids
            ? new this.ort.Tensor('int32', Int32Array.from(data, Number), dims)
            : new this.ort.Tensor('int64', data, dims)
          : new this.ort.Tensor('float32', data, dims);
      const outputs = await this.session.run({ [this.inputName]: input }, [this.outputName]);
      const out = outputs[this.outputName];
      try {
        return splitRows(out, count);
      } finally {
        out.dispose();
      }
    });
  }

  release(): Promise<void> {
    return this.lock.run(() => this.session.release());
  }
}

function splitRows(out: Tensor, count: number): Float32Array[] {
  if (out.dims.length !== 2 || out.dims[0] !== count)
    throw new Error(`Expected output shape [${count}, dim], got [${out.dims.join(', ')}]`);
  const dim = out.dims[1];
  let data: Float32Array;
  if (out.type === 'float32') data = out.data as Float32Array;
  else if (out.type === 'float16')
    // ORT gives float16 as Float16Array where the platform has it, else as raw Uint16Array bits.
    data = out.data instanceof Uint16Array ? decodeEmbedding(out.data) : Float32Array.from(out.data as ArrayLike<number>);
  else throw new Error(`Unsupported embedding output type ${out.type}`);
  const rows: Float32Array[] = [];
  // slice() copies: rows must not alias ORT-owned memory that dispose() may release.
  for (let i = 0; i < count; i++) rows.push(data.slice(i * dim, (i + 1) * dim));
  return rows;
}

interface Towers {
  backend: Backend;
  vision: TowerSession;
  text: TowerSession;
}

// ---------------------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------------------

export class ClipEngine {
  private current!: Towers;
  private wasmTowers?: Promise<Towers>;
  private gpuTowers?: Towers;
  private gpuFailure?: string;
  private shaderF16?: boolean;
  private readonly openMs: Partial<Record<Backend, number>> = {};
  private fallingBack?: Promise<void>;
  private background: Promise<void> = Promise.resolve();
  private disposed = false;
  private readonly maxBatch: number;
  private readonly wasmOrt: OrtModule;
  private readonly runtime: EngineInfo['runtime'];

  private constructor(private readonly init: EngineInit) {
    this.maxBatch = Math.max(1, Math.floor(init.maxBatch ?? DEFAULT_MAX_BATCH));
    this.wasmOrt = init.wasmOrt ?? init.ort;
    this.runtime = 'node' in init.ort.env.versions ? 'onnxruntime-node' : 'onnxruntime-web';
  }

  /** Opens sessions and warms them up; resolves as soon as one backend can answer. */
  static async create(init: EngineInit): Promise<ClipEngine> {
    const engine = new ClipEngine(init);
    await engine.start();
    return engine;
  }

  /** The backend answering requests now. */
  get backend(): Backend {
    return this.current.backend;
  }

  get info(): EngineInfo {
    return {
      backend: this.backend,
      runtime: this.runtime,
      webgpuFailure: this.gpuFailure,
      shaderF16: this.shaderF16,
      openMs: { ...this.openMs },
    };
  }

  /** Resolves once background work (the WebGPU warm-up in 'auto') has finished, either way. */
  async settled(): Promise<Backend> {
    await this.background;
    return this.backend;
  }

  /**
   * Raw image_embeds rows (not normalised) for `count` images packed as CHW float32
   * [count, 3, size, size], as preprocess() writes them.
   */
  async embedImages(pixelValues: Float32Array, count: number): Promise<Float32Array[]> {
    const size = this.init.spec.imageSize;
    const per = 3 * size * size;
    if (!Number.isInteger(count) || count < 0 || pixelValues.length !== count * per)
      throw new RangeError(`Expected ${count} x 3 x ${size} x ${size} = ${count * per} floats, got ${pixelValues.length}`);
    return this.withFallback((towers) => this.imagesOn(towers, pixelValues, count));
  }

  /** Raw text_embeds rows (not normalised), one per text. */
  async embedTexts(texts: string[]): Promise<Float32Array[]> {
    return this.withFallback((towers) => this.textsOn(towers, texts));
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    // Sessions still being opened in the background release themselves when they finish.
    const all = new Set<Towers>([this.current]);
    if (this.gpuTowers) all.add(this.gpuTowers);
    if (this.wasmTowers) await this.wasmTowers.then((t) => all.add(t), () => undefined);
    await Promise.all([...all].flatMap((t) => [t.vision.release(), t.text.release()]));
  }

  // --- running ---------------------------------------------------------------------------

  private async imagesOn(towers: Towers, pixelValues: Float32Array, count: number): Promise<Float32Array[]> {
    const size = this.init.spec.imageSize;
    const per = 3 * size * size;
    const rows: Float32Array[] = [];
    for (let start = 0; start < count; start += this.maxBatch) {
      const n = Math.min(this.maxBatch, count - start);
      const chunk = pixelValues.subarray(start * per, (start + n) * per);
      rows.push(...this.checkDim(await towers.vision.run(chunk, n, [3, size, size])));
    }
    return rows;
  }

  private async textsOn(towers: Towers, texts: string[]): Promise<Float32Array[]> {
    const ctx = this.init.spec.contextLength;
    const rows: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += this.maxBatch) {
      const chunk = texts.slice(start, start + this.maxBatch);
      const ids = this.init.tokenizer.tokenizeBatch(chunk, ctx);
      if (ids.length !== chunk.length * ctx)
        throw new Error(`Tokenizer returned ${ids.length} ids for ${chunk.length} texts of context ${ctx}`);
      rows.push(...this.checkDim(await towers.text.run(ids, chunk.length, [ctx])));
    }
    return rows;
  }

  private checkDim(rows: Float32Array[]): Float32Array[] {
    const want = this.init.spec.embedDim;
    if (rows.length && rows[0].length !== want)
      throw new Error(`Model outputs ${rows[0].length}-d embeddings but ${this.init.spec.id} declares ${want}`);
    return rows;
  }

  /** Runs op on the current backend; a WebGPU failure switches to WASM for good and retries there. */
  private async withFallback<T>(op: (towers: Towers) => Promise<T>): Promise<T> {
    if (this.disposed) throw new Error('ClipEngine has been disposed');
    const towers = this.current;
    try {
      return await op(towers);
    } catch (err) {
      if (towers.backend !== 'webgpu' || this.disposed) throw err;
      await this.abandonWebGpu(`WebGPU run failed: ${describe(err)}`);
      return op(this.current);
    }
  }

  // --- opening backends ------------------------------------------------------------------

  private async start(): Promise<void> {
    const prefer = this.init.prefer ?? 'auto';
    if (this.runtime === 'onnxruntime-node') {
      if (prefer !== 'auto' && prefer !== 'cpu') throw new Error(`onnxruntime-node only runs the 'cpu' backend (prefer: '${prefer}')`);
      return this.use(await this.open('cpu'), 'onnxruntime-node');
    }
    if (prefer === 'cpu') throw new Error("prefer 'cpu' needs onnxruntime-node; this ORT module is onnxruntime-web");

    const gpuReason = prefer === 'wasm' ? 'WASM requested' : navigatorGpu() ? undefined : 'WebGPU not available (no navigator.gpu)';
    if (gpuReason) {
      if (prefer === 'webgpu') this.gpuFailure = gpuReason;
      return this.use(await this.ensureWasm(), gpuReason);
    }
    if (prefer === 'webgpu') {
      try {
        return this.use(await this.openWebGpu(), 'WebGPU requested');
      } catch (err) {
        this.gpuFailure = `WebGPU failed to start: ${describe(err)}`;
        return this.use(await this.ensureWasm(), this.gpuFailure);
      }
    }

    // auto with WebGPU in sight: WASM and WebGPU both start now; the first warm one answers.
    // Sharing one ORT module, the WebGPU warm-up would hold the module's lock for its whole
    // shader compilation, so its sessions wait until WASM is warm (files still load at once).
    const wasm = this.ensureWasm();
    const shared = this.wasmOrt.env === this.init.ort.env;
    const gpu = this.openWebGpu(shared ? wasm.catch(() => undefined) : undefined);
    const first = await Promise.any([wasm, gpu]).catch(async () => {
      // Both failed: report the WASM error, which is the one that must not happen.
      gpu.catch(() => undefined);
      return wasm;
    });
    this.use(first, first.backend === 'wasm' ? 'WASM ready; WebGPU warming up' : 'WebGPU warmed up first');
    this.background = (async () => {
      if (first.backend === 'webgpu') {
        await wasm.catch(() => undefined); // kept as the fallback
        return;
      }
      try {
        const towers = await gpu;
        if (this.disposed) await Promise.allSettled([towers.vision.release(), towers.text.release()]);
        else if (!this.gpuFailure) this.use(towers, `WebGPU warmed up in ${Math.round(this.openMs.webgpu ?? 0)} ms`);
      } catch (err) {
        this.gpuFailure ??= `WebGPU failed to start: ${describe(err)}`;
      }
    })();
  }

  private use(towers: Towers, reason: string): void {
    if (this.current === towers) return;
    this.current = towers;
    try {
      this.init.onBackendChange?.(towers.backend, reason);
    } catch {
      // A listener's bug must not break the engine.
    }
  }

  private ensureWasm(): Promise<Towers> {
    if (!this.wasmTowers) {
      if (this.init.wasmThreads) this.wasmOrt.env.wasm.numThreads = this.init.wasmThreads;
      this.wasmTowers = this.open('wasm');
      this.wasmTowers.catch(() => undefined); // observed by whoever awaits it
    }
    return this.wasmTowers;
  }

  private async openWebGpu(gate?: Promise<unknown>): Promise<Towers> {
    await this.prepareWebGpu();
    const towers = await this.open('webgpu', gate);
    this.gpuTowers = towers;
    await this.watchDevice(towers);
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
    const env = this.init.ort.env.webgpu;
    if (env.adapter) return; // chosen earlier (by us or the host); ORT may have made it read-only
    // No powerPreference: embeddings are light enough for an integrated GPU, and waking a
    // discrete GPU costs battery.
    const adapter = await gpu.requestAdapter();
    if (!adapter) throw new Error('no WebGPU adapter');
    env.adapter = adapter as typeof env.adapter;
  }

  /** Falls back to WASM when the GPU device ORT uses is lost (driver reset, GPU process crash). */
  private async watchDevice(towers: Towers): Promise<void> {
    let device: GpuDeviceLike | undefined;
    try {
      device = (await this.init.ort.env.webgpu.device) as GpuDeviceLike | undefined;
    } catch {
      device = undefined;
    }
    if (!device?.lost) return;
    this.shaderF16 = device.features.has('shader-f16');
    void device.lost.then((info) => {
      if (this.disposed || this.gpuTowers !== towers) return;
      void this.abandonWebGpu(`GPU device lost (${info.reason ?? 'unknown'}): ${info.message ?? ''}`.trim());
    });
  }

  private abandonWebGpu(reason: string): Promise<void> {
    this.fallingBack ??= (async () => {
      this.gpuFailure = reason;
      const gpu = this.gpuTowers;
      this.gpuTowers = undefined;
      if (this.current.backend === 'webgpu') this.use(await this.ensureWasm(), reason);
      if (gpu) await Promise.allSettled([gpu.vision.release(), gpu.text.release()]);
    })();
    return this.fallingBack;
  }

  /**
   * Creates both sessions for a backend and warms each up with one run. Session creation
   * waits for `gate` (the files load before that).
   */
  private async open(mode: OpenMode, gate?: Promise<unknown>): Promise<Towers> {
    const backend: Backend = mode === 'cpu' ? 'wasm' : mode;
    const ort = mode === 'wasm' ? this.wasmOrt : this.init.ort;
    const files = await this.init.loadFiles(backend);
    await gate;
    const t0 = performance.now();
    const vision = await TowerSession.open(ort, mode, files.vision, { input: 'pixel_values', output: 'image_embeds' });
    let text: TowerSession;
    try {
      text = await TowerSession.open(ort, mode, files.text, { input: 'input_ids', output: 'text_embeds' });
    } catch (err) {
      await vision.release().catch(() => undefined);
      throw err;
    }
    const towers: Towers = { backend, vision, text };
    try {
      if (this.disposed) throw new Error('ClipEngine disposed while opening');
      const size = this.init.spec.imageSize;
      await this.imagesOn(towers, new Float32Array(3 * size * size), 1);
      await this.textsOn(towers, [WARMUP_TEXT]);
      if (this.disposed) throw new Error('ClipEngine disposed while opening');
    } catch (err) {
      await Promise.allSettled([vision.release(), text.release()]);
      throw err;
    }
    this.openMs[backend] = performance.now() - t0;
    return towers;
  }
}
