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
