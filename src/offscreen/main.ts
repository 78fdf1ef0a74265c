// The offscreen document (Chrome only): runs the WASM engine with threads. A Chrome service
// worker cannot start Workers, so onnxruntime-web runs on one thread there; this extension page
// is cross-origin isolated (manifest: cross_origin_opener_policy + cross_origin_embedder_policy),
// so ORT may start its thread pool here. The worker keeps WebGPU, if any, and everything else.
//
// The document holds one model at a time and outlives service-worker restarts: a worker that
// starts again reconnects and finds the model already open.

import * as ort from 'onnxruntime-web';
import { ClipEngine } from '../engine/session';
import { describe } from '../errors';
import { ClipTokenizer } from '../engine/tokenizer';
import { loadBundledModel, readStoredModel, type ModelFiles } from '../engine/hub/model-files';
import { CacheStorageModelStore } from '../engine/hub/store-cache';
import type { ModelSpec } from '../engine/types';
import { CONNECT, IDLE, IDLE_CLOSE_MS, wasmThreadCount, type EngineReply, type EngineRequest, type ModelSource, type OpenedEngine } from './protocol';

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

function readFiles(spec: ModelSpec, source: ModelSource): Promise<ModelFiles> {
  if (source.kind === 'bundled') return loadBundledModel(spec, source.baseUrl, 'wasm');
  // The worker downloads (with progress in the popup) before it asks; downloading here as
  // well could race it on the same partial entries, so this only reads.
  return readStoredModel(spec, 'wasm', { store: new CacheStorageModelStore() });
}

async function openModel(spec: ModelSpec, source: ModelSource): Promise<OpenedEngine> {
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
    const files = await readFiles(spec, source);
    const tokenizer = await ClipTokenizer.load(files.tokenizer);
    return ClipEngine.create({ spec, ort, tokenizer, prefer: 'wasm', wasmThreads: threads, loadFiles: async () => files });
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

async function handle(req: EngineRequest): Promise<{ reply: EngineReply; transfer: Transferable[] }> {
  try {
    if (req.op === 'open') {
      const task = queue.then(() => openModel(req.spec, req.source));
      queue = task.catch(() => undefined);
      return { reply: { id: req.id, ok: true, opened: await task }, transfer: [] };
    }
    const engine = await engineFor();
    const rows = req.op === 'images' ? await engine.embedImages(req.pixels, req.count) : await engine.embedTexts(req.texts);
    return { reply: { id: req.id, ok: true, rows }, transfer: rows.map((r) => r.buffer) };
  } catch (error) {
    return { reply: { id: req.id, ok: false, error: describe(error) }, transfer: [] };
  }
}

// Unused for IDLE_CLOSE_MS: ask the worker to close this document (only the worker may), which
// frees the model's memory; the next request creates a new one.
let working = 0;
let idleTimer: ReturnType<typeof setTimeout> | undefined;
function idleAgain(): void {
  clearTimeout(idleTimer);
  if (working > 0) return;
  idleTimer = setTimeout(() => {
    const runtime = (globalThis as { chrome?: { runtime?: { sendMessage(m: unknown): Promise<unknown> } } }).chrome?.runtime;
    runtime?.sendMessage({ type: IDLE }).catch(() => undefined);
  }, IDLE_CLOSE_MS);
}

navigator.serviceWorker.addEventListener('message', (event: MessageEvent) => {
  const port = event.ports[0];
  if (event.data !== CONNECT || !port) return;
  port.onmessage = async (e: MessageEvent<EngineRequest>) => {
    working++;
    idleAgain();
    try {
      const { reply, transfer } = await handle(e.data);
      port.postMessage(reply, transfer);
    } finally {
      working--;
      idleAgain();
    }
  };
});
// Messages the worker sent before this listener existed wait in the client message queue.
navigator.serviceWorker.startMessages();
