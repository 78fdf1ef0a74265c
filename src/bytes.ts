// Byte helpers shared by the engine (model verification), the background (content hashes)
// and the codecs. No extension APIs: Node tests and the CLI use the same code.

/** One array holding the parts in order; a single part is returned as is (no copy). */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function hex(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let out = '';
  for (const b of view) out += b.toString(16).padStart(2, '0');
  return out;
}

/** Lower-case hex SHA-256: the content hash that names an image's embedding and checks model files. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return hex(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

/** Git's blob id: SHA-1 of `blob <size>\0<content>`; what the tree API reports for non-LFS files. */
export async function gitBlobOid(bytes: Uint8Array): Promise<string> {
  const header = new TextEncoder().encode(`blob ${bytes.length}\0`);
  const all = concatBytes([header, bytes]);
  return hex(await crypto.subtle.digest('SHA-1', all as Uint8Array<ArrayBuffer>));
}

/**
 * Frees an ArrayBuffer's memory for a buffer nothing will read again (a worker's copy of a
 * message's bytes once used, a model file once its session holds the weights, pixels read back
 * from a canvas): every view of it reads as empty from then on. A buffer this script allocated
 * goes at once. One the browser allocated (a fetched body, bytes that arrived in a message, a
 * canvas read-back) is only detached: the browser's own reference keeps its memory until the
 * context's next full collection after nothing refers to it any more, which a worker that
 * allocates little in JS may not run for seconds, holding hundreds of megabytes meanwhile
 * (bench/README.md). Such a worker calls collectReleased (or collectReleasedSoon) once those
 * references are gone. Where `ArrayBuffer.prototype.transfer` is missing (Node 20) it is detached
 * by a structured clone. A SharedArrayBuffer, or a buffer already detached, is left as it is.
 */
export function releaseBuffer(buffer: ArrayBufferLike): void {
  if (!(buffer instanceof ArrayBuffer) || buffer.byteLength === 0) return;
  releasedSinceCollection += buffer.byteLength;
  detach(buffer);
}

/** Released bytes (see releaseBuffer) from which collectReleased asks for a collection. */
export const RECLAIM_AFTER_BYTES = 16 * 2 ** 20;

/**
 * The allocation collectReleased makes: well over the growth of the memory V8's heap holds
 * outside itself (array buffers) past which V8 starts a collection.
 */
const OVER_EXTERNAL_MEMORY_LIMIT_BYTES = 256 * 2 ** 20;

let releasedSinceCollection = 0;
let collectionsPrompted = 0;

/**
 * Asks the JS engine for a full collection when RECLAIM_AFTER_BYTES or more were released since
 * the last, which frees the browser-allocated buffers among them. For a moment when nothing
 * refers to them any more: a worker calls it after the reply to the request that used them. An
 * ArrayBuffer over V8's external-memory limit is allocated and freed at once: never written, its
 * pages are only reserved, never made resident, so it costs address space for a moment and no
 * memory. Where the allocation fails, or an engine starts no collection for it, the memory waits
 * for the engine's own next collection, as it would without this.
 */
export function collectReleased(): void {
  if (releasedSinceCollection < RECLAIM_AFTER_BYTES) return;
  releasedSinceCollection = 0;
  collectionsPrompted++;
  try {
    detach(new ArrayBuffer(OVER_EXTERNAL_MEMORY_LIMIT_BYTES));
  } catch {
    // No address space for it: the collection comes when the engine decides.
  }
}

/**
 * collectReleased in a task of its own: once the current task has ended, and with it the frames
 * (a message handler's, a run's callers') that still referred to the buffers it released.
 */
export function collectReleasedSoon(): void {
  setTimeout(collectReleased);
}

/** How many collections collectReleased has asked for in this context (tests). */
export const promptedCollections = (): number => collectionsPrompted;

function detach(buffer: ArrayBuffer): void {
  const transfer = (buffer as ArrayBuffer & { transfer?(length: number): ArrayBuffer }).transfer;
  if (transfer) transfer.call(buffer, 0);
  else structuredClone(buffer, { transfer: [buffer] });
}
