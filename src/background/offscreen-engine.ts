// Which engine the background uses, and in Chrome where its WASM half runs.
//
// A Chrome service worker cannot start Workers, so onnxruntime-web's WASM backend runs on one
// thread there. An offscreen document can (the manifest makes extension pages cross-origin
// isolated), and on a 2-core machine two threads took the MobileCLIP-S0 towers to about half
// the time, while moving a batch of pixels there and the embeddings back costs ~10 ms (README,
// Performance). So in Chrome:
//   - WASM runs in the offscreen document with a thread per core (src/offscreen/main.ts);
//   - WebGPU, if any, stays in the service worker, where it has always run;
//   - 'auto' answers from WASM at once and switches to WebGPU once it has warmed up, and a
//     failing WebGPU falls back to WASM, as ClipEngine does within one context;
//   - a document that cannot be created falls back to single-threaded WASM in the worker, and
//     one that was closed is created again on the next request. (A crash is not the document's
//     alone: it shares the extension's renderer process with the worker and the popup.)
// Firefox has no offscreen documents (and no SharedArrayBuffer in its event page): there, and
// wherever the offscreen API is missing, one ClipEngine runs in the background as before.

import { ClipEngine, type OrtModule } from '../engine/session';
import { Mutex } from '../concurrency';
import { describe } from '../errors';
import type { Backend, ModelBytes, ModelSpec } from '../engine/types';
import { CONNECT, IDLE, OFFSCREEN_PATH, type EngineReply, type EngineRequest, type ModelSource, type OpenedEngine } from '../offscreen/protocol';

declare const __TARGET__: 'chrome' | 'firefox';

/** What the background needs of an engine. */
export interface Embedder {
  /** The backend answering requests now. */
  readonly backend: Backend;
  /** WASM threads of the engine answering now; null while WebGPU answers. */
  readonly threads: number | null;
  /** Raw image_embeds rows for `count` CHW float32 images (as ClipEngine.embedImages). */
  embedImages(pixelValues: Float32Array, count: number): Promise<Float32Array[]>;
  /** Raw text_embeds rows, one per text. */
  embedTexts(texts: string[]): Promise<Float32Array[]>;
  dispose(): Promise<void>;
}

export interface EngineOptions {
  spec: ModelSpec;
  /** The worker's ORT module (WebGPU here, and the single-threaded WASM fallback). */
  ort: OrtModule;
  /** A separate ORT module for WASM in the worker, so it answers while WebGPU compiles (see ClipEngine). */
  wasmOrt?: OrtModule;
  tokenizer: { tokenizeBatch(texts: string[], contextLength?: number): BigInt64Array };
  prefer: 'auto' | 'webgpu' | 'wasm';
  /** Model files for a backend, downloaded into the model store first if need be. */
  loadFiles(backend: Backend): Promise<{ vision: ModelBytes; text: ModelBytes }>;
  /** Where the offscreen document reads the WASM files from, once loadFiles('wasm') has made sure of them. */
  source: ModelSource;
  /** The backend or thread count answering requests changed (including the first choice). */
  onBackendChange?(backend: Backend, reason: string, threads: number | null): void;
}

export async function createEngine(o: EngineOptions): Promise<Embedder> {
  if (__TARGET__ === 'chrome' && chromeApi()?.offscreen && chromeApi()?.runtime.getContexts) return SplitEngine.create(o);
  const { spec, ort, wasmOrt, tokenizer, prefer, loadFiles, onBackendChange } = o;
  const engine = await ClipEngine.create({
    spec,
    ort,
    wasmOrt,
    tokenizer,
    prefer,
    loadFiles,
    wasmThreads: 1,
    onBackendChange: (backend, reason) => onBackendChange?.(backend, reason, backend === 'wasm' ? 1 : null),
  });
  return local(engine);
}

/** A ClipEngine in this context: its WASM is single-threaded. */
function local(engine: ClipEngine): Embedder {
  return {
    get backend() {
      return engine.backend;
    },
    get threads() {
      return engine.backend === 'wasm' ? 1 : null;
    },
    embedImages: (pixels, count) => engine.embedImages(pixels, count),
    embedTexts: (texts) => engine.embedTexts(texts),
    dispose: () => engine.dispose(),
  };
}

// ---------------------------------------------------------------------------------------------
// Chrome APIs the webextension-polyfill types do not cover

interface ChromeApi {
  offscreen?: {
    createDocument(p: { url: string; reasons: string[]; justification: string }): Promise<void>;
    closeDocument(): Promise<void>;
  };
  runtime: {
    getURL(path: string): string;
    getContexts?(filter: { contextTypes?: string[]; documentUrls?: string[] }): Promise<{ documentId?: string }[]>;
    onMessage: { addListener(fn: (message: unknown, sender: { url?: string }) => undefined): void };
  };
}

function chromeApi(): ChromeApi | undefined {
  return (globalThis as { chrome?: ChromeApi }).chrome;
}

// ---------------------------------------------------------------------------------------------
// The offscreen document (an extension has at most one)

/** The document's id if it exists. */
async function liveDocument(): Promise<string | undefined> {
  const api = chromeApi()!;
  const contexts = await api.runtime.getContexts!({ contextTypes: ['OFFSCREEN_DOCUMENT'], documentUrls: [api.runtime.getURL(OFFSCREEN_PATH)] });
  return contexts[0]?.documentId;
}

// Creating and closing go one at a time: a second createDocument while one exists throws.
const documentLock = new Mutex();
const serially = <T>(fn: () => Promise<T>): Promise<T> => documentLock.run(fn);

/** The document's id, creating it if there is none. */
function ensureDocument(): Promise<string> {
  return serially(async () => {
    const existing = await liveDocument();
    if (existing) return existing;
    const api = chromeApi()!;
    await api.offscreen!.createDocument({
      url: api.runtime.getURL(OFFSCREEN_PATH),
      reasons: ['WORKERS'],
      justification: 'Runs the image-search model on WebAssembly threads, which a service worker cannot start.',
    });
    const created = await liveDocument();
    if (!created) throw new Error('the offscreen document closed right after it was created');
    return created;
  });
}

/** Closes the document if it is still the one with this id (a newer one belongs to someone else). */
function closeDocument(documentId: string): Promise<void> {
  return serially(async () => {
    if ((await liveDocument()) === documentId) await chromeApi()!.offscreen!.closeDocument();
  });
}

/** Connections of this worker, so a document closed here fails its requests at once instead of at the next poll. */
const connections = new Set<Connection>();

// The document asks to be closed when it has been idle (see IDLE). Registered at the top level,
// as listeners must be, so that the message also reaches a worker it wakes.
if (__TARGET__ === 'chrome' && chromeApi()?.offscreen) {
  chromeApi()!.runtime.onMessage.addListener((msg, sender) => {
    if ((msg as { type?: unknown } | null)?.type !== IDLE || sender.url !== chromeApi()!.runtime.getURL(OFFSCREEN_PATH)) return undefined;
    // (Chrome gives no documentId for an offscreen sender; there is one such document at most.)
    void liveDocument().then(async (documentId) => {
      // A request sent meanwhile keeps it: the document asks again once idle.
      if (!documentId || [...connections].some((c) => c.documentId === documentId && c.busy)) return;
      for (const c of connections) if (c.documentId === documentId) c.close('the offscreen document was closed when idle');
      await closeDocument(documentId);
    }).catch(() => undefined);
    return undefined;
  });
}

/** The document went away (closed, or reloaded) with requests unanswered. */
class DocumentGone extends Error {
  override readonly name = 'DocumentGone';
}

const LIVENESS_POLL_MS = 1000;
const FIND_CLIENT_ATTEMPTS = 50;
const FIND_CLIENT_DELAY_MS = 100;

/** A MessagePort to the document, with replies matched to requests by id. */
class Connection {
  private readonly pending = new Map<number, { resolve(reply: EngineReply): void; reject(error: Error): void }>();
  private nextId = 1;
  private poll: ReturnType<typeof setInterval> | null = null;
  private closed = false;

  private constructor(
    private readonly port: MessagePort,
    readonly documentId: string,
  ) {
    port.onmessage = (e: MessageEvent<EngineReply>) => {
      const waiter = this.pending.get(e.data.id);
      if (!waiter) return;
      this.pending.delete(e.data.id);
      if (this.pending.size === 0) this.stopPolling();
      waiter.resolve(e.data);
    };
    connections.add(this);
  }

  /** Requests are waiting for answers. */
  get busy(): boolean {
    return this.pending.size > 0;
  }

  /** Hands the document a port. It is among the worker's clients once createDocument has resolved; the retries cover a slow start. */
  static async open(documentId: string): Promise<Connection> {
    const url = chromeApi()!.runtime.getURL(OFFSCREEN_PATH);
    const scope = globalThis as unknown as ServiceWorkerGlobalScope;
    for (let attempt = 0; attempt < FIND_CLIENT_ATTEMPTS; attempt++) {
      const client = (await scope.clients.matchAll({ includeUncontrolled: true, type: 'window' })).find((c) => c.url === url);
      if (client) {
        const { port1, port2 } = new MessageChannel();
        client.postMessage(CONNECT, [port2]);
        return new Connection(port1, documentId);
      }
      await new Promise((r) => setTimeout(r, FIND_CLIENT_DELAY_MS));
    }
    throw new Error('the offscreen document is not among the service worker’s clients');
  }

  /** Sends a request; rejects with DocumentGone if the document disappears before answering. */
  async request(make: (id: number) => EngineRequest, transfer: Transferable[] = []): Promise<EngineReply & { ok: true }> {
    if (this.closed) throw new DocumentGone('the offscreen document was closed');
    const id = this.nextId++;
    const reply = await new Promise<EngineReply>((resolve, reject) => {
      try {
        this.port.postMessage(make(id), transfer);
      } catch (error) {
        reject(error); // e.g. a buffer that cannot be cloned: nothing was sent
        return;
      }
      this.pending.set(id, { resolve, reject });
      this.startPolling();
    });
    if (!reply.ok) throw new Error(reply.error);
    return reply;
  }

  /** Ends the connection; waiting requests fail with DocumentGone. */
  close(reason = 'the connection to the offscreen document was closed'): void {
    this.closed = true;
    connections.delete(this);
    this.stopPolling();
    this.port.close();
    const waiters = [...this.pending.values()];
    this.pending.clear();
    for (const w of waiters) w.reject(new DocumentGone(reason));
  }

  // A MessagePort says nothing when the other side is gone, so while requests wait, the
  // document's existence is checked (each check also keeps the worker from idling out
  // while the document computes).
  private startPolling(): void {
    this.poll ??= setInterval(() => {
      liveDocument().then(
        (id) => {
          if (id !== this.documentId) this.close('the offscreen document closed before answering');
        },
        () => undefined,
      );
    }, LIVENESS_POLL_MS);
  }

  private stopPolling(): void {
    if (this.poll !== null) clearInterval(this.poll);
    this.poll = null;
  }
}

// ---------------------------------------------------------------------------------------------
// WASM in the offscreen document

/** WASM inference in the offscreen document; single-threaded in the worker when the document cannot be had. */
class OffscreenWasm implements Embedder {
  readonly backend = 'wasm';
  threads = 1;
  private connection: Promise<Connection> | null = null;
  private fallback: Promise<ClipEngine> | null = null;
  private disposed = false;

  constructor(
    private readonly o: EngineOptions,
    /** Called when the thread count changes after start (the fallback took over). */
    private readonly onThreads: (threads: number, reason: string) => void,
  ) {}

  /** Resolves once one of the two can answer. */
  async start(): Promise<void> {
    try {
      await this.connect();
    } catch (error) {
      await this.fallBack(error);
    }
  }

  embedImages(pixels: Float32Array, count: number): Promise<Float32Array[]> {
    return this.run(
      (c) => {
        // A copy to transfer: the caller's array stays usable (and intact for a retry).
        const copy = pixels.slice();
        return c.request((id) => ({ id, op: 'images', pixels: copy, count }), [copy.buffer]);
      },
      (engine) => engine.embedImages(pixels, count),
    );
  }

  embedTexts(texts: string[]): Promise<Float32Array[]> {
    return this.run(
      (c) => c.request((id) => ({ id, op: 'texts', texts })),
      (engine) => engine.embedTexts(texts),
    );
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const connection = await this.connection?.catch(() => undefined);
    if (connection) {
      connection.close();
      // Closing the document frees the model: a WASM heap never shrinks, a closed page's does.
      await closeDocument(connection.documentId).catch(() => undefined);
    }
    await this.fallback?.then((e) => e.dispose()).catch(() => undefined);
  }

  private async run(remote: (c: Connection) => Promise<EngineReply & { ok: true }>, inWorker: (e: ClipEngine) => Promise<Float32Array[]>): Promise<Float32Array[]> {
    for (let attempt = 0; ; attempt++) {
      if (this.disposed) throw new Error('the engine has been disposed');
      if (this.fallback) return inWorker(await this.fallback);
      const connecting = this.connect();
      let connection: Connection;
      try {
        connection = await connecting;
      } catch (error) {
        await this.fallBack(error);
        continue;
      }
      try {
        const reply = await remote(connection);
        if (!('rows' in reply)) throw new Error('the offscreen document answered without embeddings');
        return reply.rows;
      } catch (error) {
        if (!(error instanceof DocumentGone)) throw error;
        // Closed: the next attempt (or request) opens a new document. A second loss in one
        // request gives up, so a document that dies of this very input is not recreated forever.
        if (this.connection === connecting) this.connection = null;
        if (attempt > 0) throw error;
      }
    }
  }

  /** The open connection, or a new document (or the existing one after a worker restart) with the model opened. */
  private connect(): Promise<Connection> {
    const { spec, source } = this.o;
    const connecting = (this.connection ??= (async () => {
      // Makes sure the files are in the model store (a download shows progress in the popup).
      if (source.kind === 'store') await this.o.loadFiles('wasm');
      const documentId = await ensureDocument();
      const connection = await Connection.open(documentId);
      try {
        const { opened } = (await connection.request((id) => ({ id, op: 'open', spec, source }))) as { opened: OpenedEngine };
        this.threads = opened.threads;
        return connection;
      } catch (error) {
        connection.close();
        throw error;
      }
    })());
    connecting.catch(() => {
      if (this.connection === connecting) this.connection = null;
    });
    return connecting;
  }

  private fallBack(cause: unknown): Promise<ClipEngine> {
    if (!this.fallback) {
      const reason = `offscreen document unavailable (${describe(cause)}): WASM on one thread in the service worker`;
      console.warn(reason);
      const { spec, ort, wasmOrt, tokenizer, loadFiles } = this.o;
      const fallback = (this.fallback = ClipEngine.create({ spec, ort, wasmOrt, tokenizer, loadFiles, prefer: 'wasm', wasmThreads: 1 }));
      fallback.then(
        () => {
          this.threads = 1;
          this.onThreads(1, reason);
        },
        () => {
          if (this.fallback === fallback) this.fallback = null; // the next request tries the document again
        },
      );
    }
    return this.fallback;
  }
}

// ---------------------------------------------------------------------------------------------
// WebGPU here, WASM there

/** Thrown by the WebGPU engine's loadFiles('wasm'): its WASM fallback is the offscreen engine, not one of its own. */
const WASM_ELSEWHERE = 'WASM runs in the offscreen document';

class SplitEngine implements Embedder {
  private current!: Embedder;
  private wasmEngine: Promise<OffscreenWasm> | null = null;
  private gpu: Embedder | null = null;
  private gpuFailed = false;
  private fallingBack: Promise<void> | null = null;
  private disposed = false;

  private constructor(private readonly o: EngineOptions) {}

  static async create(o: EngineOptions): Promise<SplitEngine> {
    const engine = new SplitEngine(o);
    await engine.start();
    return engine;
  }

  get backend(): Backend {
    return this.current.backend;
  }

  get threads(): number | null {
    return this.current.threads;
  }

  embedImages(pixels: Float32Array, count: number): Promise<Float32Array[]> {
    return this.withFallback((e) => e.embedImages(pixels, count));
  }

  embedTexts(texts: string[]): Promise<Float32Array[]> {
    return this.withFallback((e) => e.embedTexts(texts));
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await Promise.allSettled([this.gpu?.dispose(), this.wasmEngine?.then((w) => w.dispose())]);
  }

  private async start(): Promise<void> {
    const { prefer } = this.o;
    if (prefer === 'wasm') return this.use(await this.wasm(), 'WASM requested');
    const gpu = this.openGpu();
    if (prefer === 'webgpu') {
      try {
        return this.use(await gpu, 'WebGPU requested');
      } catch (error) {
        return this.use(await this.wasm(), `WebGPU failed to start: ${describe(error)}`);
      }
    }
    // auto: both start at once, in two processes, so neither waits for the other; the first
    // ready answers, and WebGPU takes over once warm.
    const wasm = this.wasm();
    wasm.catch(() => undefined); // kept as the fallback if WebGPU wins; its failure shows when it is needed
    const first = await Promise.any([wasm, gpu]).catch(() => wasm); // both failed: the WASM error
    if (first.backend === 'webgpu') return this.use(first, 'WebGPU warmed up first');
    this.use(first, 'WASM ready; WebGPU warming up');
    gpu.then(
      (engine) => {
        if (this.disposed || this.gpuFailed) void engine.dispose();
        else this.use(engine, 'WebGPU warmed up');
      },
      () => undefined,
    );
  }

  private wasm(): Promise<OffscreenWasm> {
    if (!this.wasmEngine) {
      const opening = (this.wasmEngine = (async () => {
        const engine = new OffscreenWasm(this.o, (threads, reason) => {
          if (this.current === engine) this.o.onBackendChange?.('wasm', reason, threads);
        });
        await engine.start();
        return engine;
      })());
      opening.catch(() => {
        if (this.wasmEngine === opening) this.wasmEngine = null; // the next need tries again
      });
    }
    return this.wasmEngine;
  }

  private async openGpu(): Promise<Embedder> {
    const { spec, ort, tokenizer, loadFiles } = this.o;
    try {
      const engine = await ClipEngine.create({
        spec,
        ort,
        tokenizer,
        prefer: 'webgpu',
        loadFiles: (backend) => (backend === 'webgpu' ? loadFiles('webgpu') : Promise.reject(new Error(WASM_ELSEWHERE))),
      });
      this.gpu = local(engine);
      return this.gpu;
    } catch (error) {
      this.gpuFailed = true;
      // ClipEngine reports its own WASM fallback's error when WebGPU cannot start.
      throw new Error(describe(error) === WASM_ELSEWHERE ? 'WebGPU is not available' : describe(error), { cause: error });
    }
  }

  private use(engine: Embedder, reason: string): void {
    if (this.current === engine) return;
    this.current = engine;
    try {
      this.o.onBackendChange?.(engine.backend, reason, engine.threads);
    } catch {
      // A listener's bug must not break the engine.
    }
  }

  /** Runs op on the current engine; a WebGPU failure switches to WASM for good and retries there. */
  private async withFallback<T>(op: (engine: Embedder) => Promise<T>): Promise<T> {
    if (this.disposed) throw new Error('the engine has been disposed');
    const engine = this.current;
    try {
      return await op(engine);
    } catch (error) {
      if (engine.backend !== 'webgpu' || this.disposed) throw error;
      await this.abandonGpu(`WebGPU run failed: ${describe(error)}`);
      return op(this.current);
    }
  }

  private abandonGpu(reason: string): Promise<void> {
    this.fallingBack ??= (async () => {
      this.gpuFailed = true;
      const gpu = this.gpu;
      this.gpu = null;
      this.use(await this.wasm(), reason);
      await gpu?.dispose().catch(() => undefined);
    })();
    return this.fallingBack;
  }
}
