// The engine channel between the Chrome service worker and the offscreen document.
//
// The document's end is a dedicated Worker (engine-worker.ts): the document hands it each port.
//
// Not chrome.runtime messaging: that serialises as JSON, and a batch of 8 images is 6 MB of
// float32 (measured: ~0.6–1.2 s per round trip as number arrays, against ~10 ms for a
// MessagePort that transfers the buffers; see bench/browser-threads.bench.ts). The worker
// finds the document among its clients and hands it a MessagePort once per worker start; every
// request then travels over that port as a structured clone with its buffers transferred.
// Only our own service worker can post to the document, so nothing here needs validating
// the way src/messages.ts validates what web pages can send. The one exception is a message
// that is not a reply (EngineProgress): it is told apart by its shape, so that shape is checked.

import type { PreparedImage } from '../engine/prepare-image';
import type { PreprocessSpec } from '../engine/preprocess';
import type { StartupStep } from '../engine/towers';
import type { ModelSpec } from '../engine/types';

/** Path of the offscreen document inside the build (vite keeps the source path for HTML inputs). */
export const OFFSCREEN_PATH = 'src/offscreen/offscreen.html';

/** The first message to the document (clients.postMessage, with the port transferred). */
export const CONNECT = 'lens-engine-connect';
/** The same for a port to the document's decode worker (decode-worker.ts). */
export const CONNECT_DECODE = 'lens-decode-connect';

/**
 * The document's runtime message to the worker after IDLE_CLOSE_MS without requests (and every
 * IDLE_CLOSE_MS after): close me. The document outlives worker restarts (so the model need not
 * load again each time the worker wakes), but it should not hold the model's memory for good
 * once the extension goes unused. The worker keeps it while a popup or extension page is open.
 */
export const IDLE = 'lens-engine-idle';
export const IDLE_CLOSE_MS = 5 * 60_000;

/**
 * A BroadcastChannel from the engine worker to the decode worker, both of the offscreen document:
 * the engine says when the vision session starts opening on first use and when it is open (or
 * failed), and the decoder starts no picture in between (decode-worker.ts).
 */
export const VISION_OPENING_CHANNEL = 'lens-vision-opening';

export interface VisionOpeningNote {
  opening: boolean;
}

/** Checked by shape: any extension context may post on a channel of that name. */
export function isVisionOpeningNote(data: unknown): data is VisionOpeningNote {
  return typeof data === 'object' && data !== null && typeof (data as { opening?: unknown }).opening === 'boolean';
}

/** Where the document reads the model files the worker has made sure of. */
export type ModelSource =
  /** Shipped in the extension: `${baseUrl}/${spec.id}/…` (see loadBundledModel). */
  | { kind: 'bundled'; baseUrl: string }
  /** Downloaded earlier into Cache Storage (shared by the worker and extension pages) from baseUrl. */
  | { kind: 'store'; baseUrl: string };

export type EngineRequest =
  /** Opens the engine for a model; a document that already has it answers at once. */
  | { id: number; op: 'open'; spec: ModelSpec; source: ModelSource }
  /** CHW float32 [count, 3, size, size]; the buffer is transferred. */
  | { id: number; op: 'images'; pixels: Float32Array; count: number }
  | { id: number; op: 'texts'; texts: string[] }
  /** To the decode worker: an image file's bytes (transferred) → model input and preview (prepare-image.ts). */
  | { id: number; op: 'prepare'; bytes: Uint8Array; type: string; spec: PreprocessSpec };

export interface OpenedEngine {
  /** ORT's WASM thread count in the document (1 when it is not cross-origin isolated). */
  threads: number;
  /** Session creation and warm-up, milliseconds; 0 when the document already had the model. */
  openMs: number;
}

/** What the engine worker (engine-worker.ts) tells the document it lives in. */
export type WorkerNote =
  /** The worker's script runs: the document may hand it ports (the decode worker says only this). */
  | { type: 'ready'; crossOriginIsolated?: boolean; threads?: number }
  /** Unused for IDLE_CLOSE_MS: the document passes IDLE on to the service worker. */
  | { type: 'idle' };

/**
 * Sent on the port while an 'open' runs, before its reply: the start-up step the document's
 * engine has reached, so the popup can show more than seconds passing.
 */
export interface EngineProgress {
  id: number;
  step: StartupStep;
}

const STARTUP_STEPS: readonly string[] = ['reading-files', 'vision-session', 'text-session', 'warming-up'] satisfies StartupStep[];

/** Whether a message on the port is a progress note (anything else there is a reply). */
export function isEngineProgress(data: unknown): data is EngineProgress {
  if (typeof data !== 'object' || data === null || 'ok' in data) return false;
  const { id, step } = data as { id?: unknown; step?: unknown };
  return typeof id === 'number' && typeof step === 'string' && STARTUP_STEPS.includes(step);
}

export type EngineReply =
  | { id: number; ok: true; opened: OpenedEngine }
  /** Unit-length embedding rows (as ClipEngine returns them); their buffers are transferred. */
  | { id: number; ok: true; rows: Float32Array[] }
  /** The pixels' buffer is transferred. */
  | { id: number; ok: true; prepared: PreparedImage }
  /**
   * `refused`: the decoder's own refusal (ImageDecodeError: too many pixels…), worded for the
   * person. `unavailable`: the worker itself did not start; the caller does the work elsewhere.
   */
  | { id: number; ok: false; error: string; refused?: boolean; unavailable?: boolean };

/**
 * ORT's WASM thread count for a machine with `cores` logical cores: all of them, up to 4.
 * On 2 cores, 2 threads ran the MobileCLIP-S0 towers in 0.51–0.53 of the single-threaded time
 * when idle and 0.77–0.83 with the other core half busy; only with it fully busy were they
 * slower (1.2–1.7×; README, Performance). ORT itself defaults to half the cores, which is
 * 1 thread there. The cap of 4 is ORT's own.
 */
export function wasmThreadCount(cores: number | undefined): number {
  return Math.max(1, Math.min(4, Math.floor(cores || 1)));
}
