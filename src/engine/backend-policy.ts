// Which backend answers, as one state object over two providers: one that opens WASM and one
// that opens WebGPU. ClipEngine uses it with both backends in one context (onnxruntime-web, or
// onnxruntime-node's CPU provider standing in for WASM); Chrome's service worker uses the same
// object with WASM opened in the offscreen document instead (src/offscreen/client.ts).
//
// The rules:
// - 'wasm': WASM only.
// - 'webgpu': WebGPU; WASM if WebGPU fails to start.
// - 'auto': both start at once and the first warm one answers; WebGPU takes over once warm,
//   because its first run compiles shaders and can take tens of seconds.
// - A failing WebGPU run, or a lost device, switches to WASM for good and the failed call is
//   retried there.
// - dispose() releases every opened backend, including those still opening.
// - The change callback (backend + reason) may throw without breaking anything.

import type { Backend } from './types.ts';
import { describe } from '../errors.ts';

export type Prefer = 'auto' | 'webgpu' | 'wasm';

/** An opened backend, as the policy sees it. */
export interface OpenBackend {
  readonly backend: Backend;
  /** WASM threads computing the answers; null for WebGPU or when the runtime decides. */
  readonly threads: number | null;
  /** Releases what it holds. Called once. */
  dispose(): Promise<void>;
}

/** What a provider learns while it opens its backend. */
export interface OpenContext {
  /**
   * 'auto' only, for the WebGPU provider: the WASM opening that runs alongside. A provider
   * whose two backends share one runtime may wait for it (see TowerBackends).
   */
  readonly wasm?: Promise<unknown>;
  /** True once the policy was disposed: an opening may stop early (dispose releases it anyway). */
  readonly disposed: boolean;
  /** The opened backend can no longer answer (a lost GPU device): WASM takes over for good. Ignored for WASM. */
  lost(reason: string): void;
  /** Something the change callback reports (the thread count) changed; reported if this backend answers now. */
  changed(reason: string): void;
}

export interface BackendProvider<A extends OpenBackend> {
  open(context: OpenContext): Promise<A>;
}

export interface PolicyInit<A extends OpenBackend> {
  prefer: Prefer;
  wasm: BackendProvider<A>;
  webgpu: BackendProvider<A>;
  /** Why WebGPU cannot be tried here at all (no navigator.gpu, onnxruntime-node); undefined if it can. */
  webgpuUnavailable?: string;
  /** The backend answering requests changed (including the first choice), or its thread count did. */
  onChange?(answering: A, reason: string): void;
}

export class BackendPolicy<A extends OpenBackend> {
  private current?: A;
  private wasmOpening?: Promise<A>;
  /** The opened WebGPU backend, until it is given up. */
  private gpu?: A;
  private failure?: string;
  private fallingBack?: Promise<void>;
  private background: Promise<void> = Promise.resolve();
  private disposed = false;
  /** Every opening ever started, so dispose() can release what they open, late ones included. */
  private readonly openings = new Set<Promise<A>>();
  private readonly released = new Set<A>();

  constructor(private readonly init: PolicyInit<A>) {}

  /** Resolves once a backend answers; rejects (having released everything) when none can. */
  async start(): Promise<void> {
    try {
      await this.choose();
    } catch (error) {
      await this.dispose();
      throw error;
    }
  }

  /** The backend answering now. */
  get answering(): A {
    if (!this.current) throw new Error('no backend has started yet');
    return this.current;
  }

  /** Why WebGPU is not (or no longer) used, if it was considered. */
  get webgpuFailure(): string | undefined {
    return this.failure;
  }

  /** Resolves once background work (the WebGPU warm-up in 'auto') has finished, either way. */
  async settled(): Promise<Backend> {
    await this.background;
    return this.answering.backend;
  }

  /** Runs op on the answering backend; a WebGPU failure switches to WASM for good and retries there. */
  async run<T>(op: (backend: A) => Promise<T>): Promise<T> {
    if (this.disposed) throw new Error('the engine has been disposed');
    const answering = this.answering;
    try {
      return await op(answering);
    } catch (error) {
      if (answering.backend !== 'webgpu' || this.disposed) throw error;
      await this.abandonWebGpu(`WebGPU run failed: ${describe(error)}`);
      return op(this.answering);
    }
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const opened = await Promise.allSettled(this.openings);
    await Promise.allSettled(opened.map((o) => (o.status === 'fulfilled' ? this.release(o.value) : undefined)));
  }

  // --- choosing ----------------------------------------------------------------------------

  private async choose(): Promise<void> {
    const { prefer, webgpuUnavailable } = this.init;
    if (prefer === 'wasm' || webgpuUnavailable) {
      const reason = prefer === 'wasm' ? 'WASM requested' : webgpuUnavailable!;
      if (prefer === 'webgpu') this.failure = reason;
      return this.use(await this.ensureWasm(), reason);
    }
    if (prefer === 'webgpu') {
      try {
        return this.use(await this.openWebGpu(), 'WebGPU requested');
      } catch (error) {
        this.failure = `WebGPU failed to start: ${describe(error)}`;
        return this.use(await this.ensureWasm(), this.failure);
      }
    }

    const t0 = performance.now();
    const wasm = this.ensureWasm();
    const gpu = this.openWebGpu(wasm);
    gpu.catch(() => undefined); // observed below
    // Both failed: report the WASM error, which is the one that must not happen.
    const first = await Promise.any([wasm, gpu]).catch(() => wasm);
    this.use(first, first.backend === 'wasm' ? 'WASM ready; WebGPU warming up' : 'WebGPU warmed up first');
    this.background = (async () => {
      if (first.backend === 'webgpu') {
        await wasm.catch(() => undefined); // kept as the fallback
        return;
      }
      try {
        const opened = await gpu;
        if (!this.disposed && !this.failure) this.use(opened, `WebGPU warmed up in ${Math.round(performance.now() - t0)} ms`);
      } catch (error) {
        this.failure ??= `WebGPU failed to start: ${describe(error)}`;
      }
    })();
  }

  private use(backend: A, reason: string): void {
    if (this.current === backend) return;
    this.current = backend;
    this.notify(backend, reason);
  }

  private notify(backend: A, reason: string): void {
    try {
      this.init.onChange?.(backend, reason);
    } catch {
      // A listener's bug must not break the engine.
    }
  }

  // --- opening -----------------------------------------------------------------------------

  private context(backend: Backend, wasm?: Promise<unknown>): OpenContext {
    const policy = this;
    return {
      wasm,
      get disposed() {
        return policy.disposed;
      },
      lost: (reason) => {
        if (backend === 'webgpu' && !this.disposed) void this.abandonWebGpu(reason).catch(() => undefined);
      },
      changed: (reason) => {
        if (!this.disposed && this.current?.backend === backend) this.notify(this.current, reason);
      },
    };
  }

  private track(opening: Promise<A>): Promise<A> {
    this.openings.add(opening);
    opening.catch(() => undefined); // observed by whoever awaits it
    return opening;
  }

  /** The WASM backend, opening it if need be; a failed opening is tried again on the next need. */
  private ensureWasm(): Promise<A> {
    if (!this.wasmOpening) {
      const opening = this.track(this.init.wasm.open(this.context('wasm')));
      this.wasmOpening = opening;
      opening.catch(() => {
        if (this.wasmOpening === opening) this.wasmOpening = undefined;
      });
    }
    return this.wasmOpening;
  }

  private async openWebGpu(wasm?: Promise<unknown>): Promise<A> {
    const opened = await this.track(this.init.webgpu.open(this.context('webgpu', wasm)));
    if (this.failure) {
      await this.release(opened); // given up while it opened (its device was lost)
      throw new Error(this.failure);
    }
    this.gpu = opened;
    return opened;
  }

  private abandonWebGpu(reason: string): Promise<void> {
    this.fallingBack ??= (async () => {
      this.failure = reason;
      const gpu = this.gpu;
      this.gpu = undefined;
      try {
        if (this.current?.backend === 'webgpu') this.use(await this.ensureWasm(), reason);
      } finally {
        if (gpu) await this.release(gpu);
      }
    })().catch((error: unknown) => {
      this.fallingBack = undefined; // WASM did not open: the next failing call tries again
      throw error;
    });
    return this.fallingBack;
  }

  private async release(backend: A): Promise<void> {
    if (this.released.has(backend)) return;
    this.released.add(backend);
    await backend.dispose().catch(() => undefined);
  }
}
