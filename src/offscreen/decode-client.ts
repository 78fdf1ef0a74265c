// The service worker's end of the channel to the offscreen document's decode worker
// (decode-worker.ts): each image file's bytes go there, transferred, and its model input and
// preview come back, so the service worker only fetches, hashes and routes. The document is the
// engine's (created here if the engine has not yet); one that closes is created again on the
// next image, and where none can be had the caller's own decoding takes over.

import type { PreparedImage } from '../engine/prepare-image';
import type { PreprocessSpec } from '../engine/preprocess';
import { Connection, DocumentGone, WorkerUnavailable } from './client';
import { ensureDocument } from './document';
import { CONNECT_DECODE } from './protocol';

/** An image file as fetched: the Blob stays readable; the bytes' buffer may be transferred away. */
export interface ImageFile {
  blob: Blob;
  bytes: Uint8Array;
}

export interface ImagePreparer {
  /** Decodes one image file once: model input for `spec` and a preview. */
  prepare(file: ImageFile, spec: PreprocessSpec): Promise<PreparedImage>;
}

export class OffscreenPreparer implements ImagePreparer {
  private connection: Promise<Connection> | null = null;
  /** Set once the document could not be had: from then on `fallback` decodes. */
  private unavailable = false;

  constructor(private readonly fallback: ImagePreparer) {}

  async prepare(file: ImageFile, spec: PreprocessSpec): Promise<PreparedImage> {
    for (let attempt = 0; ; attempt++) {
      if (this.unavailable) return this.fallback.prepare(file, spec);
      const connecting = this.connect();
      let connection: Connection;
      try {
        connection = await connecting;
      } catch (error) {
        console.warn(`offscreen decoding unavailable, decoding in the background instead: ${String(error)}`);
        this.unavailable = true;
        continue;
      }
      // Transferred, not copied; a retry reads the Blob again. A view of part of a buffer is copied out first.
      const { bytes } = file;
      const sent = attempt === 0 && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(await file.blob.arrayBuffer());
      try {
        const reply = await connection.request((id) => ({ id, op: 'prepare', bytes: sent, type: file.blob.type, spec }), [sent.buffer]);
        if (!('prepared' in reply)) throw new Error('the decode worker answered without pixels');
        return reply.prepared;
      } catch (error) {
        if (error instanceof WorkerUnavailable) {
          console.warn(`offscreen decoding unavailable, decoding in the background instead: ${error.message}`);
          this.unavailable = true;
          continue;
        }
        if (!(error instanceof DocumentGone) || attempt > 0) throw error;
        if (this.connection === connecting) this.connection = null;
      }
    }
  }

  private connect(): Promise<Connection> {
    const connecting = (this.connection ??= ensureDocument().then((documentId) => Connection.open(documentId, CONNECT_DECODE)));
    connecting.catch(() => {
      if (this.connection === connecting) this.connection = null;
    });
    return connecting;
  }
}
