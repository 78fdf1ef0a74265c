// The worker's end of the engine channel to the offscreen document (whose end is main.ts), and
// the WASM backend it gives the engine in Chrome.
//
// A Chrome service worker cannot start Workers, so onnxruntime-web's WASM backend runs on one
// thread there. An offscreen document can (the manifest makes extension pages cross-origin
// isolated), and moving a batch of pixels there and the embeddings back costs little against
// the threads it gains (README, Performance). So in Chrome WASM runs in the document, while
// WebGPU, if any, stays in the service worker: ClipEngine's backend policy treats this as its
// WASM provider (`wasmBackend`). A document that cannot be created falls back to
// single-threaded WASM in the worker, and one that was closed is created again on the next
// request. (A crash is not the document's alone: it shares the extension's renderer process
// with the worker and the popup.)

import type { BackendProvider, OpenContext } from '../engine/backend-policy';
import type { EmbeddingBackend } from '../engine/towers';
import type { Backend, ModelSpec } from '../engine/types';
import { describe } from '../errors';
import { closeDocument, documentUrl, documentUsers, ensureDocument, liveDocument, type DocumentUser } from './document';
import { ImageDecodeError } from '../engine/decode';
import type { StartupStep } from '../engine/towers';
import { CONNECT, CONNECT_DECODE, isEngineProgress, type EngineProgress, type EngineReply, type EngineRequest, type ModelSource, type OpenedEngine } from './protocol';

/** The document went away (closed, or reloaded) with requests unanswered. */
export class DocumentGone extends Error {
  override readonly name = 'DocumentGone';
}

/** The document's worker for the request did not start (see offscreen/main.ts). */
export class WorkerUnavailable extends Error {
  override readonly name = 'WorkerUnavailable';
}

const LIVENESS_POLL_MS = 1000;
const FIND_CLIENT_ATTEMPTS = 50;
const FIND_CLIENT_DELAY_MS = 100;

/** A MessagePort to one of the document's workers, with replies matched to requests by id. */
export class Connection implements DocumentUser {
  private readonly pending = new Map<number, { resolve(reply: EngineReply): void; reject(error: Error): void; onStep?(step: StartupStep): void }>();
  private nextId = 1;
  private poll: ReturnType<typeof setInterval> | null = null;
  private closed = false;

  private constructor(
    private readonly port: MessagePort,
    readonly documentId: string,
  ) {
    port.onmessage = (e: MessageEvent<EngineReply | EngineProgress>) => {
      if (isEngineProgress(e.data)) {
        this.pending.get(e.data.id)?.onStep?.(e.data.step);
        return;
      }
      const waiter = this.pending.get(e.data.id);
      if (!waiter) return;
      this.pending.delete(e.data.id);
      if (this.pending.size === 0) this.stopPolling();
      waiter.resolve(e.data);
    };
    documentUsers.add(this);
  }

  get busy(): boolean {
    return this.pending.size > 0;
  }

  /**
   * Hands the document a port for the worker `hello` names (CONNECT: the engine). It is among the
   * service worker's clients once createDocument has resolved; the retries cover a slow start.
   */
  static async open(documentId: string, hello: typeof CONNECT | typeof CONNECT_DECODE = CONNECT): Promise<Connection> {
    const url = documentUrl();
    const scope = globalThis as unknown as ServiceWorkerGlobalScope;
    for (let attempt = 0; attempt < FIND_CLIENT_ATTEMPTS; attempt++) {
      const client = (await scope.clients.matchAll({ includeUncontrolled: true, type: 'window' })).find((c) => c.url === url);
      if (client) {
        const { port1, port2 } = new MessageChannel();
        client.postMessage(hello, [port2]);
        return new Connection(port1, documentId);
      }
      await new Promise((r) => setTimeout(r, FIND_CLIENT_DELAY_MS));
    }
    throw new Error('the offscreen document is not among the service worker’s clients');
  }

  /**
   * Sends a request; rejects with DocumentGone if the document disappears before answering.
   * `onStep` hears the start-up steps an 'open' reports before its reply.
   */
  async request(make: (id: number) => EngineRequest, transfer: Transferable[] = [], onStep?: (step: StartupStep) => void): Promise<EngineReply & { ok: true }> {
    if (this.closed) throw new DocumentGone('the offscreen document was closed');
    const id = this.nextId++;
    const reply = await new Promise<EngineReply>((resolve, reject) => {
      try {
        this.port.postMessage(make(id), transfer);
      } catch (error) {
        reject(error); // e.g. a buffer that cannot be cloned: nothing was sent
        return;
      }
      this.pending.set(id, { resolve, reject, onStep });
      this.startPolling();
    });
    if (!reply.ok) throw reply.refused ? new ImageDecodeError(reply.error) : reply.unavailable ? new WorkerUnavailable(reply.error) : new Error(reply.error);
    return reply;
  }

  /** Ends the connection; waiting requests fail with DocumentGone. */
  close(reason = 'the connection to the offscreen document was closed'): void {
    this.closed = true;
    documentUsers.delete(this);
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

export interface OffscreenWasmOptions {
  spec: ModelSpec;
  /** Where the document reads the WASM files from. */
  source: ModelSource;
  /** Makes sure the document will find the files (a download shows progress); the bytes are not read here. */
  ensureStored(backend: Backend): Promise<void>;
  /** WASM in this worker, for when the document cannot be had. Its rows must be unit-length. */
  inWorker(): Promise<EmbeddingBackend>;
  /** Start-up steps of the sessions the document opens. */
  onStep?(step: StartupStep): void;
}

/** ClipEngine's WASM provider in Chrome: WASM with threads in the offscreen document. */
export function offscreenWasm(options: OffscreenWasmOptions): BackendProvider<EmbeddingBackend> {
  return {
    async open(context) {
      const wasm = new OffscreenWasm(options, context);
      await wasm.start();
      return wasm;
    },
  };
}

/** WASM inference in the offscreen document; single-threaded in the worker when the document cannot be had. */
class OffscreenWasm implements EmbeddingBackend {
  readonly backend = 'wasm';
  threads = 1;
  private connection: Promise<Connection> | null = null;
  private fallback: Promise<EmbeddingBackend> | null = null;
  private disposed = false;

  constructor(
    private readonly o: OffscreenWasmOptions,
    private readonly context: OpenContext,
  ) {}

  /** Resolves once the document or the worker's fallback can answer. */
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

  private async run(
    remote: (c: Connection) => Promise<EngineReply & { ok: true }>,
    inWorker: (e: EmbeddingBackend) => Promise<Float32Array[]>,
  ): Promise<Float32Array[]> {
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
      await this.o.ensureStored('wasm');
      const documentId = await ensureDocument();
      const connection = await Connection.open(documentId);
      try {
        const { opened } = (await connection.request((id) => ({ id, op: 'open', spec, source }), [], this.o.onStep)) as { opened: OpenedEngine };
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

  private fallBack(cause: unknown): Promise<EmbeddingBackend> {
    if (!this.fallback) {
      const reason = `offscreen document unavailable (${describe(cause)}): WASM on one thread in the service worker`;
      console.warn(reason);
      const fallback = (this.fallback = this.o.inWorker());
      fallback.then(
        (engine) => {
          this.threads = engine.threads ?? 1;
          this.context.changed(reason);
        },
        () => {
          if (this.fallback === fallback) this.fallback = null; // the next request tries the document again
        },
      );
    }
    return this.fallback;
  }
}
