// A second vision session, for Firefox. Its event page has no SharedArrayBuffer, so ORT runs
// on one thread there (in ORT's proxy Worker) and inference would use one core of the machine. A
// lane (vision-lane-worker.ts) is a Worker with its own onnxruntime-web module and the vision
// session alone; each run of images is split in two halves, one per session, so both cores run
// the model. The price is memory: the lane's ORT heap holds the vision weights a second time.
//
// Chrome does not use it: its offscreen document gives ORT a thread per core, and two sessions
// of one thread instead of one session of two measured 1–5 % faster per page there, for 30–140 MB
// more (bench/README.md, seventh round).
//
// The lane's worker starts with the engine, and its session opens once the engine's own vision
// session is open: two vision sessions never open at once (an opening is the engine's highest
// point in memory), and the first images never wait for it. The lane reads the graph itself.
// Until the lane is open, and for good if it fails (the reason is logged), the engine runs every
// batch alone.

import { describe } from '../errors';
import type { ModelSpec } from '../engine/types';
import { isLaneReply, type LaneReply, type LaneRequest } from './lane-protocol';
import type { ModelSource } from './protocol';

export interface LaneHost {
  /** ORT threads per session. */
  threads: number;
  spec: ModelSpec;
  /** Where the lane reads the vision graph. */
  source: ModelSource;
  startWorker(): Worker;
}

/**
 * Images per run of each session (the engine's own included): a run of 8 goes as 4 and 4. One
 * thread runs 4 images as fast per image as 8, and ORT's heap grows with the largest run.
 */
export const LANE_BATCH = 4;

/** What the engine's own vision session does for the lanes. */
export interface ImageEmbedder {
  embedImages(pixels: Float32Array, count: number): Promise<Float32Array[]>;
}

type LaneState = 'closed' | 'opening' | 'open' | 'failed';

export class VisionLanes {
  private state: LaneState = 'closed';
  private worker: Worker | null = null;
  private readonly pending = new Map<number, (reply: LaneReply) => void>();
  private nextId = 1;
  /** Why the lane is not used, once it failed. */
  failure: string | null = null;

  /** Starts the lane's worker (its session opens on start()). */
  constructor(private readonly host: LaneHost) {
    try {
      this.worker = this.startWorker();
    } catch (error) {
      this.fail(`its worker did not start: ${describe(error)}`);
    }
  }

  /** Opens the lane, once: call when the engine's own vision session is open. */
  start(): void {
    if (this.state === 'closed') void this.openLane();
  }

  /** Whether batches are split between the engine and the lane now. */
  get open(): boolean {
    return this.state === 'open';
  }

  /**
   * Unit rows for `count` images: the first half (rounded up) from `engine`, the rest from the
   * lane when it is open. A lane that fails hands its half back to the engine.
   */
  async embedImages(engine: ImageEmbedder, pixels: Float32Array, count: number): Promise<Float32Array[]> {
    if (this.state !== 'open' || count < 2) {
      const rows = await engine.embedImages(pixels, count);
      // The engine's own vision session is open now, and has run (if start() was not called yet).
      this.start();
      return rows;
    }
    const own = Math.ceil(count / 2);
    const per = pixels.length / count;
    const theirs = pixels.subarray(own * per);
    // The lane's half goes first: the engine's own run may hold this thread until it ends.
    const rest = this.runOnLane(theirs.slice(), count - own).catch((error: unknown) => {
      this.fail(`its run failed: ${describe(error)}`);
      return engine.embedImages(theirs, count - own);
    });
    let first: Float32Array[];
    try {
      first = await engine.embedImages(pixels.subarray(0, own * per), own);
    } catch (error) {
      rest.catch(() => undefined);
      throw error;
    }
    return [...first, ...(await rest)];
  }

  dispose(): void {
    this.shut('the engine was closed');
  }

  private async openLane(): Promise<void> {
    this.state = 'opening';
    try {
      const { spec, source, threads } = this.host;
      const reply = await this.request((id) => ({ id, op: 'open', spec, source, threads, maxBatch: LANE_BATCH }), []);
      if (!reply.ok) throw new Error(reply.error);
      // Disposed while it opened: stays shut.
      if (this.state === 'opening') this.state = 'open';
    } catch (error) {
      this.fail(`it did not open: ${describe(error)}`);
    }
  }

  private startWorker(): Worker {
    const worker = this.host.startWorker();
    worker.addEventListener('message', (event: MessageEvent) => {
      if (!isLaneReply(event.data)) return;
      const answer = this.pending.get(event.data.id);
      this.pending.delete(event.data.id);
      answer?.(event.data);
    });
    worker.addEventListener('error', (event: ErrorEvent) => this.fail(`its worker failed: ${event.message || 'script error'}`));
    return worker;
  }

  private async runOnLane(pixels: Float32Array, count: number): Promise<Float32Array[]> {
    const reply = await this.request((id) => ({ id, op: 'images', pixels, count }), [pixels.buffer]);
    if (!reply.ok) throw new Error(reply.error);
    if (!reply.rows || reply.rows.length !== count) throw new Error(`the lane answered ${reply.rows?.length ?? 0} rows for ${count} images`);
    return reply.rows;
  }

  private async request(make: (id: number) => LaneRequest, transfer: Transferable[]): Promise<LaneReply> {
    const worker = this.worker;
    if (!worker) throw new Error('the lane has no worker');
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      worker.postMessage(make(id), transfer);
    });
  }

  /** The lane failed: said once, in the log. */
  private fail(reason: string): void {
    if (this.state === 'failed') return;
    this.shut(`the second vision session is not used: ${reason}`);
    console.warn(`${this.failure}; the engine runs each batch on its own session`);
  }

  /** From now on the engine runs every batch alone; runs waiting on the lane get `failure`. */
  private shut(failure: string): void {
    this.failure = failure;
    this.state = 'failed';
    this.worker?.terminate();
    this.worker = null;
    for (const [id, answer] of this.pending) answer({ id, ok: false, error: failure });
    this.pending.clear();
  }
}
