// One tower (vision or text) as one ORT session, and the lock that serialises every call into
// one ORT module.
//
// One ORT module (one WebAssembly instance) runs one inference at a time across ALL its
// sessions: the WebGPU build throws "Session already started" when a second run begins while
// another is awaiting the GPU. So every session call goes through a lock per ORT module, not
// per session. With a single module, WASM answers therefore wait while a WebGPU run is in
// flight; a separate module for WASM (e.g. onnxruntime-web/wasm) keeps WASM answering while
// WebGPU compiles its shaders (see TowerBackends).
//
// The caller passes the ORT module in rather than this file importing it, because which build
// to load depends on the host: a Chrome service worker must import a *.bundle.min.mjs build
// statically (no dynamic import there), the offscreen document may use threads, Node tests and
// the CLI use onnxruntime-node. Only types are imported here.

import type { InferenceSession, Tensor } from 'onnxruntime-web';
import type { Backend, ModelBytes } from './types.ts';
import { inlineExternalData, outlineInitializers } from './onnx-external.ts';
import { decodeEmbedding } from './similarity.ts';
import { Mutex } from '../concurrency.ts';

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

// Keyed by the module's env object: each ORT build/instance has its own, and it is the one
// object every module exposes (onnxruntime-node included).
const moduleLocks = new WeakMap<object, Mutex>();
function lockFor(ort: OrtModule): Mutex {
  let lock = moduleLocks.get(ort.env);
  if (!lock) moduleLocks.set(ort.env, (lock = new Mutex()));
  return lock;
}

type TowerInput = Float32Array | BigInt64Array;

/**
 * One tower (vision or text) as one ORT session, with the engine's input typing, output
 * decoding and per-module lock. Rows come out raw, as the model computes them. TowerBackends
 * uses a pair per backend; the CLI uses one alone.
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
      // WASM: the weights go from these bytes straight into the session's tensors rather than
      // through a copy of the whole model, and a model proto holding them, in the WASM heap
      // (which never shrinks); see outlineInitializers.
      const { model: graph, externalData } = mode === 'wasm' ? outlined(bytes) : bytes;
      model = graph;
      if (externalData?.length) options.externalData = externalData;
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
      // ORT's proxy (Firefox: env.wasm.proxy) transfers an input's whole buffer to its Worker: the
      // caller's array, often a view of a larger batch still to be read, would be detached.
      const own = <T extends TowerInput>(x: T): T => (this.ort.env.wasm?.proxy ? (x.slice() as T) : x);
      // Typed inputs as the contract says (float32 pixels, int64 ids); the rare export that
      // takes int32 ids gets them converted.
      const input =
        data instanceof BigInt64Array
          ? this.int32Ids
            ? new this.ort.Tensor('int32', Int32Array.from(data, Number), dims)
            : new this.ort.Tensor('int64', own(data), dims)
          : new this.ort.Tensor('float32', own(data), dims);
      const outputs = await this.session.run({ [this.inputName]: input }, [this.outputName]);
      const out = outputs[this.outputName];
      try {
        return splitRows(out, count);
      } finally {
        out.dispose();
      }
    });
  }

  /** `run` over `count` float inputs in runs of at most `maxBatch` each (ORT's heap grows with the largest run). */
  async runInBatches(data: Float32Array, count: number, rowShape: readonly number[], maxBatch: number): Promise<Float32Array[]> {
    const per = rowShape.reduce((a, b) => a * b, 1);
    const rows: Float32Array[] = [];
    for (let start = 0; start < count; start += maxBatch) {
      const n = Math.min(maxBatch, count - start);
      rows.push(...(await this.run(data.subarray(start * per, (start + n) * per), n, rowShape)));
    }
    return rows;
  }

  release(): Promise<void> {
    return this.lock.run(() => this.session.release());
  }
}

/** The graph with its weights outlined, or as it came when it is no protobuf this walker reads (ORT's own error then says what is wrong). */
function outlined(bytes: ModelBytes): ModelBytes {
  try {
    return outlineInitializers(bytes);
  } catch {
    return bytes;
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
