// The resumable transfer of one file. Guarantees:
// - An interrupted transfer keeps what arrived (ModelStore partials) and continues with
//   `Range: bytes=N-`, both within one call (retries) and across calls (e.g. after the browser
//   was closed). A server that ignores Range (200 instead of 206) makes us start the file over.
// - No bytes for `stallTimeoutMs` aborts the request with a clear error.
// - Only verified bytes reach the complete store entry (verify.ts).
// - Progress for the file never goes backwards.

import { concatBytes } from '../../bytes.ts';
import { interrupted, ModelDownloadError, stallError, unreachable } from './errors.ts';
import type { ExpectedFile } from './manifest.ts';
import type { DownloadOptions, Resolved } from './options.ts';
import { fileUrl } from './paths.ts';
import { sleep, type StallWatch, withStallTimeout } from './stall.ts';
import type { ModelStore } from './store.ts';
import { changedUpstream, verifyDownload } from './verify.ts';

/** Thrown inside an attempt for failures worth another attempt (lost connection, stall, 5xx). */
class RetryableError extends Error {
  constructor(readonly final: ModelDownloadError) {
    super(final.message);
  }
}

/**
 * Identifies a file version so a partial download is only continued for the same bytes. From the
 * listing when possible; otherwise the response's strong ETag (sent back as If-Range).
 */
function validatorFor(expected: ExpectedFile): string | undefined {
  if (expected.sha256) return `sha256:${expected.sha256}`;
  if (expected.gitOid) return `git:${expected.gitOid}:${expected.size ?? ''}`;
  return undefined;
}

/** How one request ended: the file is complete, or the partial was dropped and we must ask again. */
type Outcome = 'done' | 'restart';

export interface FileToDownload {
  /** Repo-relative path. */
  path: string;
  expected: ExpectedFile;
  storeKey: string;
  /** Set when `expected` is a pin (trust.ts): a mismatch then means the file changed upstream. */
  pinnedBy?: string;
}

/**
 * Downloads one file into the store and returns its verified bytes. The object lives for one
 * call and owns the transfer's state; each method moves it one step.
 */
export class FileTransfer {
  private readonly url: string;
  private readonly store: ModelStore;
  private readonly signal: AbortSignal | undefined;
  private validator: string | undefined;
  private fileTotal: number | undefined;
  /** Every byte received so far, in order from offset 0. */
  private chunks: Uint8Array[] = [];
  private have = 0;
  /** The store holds a partial entry for this file, under `validator`. */
  private partialStarted = false;
  /** Bytes received but not yet written to the store's partial entry. */
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** Failed attempts since the transfer last got further than `furthest`. */
  private attempts = 0;
  private furthest = 0;
  private reported = -1;

  constructor(
    private readonly file: FileToDownload,
    private readonly r: Resolved,
    options: Pick<DownloadOptions, 'store' | 'signal'>,
    private readonly report: (fileLoaded: number, fileTotal: number | undefined) => void,
  ) {
    this.url = fileUrl(r.base, r.repo, r.revision, file.path);
    this.store = options.store;
    this.signal = options.signal;
    this.validator = validatorFor(file.expected);
    this.fileTotal = file.expected.size;
  }

  async run(): Promise<Uint8Array> {
    await this.resumePartial();
    if (this.have > 0) this.progress();
    this.furthest = this.have;
    await this.transferWithRetries();

    // Verify before anything reaches the complete entry.
    const bytes = concatBytes(this.chunks);
    this.chunks = [];
    const { path, storeKey, pinnedBy } = this.file;
    await verifyDownload(bytes, this.file.expected, this.fileTotal, { path, url: this.url, storeKey, store: this.store, pinnedBy });
    await this.store.put(storeKey, bytes);
    await this.store.deletePartial(storeKey);
    return bytes;
  }

  /** Takes over what an earlier call kept of this file, if it belongs to the same file version. */
  private async resumePartial(): Promise<void> {
    const previous = await this.store.getPartial(this.file.storeKey);
    if (!previous) return;
    const usable = this.validator ? previous.validator === this.validator : previous.validator.startsWith('etag:');
    const size = previous.chunks.reduce((n, c) => n + c.length, 0);
    if (usable && (this.fileTotal === undefined || size <= this.fileTotal)) {
      this.chunks = previous.chunks;
      this.have = size;
      this.partialStarted = true;
      this.validator ??= previous.validator;
    } else {
      await this.store.deletePartial(this.file.storeKey);
    }
  }

  private async transferWithRetries(): Promise<void> {
    for (;;) {
      try {
        await this.transfer();
        return;
      } catch (err) {
        await this.flush().catch(() => {});
        if (!(err instanceof RetryableError)) throw err;
        if (this.have > this.furthest) {
          this.furthest = this.have;
          this.attempts = 0; // a connection that keeps making progress is worth continuing
        }
        if (this.attempts >= this.r.retries) throw err.final;
        await sleep(this.r.retryDelayMs * 2 ** this.attempts, this.signal);
        this.attempts++;
      }
    }
  }

  /** Runs requests until the file is complete; restarts from 0 at most once without a retry. */
  private async transfer(): Promise<void> {
    for (let restarts = 0; ; restarts++) {
      if ((await this.request()) === 'done') return;
      if (restarts >= 1) {
        throw new ModelDownloadError('http', `${this.url} keeps answering with bytes other than requested`, this.url, this.file.path);
      }
    }
  }

  /** One HTTP request continuing from `have`. */
  private async request(): Promise<Outcome> {
    if (this.fileTotal !== undefined && this.have === this.fileTotal) return 'done'; // everything arrived earlier
    if (this.fileTotal !== undefined && this.have > this.fileTotal) await this.restart();

    const headers: Record<string, string> = {};
    if (this.have > 0) {
      headers.range = `bytes=${this.have}-`;
      if (this.validator?.startsWith('etag:')) headers['if-range'] = this.validator.slice(5);
    }
    return withStallTimeout(this.r.stallTimeoutMs, this.signal, async (watch) => {
      const res = await this.open(headers, watch);
      if ((await this.accept(res)) === 'restart') return 'restart';
      await this.receive(res, watch);
      return 'done';
    });
  }

  private async open(headers: Record<string, string>, watch: StallWatch): Promise<Response> {
    let res: Response;
    try {
      res = await this.r.fetch(this.url, { headers, signal: watch.signal });
    } catch (err) {
      if (this.signal?.aborted) throw this.signal.reason;
      if (watch.stalled) throw new RetryableError(stallError(this.url, this.file.path, this.r.stallTimeoutMs));
      throw new RetryableError(unreachable(this.url, err, this.file.path));
    }
    watch.bump();
    return res;
  }

  /** Decides from the status and headers whether the body continues our bytes. */
  private async accept(res: Response): Promise<'read' | 'restart'> {
    const { url } = this;
    const { path } = this.file;
    const drop = () => res.body?.cancel().catch(() => {});
    if (res.status === 404) {
      await drop();
      await this.restart();
      throw new ModelDownloadError('not-found', `model file not found (HTTP 404): ${url}`, url, path);
    }
    if (res.status === 416 && this.have > 0) {
      // Our offset is past the end: the partial does not belong to this file.
      await drop();
      await this.restart();
      return 'restart';
    }
    if (!res.ok) {
      await drop();
      const e = new ModelDownloadError('http', `HTTP ${res.status} ${res.statusText} for ${url}`.replace(/ +for/, ' for'), url, path);
      if (res.status >= 500 || res.status === 429) throw new RetryableError(e);
      throw e;
    }

    if (res.status === 206) {
      const range = parseContentRange(res.headers.get('content-range'));
      if (!range || range.start !== this.have) {
        // Not the bytes we asked for; take the whole file with a plain request.
        await drop();
        await this.restart();
        return 'restart';
      }
      await this.refuseChangedSize(range.total, drop);
      if (this.fileTotal === undefined && range.total !== undefined) this.fileTotal = range.total;
    } else {
      // 200: the whole file. If we asked for a range the server ignored it (or, with If-Range,
      // the file changed): what we had is discarded and this body is taken from byte 0.
      if (this.have > 0) await this.restart();
      const length = Number(res.headers.get('content-length'));
      if (Number.isFinite(length) && length > 0 && !res.headers.get('content-encoding')) {
        await this.refuseChangedSize(length, drop);
        this.fileTotal ??= length;
      }
      if (!this.validator) {
        const etag = res.headers.get('etag');
        if (etag && !etag.startsWith('W/')) this.validator = `etag:${etag}`;
      }
    }
    if (!res.body) throw new ModelDownloadError('http', `empty response body from ${url}`, url, path);
    return 'read';
  }

  /** A pinned file announced at another size changed upstream: no point reading it. */
  private async refuseChangedSize(total: number | undefined, drop: () => Promise<void> | undefined): Promise<void> {
    const { pinnedBy, expected, path } = this.file;
    if (!pinnedBy || total === undefined || expected.size === undefined || total === expected.size) return;
    await drop();
    await this.restart();
    throw changedUpstream(path, `size ${total} bytes, expected ${expected.size}`, pinnedBy, this.url);
  }

  /** Reads the body to its end; a lost or stalled connection is worth a retry (from `have`). */
  private async receive(res: Response, watch: StallWatch): Promise<void> {
    const reader = res.body!.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        watch.bump();
        if (value.length === 0) continue;
        await this.take(value);
        if (this.pendingBytes >= this.r.flushBytes) {
          await this.flush();
          watch.bump(); // a slow store write is not a stalled connection
        }
        this.progress();
      }
    } catch (err) {
      if (err instanceof ModelDownloadError) throw err;
      if (this.signal?.aborted) throw this.signal.reason;
      throw new RetryableError(
        watch.stalled
          ? stallError(this.url, this.file.path, this.r.stallTimeoutMs)
          : interrupted(this.url, this.file.path, this.have, this.fileTotal, err),
      );
    } finally {
      reader.releaseLock();
    }
    await this.flush();
    if (this.fileTotal !== undefined && this.have < this.fileTotal) {
      // The connection closed cleanly but early.
      throw new RetryableError(interrupted(this.url, this.file.path, this.have, this.fileTotal, undefined));
    }
  }

  private async take(chunk: Uint8Array): Promise<void> {
    this.chunks.push(chunk);
    this.pending.push(chunk);
    this.have += chunk.length;
    this.pendingBytes += chunk.length;
    if (this.fileTotal !== undefined && this.have > this.fileTotal) {
      await this.restart();
      throw new ModelDownloadError(
        'integrity',
        `${this.file.path}: server sent more than the expected ${this.fileTotal} bytes (${this.url}); nothing was stored`,
        this.url,
        this.file.path,
      );
    }
  }

  /** Writes pending bytes to the store's partial entry, starting it on first use. */
  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    if (!this.partialStarted) {
      // Without any validator a partial could not be trusted later, so it is not kept.
      if (!this.validator) {
        this.dropPending();
        return;
      }
      await this.store.startPartial(this.file.storeKey, this.validator);
      this.partialStarted = true;
    }
    await this.store.appendPartial(this.file.storeKey, concatBytes(this.pending));
    this.dropPending();
  }

  /** Forgets every byte received, in memory and in the store. */
  private async restart(): Promise<void> {
    this.chunks = [];
    this.have = 0;
    this.dropPending();
    if (this.partialStarted) await this.store.deletePartial(this.file.storeKey);
    this.partialStarted = false;
  }

  private dropPending(): void {
    this.pending = [];
    this.pendingBytes = 0;
  }

  /**
   * Progress never goes backwards: after a restart the bar waits until the new transfer passes
   * the furthest point reached before (the bytes in between are not new progress).
   */
  private progress(): void {
    if (this.have > this.reported) {
      this.reported = this.have;
      this.report(this.have, this.fileTotal);
    }
  }
}

function parseContentRange(h: string | null): { start: number; total?: number } | undefined {
  const m = h && /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(h.trim());
  if (!m) return undefined;
  return { start: Number(m[1]), total: m[3] === '*' ? undefined : Number(m[3]) };
}
