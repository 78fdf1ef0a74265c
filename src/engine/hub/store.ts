// Where model bytes are kept between downloads: the ModelStore interface the download code writes
// to, and an in-memory implementation. The persistent ones are store-cache.ts (browser Cache
// Storage) and store-fs.ts (Node file system).

/** What survives of an interrupted download. */
export interface PartialDownload {
  /** Identifies the file version the chunks belong to (e.g. `sha256:<hex>`); see `validatorFor`. */
  validator: string;
  /** Received bytes in order, starting at offset 0. */
  chunks: Uint8Array[];
}

/**
 * Byte storage for model files, keyed by opaque strings such as `mobileclip-s0@main/onnx/x.onnx`.
 * Complete entries only ever hold verified bytes; partial entries hold an unfinished download.
 */
export interface ModelStore {
  get(key: string): Promise<Uint8Array | undefined>;
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** Removes the complete entry and any partial one. */
  delete(key: string): Promise<void>;
  getPartial(key: string): Promise<PartialDownload | undefined>;
  /** Starts (or restarts) a partial entry, dropping any chunks stored for the key before. */
  startPartial(key: string, validator: string): Promise<void>;
  /** Appends bytes to the partial entry created by startPartial. */
  appendPartial(key: string, chunk: Uint8Array): Promise<void>;
  deletePartial(key: string): Promise<void>;
  /** Keys of complete entries. */
  keys(): Promise<string[]>;
}

/** A store that can measure and empty everything kept for one model (the options' model list). */
export interface InventoryStore extends ModelStore {
  /** Bytes held under a key prefix (`${id}@${revision}`): complete entries and partial downloads. */
  usage(prefix: string): Promise<number>;
  /** Removes every entry under a key prefix, partial downloads included. */
  deleteUnder(prefix: string): Promise<void>;
}

/** Whether a store key belongs to the model stored under `prefix` (`${id}@${revision}`). */
export function isUnder(key: string, prefix: string): boolean {
  return key.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`);
}

/** In-memory store: tests, and a fallback where no persistent storage is available. */
export class MemoryModelStore implements InventoryStore {
  private readonly complete = new Map<string, Uint8Array>();
  private readonly partial = new Map<string, PartialDownload>();

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.complete.get(key);
  }
  async put(key: string, bytes: Uint8Array): Promise<void> {
    this.complete.set(key, bytes);
  }
  async delete(key: string): Promise<void> {
    this.complete.delete(key);
    this.partial.delete(key);
  }
  async getPartial(key: string): Promise<PartialDownload | undefined> {
    const p = this.partial.get(key);
    return p && { validator: p.validator, chunks: [...p.chunks] };
  }
  async startPartial(key: string, validator: string): Promise<void> {
    this.partial.set(key, { validator, chunks: [] });
  }
  async appendPartial(key: string, chunk: Uint8Array): Promise<void> {
    const p = this.partial.get(key);
    if (!p) throw new Error(`appendPartial before startPartial for ${key}`);
    // Copy: the caller may reuse the buffer, and stored bytes must not change afterwards.
    p.chunks.push(chunk.slice());
  }
  async deletePartial(key: string): Promise<void> {
    this.partial.delete(key);
  }
  async keys(): Promise<string[]> {
    return [...this.complete.keys()];
  }
  async usage(prefix: string): Promise<number> {
    let bytes = 0;
    for (const [key, b] of this.complete) if (isUnder(key, prefix)) bytes += b.length;
    for (const [key, p] of this.partial) if (isUnder(key, prefix)) bytes += p.chunks.reduce((n, c) => n + c.length, 0);
    return bytes;
  }
  async deleteUnder(prefix: string): Promise<void> {
    for (const key of [...this.complete.keys()]) if (isUnder(key, prefix)) this.complete.delete(key);
    for (const key of [...this.partial.keys()]) if (isUnder(key, prefix)) this.partial.delete(key);
  }
}
