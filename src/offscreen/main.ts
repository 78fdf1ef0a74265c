// The offscreen document (Chrome only): a home for the engine worker and the decode worker. A
// Chrome service worker cannot start Workers, so onnxruntime-web would run on one thread there;
// this extension page is cross-origin isolated (manifest: cross_origin_opener_policy +
// cross_origin_embedder_policy) and may start them. The engine runs in a dedicated Worker
// (engine-worker.ts), not on this page's main thread: that thread is shared with the popup and
// every other extension page of the renderer process, which would freeze for as long as a batch
// runs. Images are decoded and preprocessed in another Worker (decode-worker.ts), off the
// service worker's event loop and off the engine's thread.
//
// This page only hands each service-worker port on to its worker and relays the engine
// worker's "idle" to the service worker (a Worker has no chrome.runtime). If a worker cannot
// start, requests on its ports are answered with that error, so the service worker falls back
// to doing the work itself instead of waiting.

import { CONNECT, CONNECT_DECODE, IDLE, type EngineReply, type EngineRequest, type WorkerNote } from './protocol';

/** One worker of this document and the ports waiting for it to run. */
class WorkerHost {
  private ready = false;
  private failure: string | null = null;
  /** Ports that arrived before the worker said it runs. */
  private readonly waiting: MessagePort[] = [];
  private worker: Worker | null = null;

  constructor(
    private readonly name: string,
    private readonly start: () => Worker,
    private readonly onNote: (note: WorkerNote) => void = () => undefined,
  ) {}

  handOn(port: MessagePort): void {
    const worker = this.started();
    if (this.failure) failAll(port, this.failure);
    else if (this.ready) worker.postMessage(null, [port]);
    else this.waiting.push(port);
  }

  /** The worker, started on first use (the decode worker is not needed while WebGPU answers). */
  started(): Worker {
    if (this.worker) return this.worker;
    const worker = (this.worker = this.start());
    worker.addEventListener('message', (event: MessageEvent<WorkerNote>) => {
      if (event.data.type === 'ready') {
        this.ready = true;
        for (const port of this.waiting.splice(0)) this.handOn(port);
      } else this.onNote(event.data);
    });
    worker.addEventListener('error', (event: ErrorEvent) => {
      if (this.ready) return; // a late script error: the worker answers each request itself
      this.failure = `the ${this.name} worker did not start: ${event.message || 'script error'}`;
      for (const port of this.waiting.splice(0)) this.handOn(port);
    });
    return worker;
  }
}

function failAll(port: MessagePort, error: string): void {
  port.onmessage = (e: MessageEvent<EngineRequest>) => {
    const reply: EngineReply = { id: e.data.id, ok: false, error, unavailable: true };
    port.postMessage(reply);
  };
}

const engine = new WorkerHost(
  'engine',
  () => new Worker(new URL('./engine-worker.ts', import.meta.url), { type: 'module', name: 'lens-engine' }),
  (note) => {
    if (note.type !== 'idle') return;
    const runtime = (globalThis as { chrome?: { runtime?: { sendMessage(m: unknown): Promise<unknown> } } }).chrome?.runtime;
    runtime?.sendMessage({ type: IDLE }).catch(() => undefined);
  },
);
const decoder = new WorkerHost('decode', () => new Worker(new URL('./decode-worker.ts', import.meta.url), { type: 'module', name: 'lens-decode' }));
// The engine loads its runtime at once: the document is created when the model is wanted.
engine.started();

navigator.serviceWorker.addEventListener('message', (event: MessageEvent) => {
  const port = event.ports[0];
  if (!port) return;
  if (event.data === CONNECT) engine.handOn(port);
  else if (event.data === CONNECT_DECODE) decoder.handOn(port);
});
// Messages the service worker sent before this listener existed wait in the client message queue.
navigator.serviceWorker.startMessages();
