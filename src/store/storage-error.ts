// Storage failures as one typed error, so callers can tell "disk full" from "no IndexedDB here"
// and stop swallowing writes; StorageHealth keeps the last one for the popup and options page.
//
//   try { await store.putEmbedding(...) } catch (e) { if (e instanceof StorageError && e.kind === 'quota') ... }
//   store.health.snapshot()  ->  { lastError: { at, kind, message } | null, errors, lastOkAt }

import { describe } from '../errors';

export type StorageErrorKind = 'quota' | 'unavailable' | 'other';

export class StorageError extends Error {
  override readonly name = 'StorageError';
  constructor(
    readonly kind: StorageErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

function nameOf(e: unknown): string {
  return e && typeof e === 'object' && 'name' in e ? String((e as { name: unknown }).name) : '';
}

/**
 * The kind of an IndexedDB failure. A quota failure often surfaces second-hand: as the
 * transaction's AbortError with the QuotaExceededError in `transaction.error`, or as idb's
 * rejection whose `cause`/`target` carries it; all are looked through.
 */
export function storageErrorKind(e: unknown, depth = 0): StorageErrorKind {
  if (depth > 4 || !e || typeof e !== 'object') return 'other';
  const name = nameOf(e);
  const code = (e as { code?: unknown }).code;
  if (name === 'QuotaExceededError' || code === 22 || code === 1014 || name === 'NS_ERROR_DOM_QUOTA_REACHED') return 'quota';
  if (e instanceof StorageError) return e.kind;
  // Private windows (older Firefox), a blocked profile, a deleted database under an open connection.
  if (name === 'InvalidStateError' || name === 'UnknownError' || name === 'SecurityError' || name === 'VersionError') return 'unavailable';
  const inner = [(e as { cause?: unknown }).cause, (e as { error?: unknown }).error, (e as { target?: { error?: unknown } }).target?.error];
  for (const x of inner) {
    const kind = storageErrorKind(x, depth + 1);
    if (kind !== 'other') return kind;
  }
  return 'other';
}

/** Any thrown value as a StorageError (returned unchanged when it already is one). */
export function toStorageError(e: unknown, doing: string): StorageError {
  if (e instanceof StorageError) return e;
  const kind = storageErrorKind(e);
  const what = kind === 'quota' ? 'storage is full' : kind === 'unavailable' ? 'storage is unavailable' : describe(e);
  return new StorageError(kind, `${doing}: ${what}${kind === 'other' ? '' : ` (${nameOf(e) || describe(e)})`}`, { cause: e });
}

export interface HealthSnapshot {
  lastError: { at: number; kind: StorageErrorKind; message: string } | null;
  /** Failed operations since the store was opened. */
  errors: number;
  lastOkAt: number | null;
}

/** The store's recent failures, readable at any time; listeners hear each new error. */
export class StorageHealth {
  private state: HealthSnapshot = { lastError: null, errors: 0, lastOkAt: null };
  private readonly listeners = new Set<(s: HealthSnapshot) => void>();

  recordError(error: StorageError, at = Date.now()): void {
    this.state = { ...this.state, lastError: { at, kind: error.kind, message: error.message }, errors: this.state.errors + 1 };
    for (const l of this.listeners) l(this.snapshot());
  }

  recordOk(at = Date.now()): void {
    this.state = { ...this.state, lastOkAt: at };
  }

  snapshot(): HealthSnapshot {
    return { ...this.state, lastError: this.state.lastError && { ...this.state.lastError } };
  }

  /** Returns the unsubscribe function. */
  onError(listener: (s: HealthSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
