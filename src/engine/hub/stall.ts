// Time limits of a transfer: a request that receives nothing for a while is aborted (a stalled
// connection can otherwise hang forever), and retries wait with an abortable sleep.

/**
 * A signal that aborts when the caller's signal does or when `bump` has not been called for `ms`.
 * `stalled` tells the two apart.
 */
export class StallWatch {
  private readonly ctrl = new AbortController();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private isStalled = false;

  constructor(
    private readonly ms: number,
    private readonly outer: AbortSignal | undefined,
  ) {
    outer?.throwIfAborted();
    outer?.addEventListener('abort', this.onAbort, { once: true });
    this.bump();
  }

  get signal(): AbortSignal {
    return this.ctrl.signal;
  }

  get stalled(): boolean {
    return this.isStalled;
  }

  /** Data arrived (or the wait was ours, not the server's): the stall clock starts again. */
  readonly bump = (): void => {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.isStalled = true;
      this.ctrl.abort(new Error('stalled'));
    }, this.ms);
  };

  dispose(): void {
    clearTimeout(this.timer);
    this.outer?.removeEventListener('abort', this.onAbort);
  }

  private readonly onAbort = (): void => this.ctrl.abort(this.outer!.reason);
}

/** Runs `fn` under a StallWatch that is disposed when `fn` settles. */
export async function withStallTimeout<T>(ms: number, outer: AbortSignal | undefined, fn: (watch: StallWatch) => Promise<T>): Promise<T> {
  const watch = new StallWatch(ms, outer);
  try {
    return await fn(watch);
  } finally {
    watch.dispose();
  }
}

export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (ms <= 0) {
    signal?.throwIfAborted();
    return Promise.resolve();
  }
  return new Promise((resolvePromise, reject) => {
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolvePromise();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
