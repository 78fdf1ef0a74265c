// The offscreen document (Chrome only): a home for the engine worker. A Chrome service worker
// cannot start Workers, so onnxruntime-web would run on one thread there; this extension page
// is cross-origin isolated (manifest: cross_origin_opener_policy + cross_origin_embedder_policy)
// and may start them. The engine runs in a dedicated Worker (engine-worker.ts), not on this
// page's main thread: that thread is shared with the popup and every other extension page of the
// renderer process, which would freeze for as long as a batch runs.
//
// This page only hands each service-worker port on to the engine worker and relays the
// worker's "idle" to the service worker (a Worker has no chrome.runtime). If the engine worker
// cannot start, requests are answered with that error, so the service worker falls back to WASM
// of its own instead of waiting.

import { CONNECT, IDLE, type EngineReply, type EngineRequest, type WorkerNote } from './protocol';

const engine = new Worker(new URL('./engine-worker.ts', import.meta.url), { type: 'module', name: 'lens-engine' });
let ready = false;
let failure: string | null = null;
/** Ports that arrived before the worker said it runs. */
const waiting: MessagePort[] = [];

function failAll(port: MessagePort, error: string): void {
  port.onmessage = (e: MessageEvent<EngineRequest>) => {
    const reply: EngineReply = { id: e.data.id, ok: false, error };
    port.postMessage(reply);
  };
}

function handOn(port: MessagePort): void {
  if (failure) failAll(port, failure);
  else if (ready) engine.postMessage(null, [port]);
  else waiting.push(port);
}

engine.addEventListener('message', (event: MessageEvent<WorkerNote>) => {
  const note = event.data;
  if (note.type === 'ready') {
    ready = true;
    for (const port of waiting.splice(0)) handOn(port);
  } else if (note.type === 'idle') {
    const runtime = (globalThis as { chrome?: { runtime?: { sendMessage(m: unknown): Promise<unknown> } } }).chrome?.runtime;
    runtime?.sendMessage({ type: IDLE }).catch(() => undefined);
  }
});
engine.addEventListener('error', (event: ErrorEvent) => {
  if (ready) return; // a late script error: the worker answers each request itself
  failure = `the engine worker did not start: ${event.message || 'script error'}`;
  for (const port of waiting.splice(0)) handOn(port);
});

navigator.serviceWorker.addEventListener('message', (event: MessageEvent) => {
  const port = event.ports[0];
  if (event.data === CONNECT && port) handOn(port);
});
// Messages the service worker sent before this listener existed wait in the client message queue.
navigator.serviceWorker.startMessages();
