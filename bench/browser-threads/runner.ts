// One engine per JavaScript context, timed one call at a time: the same ClipEngine the
// extension runs, on the architecture replicas (mci0 + text_mct, random weights), WASM only.
// The Node script interleaves calls across contexts (round robin), so load from elsewhere on
// the machine hits every context alike instead of whichever happened to run at that moment.

import { ClipEngine, type OrtModule } from '../../src/engine/session.ts';
import type { ModelBytes, ModelSpec } from '../../src/engine/types.ts';

export interface EngineRequest {
  /** http://127.0.0.1:PORT/ serving <name>.onnx and <name>.bin */
  modelBase: string;
  spec: ModelSpec;
  vision: string;
  text: string;
  /** One token-id row per text, tokenized in Node with the project's tokenizer. */
  ids: number[][];
  batch: number;
}

export type RunKind = 'image1' | 'imageBatch' | 'text1' | 'textBatch';

export interface RunnerInfo {
  context: string;
  threads: number;
  /** Whether ORT's intra-op threads spin while waiting for work (its default) or block. */
  spinning: boolean;
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
  /** Session creation and warm-up, milliseconds (after the files arrived). */
  openMs: number;
}

/** Commands every context answers (the Node script sends them directly or through the worker). */
export type RunnerCommand = { op: 'open'; req: EngineRequest } | { op: 'run'; kind: RunKind } | { op: 'close' };
export type RunnerAnswer = RunnerInfo | number | null;

async function fetchBytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

async function loadModel(base: string, name: string): Promise<ModelBytes> {
  const [model, weights] = await Promise.all([fetchBytes(`${base}${name}.onnx`), fetchBytes(`${base}${name}.bin`)]);
  return { model, externalData: [{ path: `${name}.bin`, data: weights }] };
}

/**
 * `ort` with every session created with `session.intra_op.allow_spinning = 0`: idle pool
 * threads block instead of spinning, which matters when the pool has as many threads as the
 * machine has cores and something else wants one of them.
 */
export function withoutSpinning(ort: OrtModule): OrtModule {
  type Create = OrtModule['InferenceSession']['create'];
  const create = ((model: Uint8Array, options?: Parameters<Create>[1]) =>
    ort.InferenceSession.create(model, {
      ...options,
      extra: { ...options?.extra, session: { intra_op: { allow_spinning: '0' } } },
    })) as Create;
  // Same env object: ClipEngine keys its per-module lock on it.
  return { env: ort.env, Tensor: ort.Tensor, InferenceSession: { create } as OrtModule['InferenceSession'] };
}

/**
 * The engine of one context. ORT reads numThreads once, when its WASM module first
 * initialises, so the thread count is fixed per context (set it before the first open).
 */
export class Runner {
  private engine?: ClipEngine;
  private calls?: Record<RunKind, () => Promise<unknown>>;

  private readonly ort: OrtModule;

  constructor(
    ort: OrtModule,
    private readonly threads: number,
    private readonly context: string,
    private readonly spinning = true,
  ) {
    this.ort = spinning ? ort : withoutSpinning(ort);
  }

  async handle(cmd: RunnerCommand): Promise<RunnerAnswer> {
    if (cmd.op === 'open') return this.open(cmd.req);
    if (cmd.op === 'close') {
      await this.engine?.dispose();
      this.engine = undefined;
      return null;
    }
    if (!this.calls) throw new Error(`${this.context}: no engine open`);
    const call = this.calls[cmd.kind];
    const start = performance.now();
    await call();
    return performance.now() - start;
  }

  private async open(req: EngineRequest): Promise<RunnerInfo> {
    const files = { vision: await loadModel(req.modelBase, req.vision), text: await loadModel(req.modelBase, req.text) };
    const texts = req.ids.map((_, i) => `text ${i}`);
    const ctx = req.spec.contextLength;
    const tokenizer = {
      tokenizeBatch(batch: string[]): BigInt64Array {
        const out = new BigInt64Array(batch.length * ctx);
        // Texts the engine makes up itself (its warm-up) get the first row: only speed counts.
        batch.forEach((t, i) => req.ids[Math.max(0, texts.indexOf(t))].forEach((id, j) => (out[i * ctx + j] = BigInt(id))));
        return out;
      },
    };
    const t0 = performance.now();
    this.engine = await ClipEngine.create({
      spec: req.spec,
      ort: this.ort,
      loadFiles: async () => files,
      tokenizer,
      prefer: 'wasm',
      wasmThreads: this.threads,
      maxBatch: req.batch,
    });
    const openMs = performance.now() - t0;
    const engine = this.engine;
    const per = 3 * req.spec.imageSize * req.spec.imageSize;
    // Deterministic pixels in [0, 1]: the replicas' speed does not depend on content.
    const pixels = new Float32Array(req.batch * per).map((_, i) => ((i * 2654435761) % 1000) / 1000);
    const batchTexts = Array.from({ length: req.batch }, (_, i) => texts[i % texts.length]);
    this.calls = {
      image1: () => engine.embedImages(pixels.subarray(0, per), 1),
      imageBatch: () => engine.embedImages(pixels, req.batch),
      text1: () => engine.embedTexts(batchTexts.slice(0, 1)),
      textBatch: () => engine.embedTexts(batchTexts),
    };
    return {
      context: this.context,
      threads: this.threads,
      spinning: this.spinning,
      crossOriginIsolated: !!globalThis.crossOriginIsolated,
      hardwareConcurrency: navigator.hardwareConcurrency,
      openMs,
    };
  }
}
