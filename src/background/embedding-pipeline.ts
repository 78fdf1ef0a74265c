// The one way from an image to its embedding, for indexing, classification and find-similar
// alike: bytes → SHA-256 → cache (memory, then IndexedDB by (model, sha256); a fresh URL→hash
// record or the tab's own entry spares the fetch) → decode → preprocess → batched inference →
// store. An image embedded once is never embedded again, whatever asked for it.
import { preprocess, type RGBAImage } from '../engine/preprocess';
import { ImageDecodeError } from '../engine/decode';
import { getEmbedding, getUrl, putEmbedding, putUrl, URL_FRESH_MS } from '../store/db';
import { sha256Hex } from '../bytes';
import { describe } from '../errors';
import type { FetchedImage } from './image-bytes';
import type { ImageRequest } from './image-source';
import type { LoadedModel } from './engine-host';
import { LruMap } from './lru';
import { Deadline, DeadlineError } from './deadline';
import { NeedsVisibleTabError } from './page-bytes';
import type { ImageFailure, TabState } from './tabs';

/** Images per inference call: big enough to amortise a run, small enough for steady progress. */
export const BATCH = 8;
/** Longest wait for images still being prepared before a run starts with what is there. */
const GATHER_MS = 50;
/**
 * Longest an image may take from its first request to decoded pixels, whichever way its bytes
 * come (background fetch, the page's copy, a screenshot): past it the image fails with reason
 * `timeout` and its place in the queue goes to the next. Longer than the background fetch's own
 * timeout (image-bytes.ts), so the page fallback still gets its turn.
 */
export const IMAGE_DEADLINE_MS = 30_000;
/** Recent image embeddings of this background's lifetime (512 floats each). */
const MEMORY_LIMIT = 2_000;

/** Why no embedding came back, typed for retry decisions (see ImageFailure). */
export class EmbedError extends Error {
  override readonly name = 'EmbedError';
  constructor(
    readonly failure: ImageFailure,
    options?: ErrorOptions,
  ) {
    super(failure.detail, options);
  }
}

export interface PipelineDeps {
  model(): Promise<LoadedModel>;
  loadBytes(request: ImageRequest): Promise<FetchedImage>;
  decode(blob: Blob): Promise<RGBAImage>;
  /** See IMAGE_DEADLINE_MS (the default). */
  imageDeadlineMs?: number;
}

export interface EmbedRequest {
  url: string;
  /** The tab and frame showing the image: bytes may have to come from the page, and the tab's stats count the answer. */
  tab?: TabState;
  frameId?: number;
  /** Called with the bytes' hash before an embedding is looked up; true stops there (a duplicate of another entry). */
  isDuplicate?(sha256: string): boolean;
  /** Called with bytes about to be embedded (the preview is made from them); not awaited. */
  onBytes?(fetched: FetchedImage): void;
}

export type EmbedResult =
  | { kind: 'embedding'; embedding: Float32Array; modelId: string; source: 'model' | 'cache' }
  | { kind: 'duplicate'; sha256: string };

/**
 * Collects preprocessed images and runs them through one model, up to BATCH per run, one run at
 * a time. Before a run it waits briefly for images still being prepared (fetched, decoded), so
 * images asked for together share a run; images that come later gather while it runs.
 */
class InferenceBatcher {
  private readonly queue: { pixels: Float32Array; resolve(v: Float32Array): void; reject(e: unknown): void }[] = [];
  private running = false;
  private wake: (() => void) | null = null;

  constructor(
    private readonly model: LoadedModel,
    /** Whether more images are being prepared for the pipeline. */
    private readonly moreComing: () => boolean,
  ) {}

  embed(pixels: Float32Array): Promise<Float32Array> {
    return new Promise((resolve, reject) => {
      this.queue.push({ pixels, resolve, reject });
      this.poke();
      if (!this.running) void this.drain();
    });
  }

  /** Something changed (an image queued, or one stopped preparing): a waiting run re-checks. */
  poke(): void {
    this.wake?.();
  }

  private async gather(): Promise<void> {
    const deadline = Date.now() + GATHER_MS;
    while (this.queue.length < BATCH && this.moreComing() && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, deadline - Date.now());
      });
      this.wake = null;
    }
  }

  private async drain(): Promise<void> {
    this.running = true;
    const { spec, engine } = this.model;
    const plane = 3 * spec.imageSize * spec.imageSize;
    while (this.queue.length > 0) {
      await this.gather();
      const batch = this.queue.splice(0, BATCH);
      const input = new Float32Array(batch.length * plane);
      batch.forEach((item, i) => input.set(item.pixels, i * plane));
      try {
        const rows = await engine.embedImages(input, batch.length);
        // The engine returns unit vectors.
        batch.forEach((item, i) => item.resolve(rows[i]));
      } catch (error) {
        const failure = new EmbedError({ reason: 'inference', detail: `inference failed: ${describe(error)}` }, { cause: error });
        for (const item of batch) item.reject(failure);
      }
    }
    this.running = false;
  }
}

export class EmbeddingPipeline {
  /** (model, sha256) → embedding. */
  private readonly memory = new LruMap<string, Float32Array>(MEMORY_LIMIT);
  /** Embeddings being computed: a second request for the same bytes waits for the first. */
  private readonly inFlight = new Map<string, Promise<Float32Array>>();
  /** The current model's batcher (one left behind by a model switch finishes its queue on its own). */
  private current: InferenceBatcher | null = null;
  private currentModel: LoadedModel | null = null;
  /** Requests between having the model and reaching the batcher (or an answer without it). */
  private preparing = 0;

  constructor(private readonly deps: PipelineDeps) {}

  /** The model every answer belongs to; its load failure is a typed `model` failure. */
  async model(): Promise<LoadedModel> {
    try {
      return await this.deps.model();
    } catch (error) {
      throw new EmbedError({ reason: 'model', detail: `model unavailable: ${describe(error)}` }, { cause: error });
    }
  }

  async embed(request: EmbedRequest): Promise<EmbedResult> {
    const model = await this.model();
    this.preparing++;
    let preparing = true;
    const prepared = () => {
      if (!preparing) return;
      preparing = false;
      this.preparing--;
      this.current?.poke();
    };
    // The clock starts once the model is there: a first download is not the image's fault.
    const deadline = new Deadline(this.deps.imageDeadlineMs ?? IMAGE_DEADLINE_MS);
    try {
      return await this.embedWith(model, request, prepared, deadline);
    } finally {
      prepared();
    }
  }

  private async embedWith(model: LoadedModel, request: EmbedRequest, prepared: () => void, deadline: Deadline): Promise<EmbedResult> {
    const modelId = model.spec.id;
    const known = await this.knownHash(request);
    if (known) {
      if (request.isDuplicate?.(known)) return { kind: 'duplicate', sha256: known };
      const cached = await this.cached(modelId, known);
      if (cached) return this.answer(request, cached, modelId, 'cache');
    }

    const fetched = await this.fetch(request, deadline);
    const sha256 = await sha256Hex(fetched.bytes);
    // Only web addresses name the same bytes next time (blob: and page-local names do not).
    if (!request.tab?.incognito && /^https?:/i.test(request.url)) {
      await putUrl({ url: request.url, sha256, etag: fetched.etag, lastModified: fetched.lastModified, size: fetched.bytes.length, fetchedAt: Date.now() }).catch(() => undefined);
    }
    if (request.isDuplicate?.(sha256)) return { kind: 'duplicate', sha256 };
    const cached = await this.cached(modelId, sha256);
    if (cached) return this.answer(request, cached, modelId, 'cache');

    const key = cacheKey(modelId, sha256);
    const pending = this.inFlight.get(key);
    if (pending) {
      prepared();
      return this.answer(request, await pending, modelId, 'cache');
    }
    const computing = this.compute(model, fetched, request, prepared, deadline);
    this.inFlight.set(key, computing);
    try {
      const embedding = await computing;
      this.memory.set(key, embedding);
      if (!request.tab?.incognito) await putEmbedding(modelId, sha256, embedding).catch(() => undefined);
      return this.answer(request, embedding, modelId, 'model');
    } finally {
      this.inFlight.delete(key);
    }
  }

  private async compute(model: LoadedModel, fetched: FetchedImage, request: EmbedRequest, prepared: () => void, deadline: Deadline): Promise<Float32Array> {
    let image: RGBAImage;
    try {
      image = await deadline.run(this.deps.decode(fetched.blob), 'decoding the image');
    } catch (error) {
      if (error instanceof DeadlineError) throw timeoutError(error);
      // Our own refusals say why (too many pixels, unreadable pixels); the browser's say little.
      const why = error instanceof ImageDecodeError ? `: ${error.message}` : '';
      throw new EmbedError({ reason: 'decode', detail: `cannot decode ${fetched.blob.type || 'this file'} as an image${why}` }, { cause: error });
    }
    request.onBytes?.(fetched);
    const pixels = preprocess(image, model.spec);
    const batcher = this.batcher(model);
    prepared();
    return batcher.embed(pixels);
  }

  /** The bytes' hash without fetching them: the tab's entry had them, or the URL was hashed recently. */
  private async knownHash({ url, tab }: EmbedRequest): Promise<string | undefined> {
    const entry = tab?.embeddingEntry(url);
    if (entry?.sha256) return entry.sha256;
    const record = /^https?:/i.test(url) ? await getUrl(url).catch(() => undefined) : undefined;
    return record && Date.now() - record.fetchedAt < URL_FRESH_MS ? record.sha256 : undefined;
  }

  private async cached(modelId: string, sha256: string): Promise<Float32Array | undefined> {
    const key = cacheKey(modelId, sha256);
    const remembered = this.memory.get(key);
    if (remembered) return remembered;
    const stored = await getEmbedding(modelId, sha256).catch(() => undefined);
    if (stored) this.memory.set(key, stored);
    return stored;
  }

  private async fetch({ url, tab, frameId }: EmbedRequest, deadline: Deadline): Promise<FetchedImage> {
    try {
      return await deadline.run(this.deps.loadBytes({ url, tab, frameId: frameId ?? tab?.entry(url)?.frameId }), 'loading the image');
    } catch (error) {
      // The page's own deadline may be what ran out, behind the failed background fetch.
      const late = error instanceof DeadlineError ? error : (error as Error | undefined)?.cause;
      if (late instanceof DeadlineError) throw new EmbedError({ reason: 'timeout', detail: describe(error) }, { cause: error });
      const waitsForTab = error instanceof NeedsVisibleTabError || (error as Error | undefined)?.cause instanceof NeedsVisibleTabError;
      throw new EmbedError({ reason: waitsForTab ? 'needs-visible-tab' : 'fetch', detail: describe(error) }, { cause: error });
    }
  }

  private answer(request: EmbedRequest, embedding: Float32Array, modelId: string, source: 'model' | 'cache'): EmbedResult {
    request.tab?.countEmbedding(source);
    return { kind: 'embedding', embedding, modelId, source };
  }

  private batcher(model: LoadedModel): InferenceBatcher {
    if (this.currentModel !== model || !this.current) {
      this.current = new InferenceBatcher(model, () => this.preparing > 0);
      this.currentModel = model;
    }
    return this.current;
  }
}

const timeoutError = (error: DeadlineError) => new EmbedError({ reason: 'timeout', detail: error.message }, { cause: error });

const cacheKey = (modelId: string, sha256: string) => `${modelId}\u0000${sha256}`;
