// Where images are decoded and preprocessed for the model: in a worker, so that the
// background's event loop stays free for messages and the engine's thread for inference. In
// Chrome the service worker cannot start Workers, so a worker of the offscreen document does it
// (decode-client.ts); Firefox's event page is a page and starts one itself. Where neither works,
// it happens here, one image at a time: a full-size decode holds the picture several times
// over, and one at a time bounds that memory and the core it takes from inference.
import { Limiter } from '../concurrency';
import { describe } from '../errors';
import { ImageDecodeError } from '../engine/decode';
import { prepareImage, type PreparedImage } from '../engine/prepare-image';
import type { PreprocessSpec } from '../engine/preprocess';
import { OffscreenPreparer, type ImageFile, type ImagePreparer } from '../offscreen/decode-client';
import { offscreenAvailable } from '../offscreen/document';
import type { EngineReply, EngineRequest } from '../offscreen/protocol';

const here = new Limiter(1);
const prepareHere: ImagePreparer = { prepare: (file, spec) => here.run(() => prepareImage(file.blob, spec)) };

/** The decode worker (decode-worker.ts) started by this page itself; `fallback` decodes if it cannot start. */
class PagePreparer implements ImagePreparer {
  private readonly pending = new Map<number, { resolve(reply: EngineReply): void }>();
  private nextId = 1;
  private port: MessagePort | null = null;
  private failed = false;

  constructor(private readonly fallback: ImagePreparer) {}

  async prepare(file: ImageFile, spec: PreprocessSpec): Promise<PreparedImage> {
    const port = this.failed ? null : this.start();
    if (!port) return this.fallback.prepare(file, spec);
    const id = this.nextId++;
    const { bytes } = file;
    // Transferred, not copied (a view of part of a buffer is copied out first).
    const sent = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
    const reply = await new Promise<EngineReply>((resolve) => {
      this.pending.set(id, { resolve });
      const request: EngineRequest = { id, op: 'prepare', bytes: sent, type: file.blob.type, spec };
      port.postMessage(request, [sent.buffer]);
    });
    if (!reply.ok) throw reply.refused ? new ImageDecodeError(reply.error) : new Error(reply.error);
    if (!('prepared' in reply)) throw new Error('the decode worker answered without pixels');
    return reply.prepared;
  }

  private start(): MessagePort | null {
    if (this.port) return this.port;
    let worker: Worker;
    try {
      worker = new Worker(new URL('../offscreen/decode-worker.ts', import.meta.url), { type: 'module', name: 'lens-decode' });
    } catch (error) {
      this.giveUp(`the decode worker cannot start: ${describe(error)}`);
      return null;
    }
    worker.addEventListener('error', (event: ErrorEvent) => this.giveUp(`the decode worker failed: ${event.message || 'script error'}`));
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = (e: MessageEvent<EngineReply>) => {
      const waiter = this.pending.get(e.data.id);
      this.pending.delete(e.data.id);
      waiter?.resolve(e.data);
    };
    worker.postMessage(null, [port2]);
    return (this.port = port1);
  }

  /** From now on images are decoded here; those waiting on the worker fail with the reason. */
  private giveUp(reason: string): void {
    console.warn(`${reason}; decoding in the background page instead`);
    this.failed = true;
    this.port = null;
    for (const [id, waiter] of this.pending) waiter.resolve({ id, ok: false, error: reason });
    this.pending.clear();
  }
}

export function createImagePreparer(): ImagePreparer {
  if (offscreenAvailable()) return new OffscreenPreparer(prepareHere);
  return typeof Worker === 'function' ? new PagePreparer(prepareHere) : prepareHere;
}
