// The engine itself, in a dedicated Worker of the offscreen document (Chrome only). The
// document's main thread is the main thread of every extension page in its renderer process,
// the popup's included: ORT's WASM there would freeze the popup for whole batches. Here it only
// blocks this worker. The worker inherits the document's cross-origin isolation, so ORT may
// still start its thread pool (nested workers) from here.
//
// The worker holds one model at a time and outlives service-worker restarts, as the document
// does: a worker that starts again reconnects and finds the model already open.

import * as ort from 'onnxruntime-web/wasm';
import { ClipEngine } from '../engine/session';
import { collectReleasedSoon, releaseBuffer } from '../bytes';
import { describe } from '../errors';
import { ClipTokenizer } from '../engine/tokenizer';
import type { TextFirstFiles } from '../engine/hub/model-files';
import { readTextFirst } from './model-source';
import type { StartupStep } from '../engine/towers';
import type { ModelSpec } from '../engine/types';
import { IDLE_CLOSE_MS, VISION_OPENING_CHANNEL, wasmThreadCount, type EngineProgress, type EngineReply, type EngineRequest, type ModelSource, type OpenedEngine, type VisionOpeningNote, type WorkerNote } from './protocol';

// Without cross-origin isolation ORT would warn and fall back to one thread; say so plainly instead.
const threads = globalThis.crossOriginIsolated ? wasmThreadCount(navigator.hardwareConcurrency) : 1;
ort.env.wasm.numThreads = threads;

interface Open {
  key: string;
  engine: Promise<ClipEngine>;
  openMs: Promise<number>;
}
let current: Open | null = null;
/** open() calls run one after another: two workers' ports (an old and a restarted one) may both ask. */
let queue: Promise<unknown> = Promise.resolve();

const visionOpening = new BroadcastChannel(VISION_OPENING_CHANNEL);

/**
 * Tells the decode worker while the vision session opens: the graph's bytes, ORT's heap growing by
 * the weights and V8's first optimising compiles of ORT's code are then in memory at once, the
 * extension's highest point, and a large picture decoding beside them would add its bitmap,
 * canvas and read-back to it.
 */
function announceVisionOpening(opening: Promise<unknown>): void {
  const say = (note: VisionOpeningNote) => visionOpening.postMessage(note);
  say({ opening: true });
  const opened = () => say({ opening: false });
  opening.then(opened, opened);
}

async function openModel(spec: ModelSpec, source: ModelSource, onStep: (step: StartupStep) => void): Promise<OpenedEngine> {
  const key = JSON.stringify([spec, source]);
  if (current?.key === key) {
    await current.engine;
    return { threads, openMs: 0 };
  }
  const previous = current;
  current = null;
  // One model's sessions at a time: two could exhaust memory.
  if (previous) await previous.engine.then((e) => e.dispose()).catch(() => undefined);
  const start = performance.now();
  const engine = (async () => {
    onStep('reading-files');
    // Parsed while the text graph is being read.
    let parsing: Promise<ClipTokenizer> | undefined;
    let files: TextFirstFiles | null = await readTextFirst(spec, source, (bytes) => (parsing = ClipTokenizer.load(bytes)));
    const tokenizer = parsing ?? ClipTokenizer.load(files.tokenizer);
    tokenizer.catch(() => undefined);
    // The engine keeps loadFiles for reopening; a closure over the bytes would keep both graphs
    // alive next to the sessions made from them. They are handed over once, read again if asked
    // again, and freed as each session opens (releaseFiles).
    const loadFiles = async () => {
      const once = files ?? (await readTextFirst(spec, source));
      files = null;
      return once;
    };
    // Text first: a waiting query, or a page whose images are all cached, needs nothing else.
    return ClipEngine.create({ spec, ort, tokenizer: () => tokenizer, prefer: 'wasm', wasmThreads: threads, loadFiles, textFirst: true, releaseFiles: true, onStep: (_backend, step) => onStep(step), onVisionOpening: announceVisionOpening });
  })();
  const opened: Open = { key, engine, openMs: engine.then(() => performance.now() - start) };
  current = opened;
  try {
    await engine;
  } catch (error) {
    if (current === opened) current = null; // the next open tries again
    throw error;
  }
  return { threads, openMs: await opened.openMs };
}

async function engineFor(): Promise<ClipEngine> {
  if (!current) throw new Error('no model is open in the offscreen document');
  return current.engine;
}

async function handle(req: EngineRequest, port: MessagePort): Promise<{ reply: EngineReply; transfer: Transferable[] }> {
  try {
    if (req.op === 'open') {
      // The steps go to the port that asked for this open (another port asking meanwhile waits for its result).
      const report = (step: StartupStep) => port.postMessage({ id: req.id, step } satisfies EngineProgress);
      const task = queue.then(() => openModel(req.spec, req.source, report));
      queue = task.catch(() => undefined);
      return { reply: { id: req.id, ok: true, opened: await task }, transfer: [] };
    }
    const engine = await engineFor();
    if (req.op === 'prepare') throw new Error('the engine worker does not decode images');
    let rows: Float32Array[];
    if (req.op === 'images') {
      try {
        rows = await engine.embedImages(req.pixels, req.count);
      } finally {
        // This worker's own copy (transferred from another process): ORT has copied it into its heap.
        releaseBuffer(req.pixels.buffer);
      }
    } else rows = await engine.embedTexts(req.texts);
    return { reply: { id: req.id, ok: true, rows }, transfer: rows.map((r) => r.buffer) };
  } catch (error) {
    return { reply: { id: req.id, ok: false, error: describe(error) }, transfer: [] };
  }
}

const tellDocument = (note: WorkerNote) => postMessage(note);

// Unused for IDLE_CLOSE_MS: the document asks the service worker to close it (only the worker
// may), which frees the model's memory; the next request creates a new one. Asked again every
// IDLE_CLOSE_MS, since the worker keeps the document while a popup is open (document.ts).
let working = 0;
let idleTimer: ReturnType<typeof setTimeout> | undefined;
function idleAgain(): void {
  clearTimeout(idleTimer);
  if (working > 0) return;
  idleTimer = setTimeout(() => {
    tellDocument({ type: 'idle' });
    idleAgain();
  }, IDLE_CLOSE_MS);
}

/** Serves one service worker's engine channel (the document hands each port on as it arrives). */
function serve(port: MessagePort): void {
  port.onmessage = async (e: MessageEvent<EngineRequest>) => {
    working++;
    idleAgain();
    try {
      const { reply, transfer } = await handle(e.data, port);
      port.postMessage(reply, transfer);
      // A run's inputs, an opened graph's bytes.
      collectReleasedSoon();
    } finally {
      working--;
      idleAgain();
    }
  };
}

addEventListener('message', (event: MessageEvent) => {
  const port = event.ports[0];
  if (port) serve(port);
});
// The document hands over ports only after this: a worker whose script failed to load never says it.
tellDocument({ type: 'ready', crossOriginIsolated: globalThis.crossOriginIsolated, threads });
