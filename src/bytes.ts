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
 * Frees an ArrayBuffer's memory now rather than at some later garbage collection: for a buffer
 * nothing will read again (a worker's copy of a message's bytes once used, a model file once its
 * session holds the weights), whose collection could otherwise lag by hundreds of megabytes in a
 * worker that allocates little else. Every view of it reads as empty from then on. Where
 * `ArrayBuffer.prototype.transfer` is missing (Node 20) it is only detached, and freed when
 * collected. A SharedArrayBuffer, or a buffer already detached, is left as it is.
 */
export function releaseBuffer(buffer: ArrayBufferLike): void {
  if (!(buffer instanceof ArrayBuffer) || buffer.byteLength === 0) return;
  const transfer = (buffer as ArrayBuffer & { transfer?(length: number): ArrayBuffer }).transfer;
  if (transfer) transfer.call(buffer, 0);
  else structuredClone(buffer, { transfer: [buffer] });
}
