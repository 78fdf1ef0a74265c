// The one way from an image to its embedding, for indexing, classification and find-similar
// alike: bytes → SHA-256 → cache (memory, then IndexedDB by (model, sha256); a fresh URL→hash
// record or the tab's own entry spares the fetch; a stale one with validators is revalidated,
// see revalidate.ts) → decode and preprocess (once, with a preview as by-product; in Chrome off
// this thread, see image-preparer.ts) → batched inference → store. An image embedded once
// is never embedded again, whatever asked for it. Each tab writes to its own store
// (storeFor(incognito): private windows stay in memory); a failed write does not fail the image,
// the store's health records it for the popup and options page.
import { ImageDecodeError } from '../engine/decode';
import type { PreparedImage } from '../engine/prepare-image';
import type { ImagePreparer } from '../offscreen/decode-client';
import type { ModelSpec } from '../engine/types';
import { URL_FRESH_MS } from '../store/db';
import { storeFor } from '../store/stores';
import type { LensStore } from '../store/lens-store';
import type { Revalidation } from './revalidate';
import { collectReleasedSoon, releaseBuffer, sha256Hex } from '../bytes';
import { describe } from '../errors';
import type { FetchedImage } from './image-bytes';
import type { ImageRequest } from './image-source';
import type { LoadedModel } from './engine-host';
import { LruMap } from './lru';
import { mark } from './timeline';
import { insertByKey, PriorityLimiter } from '../concurrency';
import { Deadline, DeadlineError } from './deadline';
import { NeedsVisibleTabError } from './page-bytes';
import type { ImageFailure, TabState } from './tabs';
import type { StoredUrlRecord } from '../store/schema';

/** Images per inference call: big enough to amortise a run, small enough for steady progress. */
export const BATCH = 8;
/**
 * Images in the first run of a burst (the model's first, or the first after the pipeline went idle,
 * as on a newly opened page). The model's first run also pays for whatever the engine still does on
 * first use (reading the vision graph and opening its session), so a small one shows the
 * first results sooner; with BATCH after it, the visible images of a page land in two runs. A first
 * run that started with fewer (an image still on its way) leaves the difference to the second, so
 * that the two runs still hold FIRST_BATCH + BATCH images.
 */
export const FIRST_BATCH = 4;
/** Longest wait for images still being prepared before a run starts with what is there. */
const GATHER_MS = 50;
/**
 * The same for the first two runs of a burst, which wait for their images whose bytes are here
 * (being hashed, looked up or decoded; not those still being fetched): about the time the decode
 * worker takes for a few of them one after another. The first run's images then share one run
 * instead of a run of one or two holding back the rest, and the second run does not leave one of
 * the page's first FIRST_BATCH + BATCH images (those in view) to a third run.
 */
const OPENING_GATHER_MS = 300;
/**
 * Longest an image may take from its first request to decoded pixels, whichever way its bytes
 * come (background fetch, the page's copy, a screenshot): past it the image fails with reason
 * `timeout` and its place in the queue goes to the next. Longer than the background fetch's own
 * timeout (image-bytes.ts), so the page fallback still gets its turn.
 */
export const IMAGE_DEADLINE_MS = 30_000;
/**
 * Images handed to the decoder at a time: one decoding and the next waiting in its queue, so it
 * never idles for a message's way. The rest wait here, to go in the order they were asked for
 * (a page's images in view first), not in the order their bytes arrived.
 */
const DECODES_HANDED_ON = 2;
/** How far ahead of every other request an urgent one is numbered (far more than a lifetime's requests). */
const URGENT_AHEAD = 2 ** 40;
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

/** The model a load is for, known before its sessions are open. */
export interface UpcomingModel {
  spec: ModelSpec;
  /** Its files are on this device: it loads without a download (nor the question before one). */
  local: boolean;
}

export interface PipelineDeps {
  model(): Promise<LoadedModel>;
  /**
   * Starts loading the model and says which one it is. When its files are on this device, images
   * are fetched, looked up and decoded for it while its sessions open (only inference waits);
   * otherwise nothing is fetched before model() has resolved. Absent: always the latter.
   */
  upcoming?(): Promise<UpcomingModel>;
  loadBytes(request: ImageRequest): Promise<FetchedImage>;
  /** Decodes an image once into the model's input and a preview. */
  prepare: ImagePreparer['prepare'];
  /** Conditional request for an address hashed before (revalidate.ts); absent: stale records are refetched. */
  revalidate?(record: StoredUrlRecord, request: ImageRequest): Promise<Revalidation>;
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
  /** Called with the preview of an image about to be embedded (made from the same decode). */
  onPreview?(preview: Blob): void;
  /** Someone waits for this one image (a right-click, a find-similar): it goes before the pages' images. */
  urgent?: boolean;
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
  /** Images waiting for a run, in the order they were asked for (see EmbeddingPipeline.asked). */
  private readonly queue: { pixels: Float32Array; order: number; resolve(v: { embedding: Float32Array; run: number }): void; reject(e: unknown): void }[] = [];
  private running = false;
  private wake: (() => void) | null = null;
  /** Runs started so far. */
  private runs = 0;
  /**
   * Runs of the current burst started so far; 0: the next run opens a burst (the model's first,
   * or the first after the pipeline went idle, as on a new page).
   */
  private burstRuns = 0;
  /** Images the burst's first run was short of FIRST_BATCH, added to the run after it. */
  private owed = 0;

  constructor(
    private readonly model: LoadedModel,
    /** Whether more images are being prepared for the pipeline. */
    private readonly moreComing: () => boolean,
    /** Whether images whose bytes are here are on their way (being hashed, looked up, decoded: they come soon). */
    private readonly inHand: () => boolean,
  ) {}

  /**
   * The embedding, and which run of this model's it came from (0 first). A run takes the images
   * asked for first (lowest `order`), not those whose decode happened to end first: the
   * indexer asks for a page's images in view first.
   */
  embed(pixels: Float32Array, order: number): Promise<{ embedding: Float32Array; run: number }> {
    return new Promise((resolve, reject) => {
      insertByKey(this.queue, { pixels, order, resolve, reject }, (item) => item.order);
      this.poke();
      if (!this.running) void this.drain();
    });
  }

  /** Something changed (an image queued, or one stopped preparing): a waiting run re-checks. */
  poke(): void {
    this.wake?.();
  }

  /**
   * Waits until `size` images are queued, or none is about to be: GATHER_MS for images still being
   * prepared; the opening runs of a burst, OPENING_GATHER_MS for images whose bytes are here.
   */
  private async gather(size: number, opening: boolean): Promise<void> {
    const started = Date.now();
    while (this.queue.length < size) {
      const wait = opening && this.inHand() ? OPENING_GATHER_MS : this.moreComing() ? GATHER_MS : 0;
      const left = started + wait - Date.now();
      if (left <= 0) break;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, left);
      });
      this.wake = null;
    }
  }

  private async drain(): Promise<void> {
    this.running = true;
    const { spec, engine } = this.model;
    const plane = 3 * spec.imageSize * spec.imageSize;
    while (this.queue.length > 0) {
      const first = this.burstRuns++ === 0;
      const size = first ? FIRST_BATCH : BATCH + this.owed;
      await this.gather(size, this.burstRuns <= 2);
      const batch = this.queue.splice(0, size);
      this.owed = first ? size - batch.length : 0;
      const input = new Float32Array(batch.length * plane);
      batch.forEach((item, i) => {
        input.set(item.pixels, i * plane);
        // Each image's pixels are read once; the run's input is all the engine needs now.
        releaseBuffer(item.pixels.buffer);
      });
      const run = this.runs++;
      mark('batch-start', { run, size: batch.length });
      try {
        const rows = await engine.embedImages(input, batch.length);
        mark('batch-end', { run, size: batch.length });
        // The engine returns unit vectors.
        batch.forEach((item, i) => item.resolve({ embedding: rows[i], run }));
      } catch (error) {
        const failure = new EmbedError({ reason: 'inference', detail: `inference failed: ${describe(error)}` }, { cause: error });
        for (const item of batch) item.reject(failure);
      } finally {
        releaseBuffer(input.buffer);
        collectReleasedSoon();
      }
    }
    // Idle with nothing on its way: whatever comes next (a new page, say) opens a burst.
    if (!this.moreComing()) this.burstRuns = 0;
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
  /** Images that began decoding before the first run (see compute()). */
  private decodedEarly = 0;
  /** Images whose bytes are here, not yet queued for a run nor answered otherwise. */
  private inHand = 0;
  /** Requests so far: each one's number is its place in the order of decodes and runs. */
  private asked = 0;
  private readonly decodes = new PriorityLimiter(DECODES_HANDED_ON);

  constructor(private readonly deps: PipelineDeps) {}

  /** The model every answer belongs to; its load failure is a typed `model` failure. */
  async model(): Promise<LoadedModel> {
    try {
      return await this.deps.model();
    } catch (error) {
      throw new EmbedError({ reason: 'model', detail: `model unavailable: ${describe(error)}` }, { cause: error });
    }
  }

  /**
   * Starts loading the model; resolves once images may be prepared for it: at once when it loads
   * from this device (it goes on loading meanwhile), else once it has loaded. Rejects as model().
   */
  async start(): Promise<void> {
    if (await this.localUpcoming()) return void this.model().catch(() => undefined);
    await this.model();
  }

  async embed(request: EmbedRequest): Promise<EmbedResult> {
    this.preparing++;
    let preparing = true;
    let inHand = false;
    const progress: Progress = {
      order: this.asked++ - (request.urgent ? URGENT_AHEAD : 0),
      holding: () => {
        if (!preparing || inHand) return;
        inHand = true;
        this.inHand++;
      },
      prepared: () => {
        if (!preparing) return;
        preparing = false;
        this.preparing--;
        if (inHand) this.inHand--;
        this.current?.poke();
      },
    };
    try {
      const early = await this.localUpcoming();
      if (early) {
        const loading = this.model();
        // A cached answer does not wait for the model; one computed waits and hears of its failure.
        loading.catch(() => undefined);
        try {
          // The files are on this device: the image's own steps start now, next to the sessions opening.
          return await this.embedWith(early, () => loading, request, progress, this.deadline());
        } catch (error) {
          // The settings named another model meanwhile: its own spec decides the decode and the cache.
          if (!(error instanceof ModelChanged)) throw error;
        }
      }
      const model = await this.model();
      // The clock starts once the model is there: a first download is not the image's fault.
      return await this.embedWith(model.spec, async () => model, request, progress, this.deadline());
    } finally {
      progress.prepared();
    }
  }

  /** An image's own deadline (IMAGE_DEADLINE_MS unless the deps say otherwise), counting from now. */
  private deadline(): Deadline {
    return new Deadline(this.deps.imageDeadlineMs ?? IMAGE_DEADLINE_MS);
  }

  /** The spec of the model being loaded when its files are on this device; null when it waits for a download (or the question). */
  private async localUpcoming(): Promise<ModelSpec | null> {
    const upcoming = await this.deps.upcoming?.().catch(() => undefined);
    return upcoming?.local ? upcoming.spec : null;
  }

  private async embedWith(spec: ModelSpec, model: () => Promise<LoadedModel>, request: EmbedRequest, progress: Progress, deadline: Deadline): Promise<EmbedResult> {
    const modelId = spec.id;
    const store = storeFor(!!request.tab?.incognito);
    const { sha256: known, fetched: refetched } = await this.knownHash(request, store);
    if (known) {
      if (request.isDuplicate?.(known)) return { kind: 'duplicate', sha256: known };
      const cached = await this.cached(modelId, known, store);
      if (cached) return this.answer(request, cached, modelId, 'cache');
    }

    const fetched = refetched ?? (await this.fetch(request, deadline));
    progress.holding();
    mark('image-fetched', { url: request.url });
    const sha256 = await sha256Hex(fetched.bytes);
    // Only web addresses name the same bytes next time (blob: and page-local names do not).
    if (/^https?:/i.test(request.url)) {
      const record = { url: request.url, sha256, etag: fetched.etag, lastModified: fetched.lastModified, size: fetched.bytes.length, fetchedAt: Date.now() };
      await store.putUrl(record).catch(() => undefined);
    }
    if (request.isDuplicate?.(sha256)) return { kind: 'duplicate', sha256 };
    const cached = await this.cached(modelId, sha256, store);
    if (cached) return this.answer(request, cached, modelId, 'cache');

    const key = cacheKey(modelId, sha256);
    const pending = this.inFlight.get(key);
    if (pending) {
      progress.prepared();
      return this.answer(request, await pending, modelId, 'cache');
    }
    const computing = this.compute(spec, model, fetched, request, progress, deadline);
    this.inFlight.set(key, computing);
    try {
      const embedding = await computing;
      this.memory.set(key, embedding);
      // Stored on the side: the answer does not wait for it. A run's images then answer in the
      // task the run ended in, together, instead of one store write apart, and the results are
      // ranked again once for the whole run. Until the write is done, lookups find the embedding
      // in memory (cached() looks there first); a failed write was never an answer's failure.
      void store.putEmbedding(modelId, sha256, embedding).catch(() => undefined);
      return this.answer(request, embedding, modelId, 'model');
    } finally {
      this.inFlight.delete(key);
    }
  }

  private async compute(spec: ModelSpec, model: () => Promise<LoadedModel>, fetched: FetchedImage, request: EmbedRequest, progress: Progress, deadline: Deadline): Promise<Float32Array> {
    let image: PreparedImage;
    // Read now: the bytes may be transferred to the decoder.
    const type = fetched.blob.type;
    // While the sessions open, only the first run's images decode: more would take the cores the
    // opening needs, and the rest decode beside the first run.
    if (!this.current) {
      if (this.decodedEarly < FIRST_BATCH) this.decodedEarly++;
      else await model().catch(() => undefined);
    }
    try {
      // The outer deadline fails the image in time while it waits for its turn; the inner one
      // frees its turn from a decode that never ends.
      const decode = () => deadline.start(() => this.deps.prepare(fetched, spec), 'decoding the image');
      image = await deadline.run(this.decodes.run(progress.order, decode), 'decoding the image');
    } catch (error) {
      if (error instanceof DeadlineError) throw timeoutError(error);
      // Our own refusals say why (too many pixels, unreadable pixels); the browser's say little.
      const why = error instanceof ImageDecodeError ? `: ${error.message}` : '';
      throw new EmbedError({ reason: 'decode', detail: `cannot decode ${type || 'this file'} as an image${why}` }, { cause: error });
    }
    mark('image-prepared', { url: request.url });
    if (image.preview) request.onPreview?.(image.preview);
    const loaded = await model();
    if (loaded.spec.id !== spec.id) throw new ModelChanged();
    const batcher = this.batcher(loaded);
    progress.prepared();
    const { embedding, run } = await batcher.embed(image.pixels, progress.order);
    mark('image-embedded', { url: request.url, run });
    return embedding;
  }

  /**
   * The bytes' hash without downloading them: the tab's entry had them, the URL was hashed
   * recently, or the server says (304) that the bytes hashed before have not changed. A
   * conditional request answered with new bytes hands them on (`fetched`).
   */
  private async knownHash({ url, tab, frameId }: EmbedRequest, store: LensStore): Promise<{ sha256?: string; fetched?: FetchedImage }> {
    const entry = tab?.embeddingEntry(url);
    if (entry?.sha256) return { sha256: entry.sha256 };
    const record = /^https?:/i.test(url) ? await store.getUrl(url).catch(() => undefined) : undefined;
    if (!record) return {};
    if (Date.now() - record.fetchedAt < URL_FRESH_MS) return { sha256: record.sha256 };
    const answer = await this.deps.revalidate?.(record, { url, tab, frameId: frameId ?? tab?.entry(url)?.frameId });
    if (answer?.kind === 'fetched') return { fetched: answer.fetched };
    if (answer?.kind !== 'unchanged') return {};
    await store.putUrl({ ...record, fetchedAt: Date.now() }).catch(() => undefined);
    return { sha256: record.sha256 };
  }

  private async cached(modelId: string, sha256: string, store: LensStore): Promise<Float32Array | undefined> {
    const key = cacheKey(modelId, sha256);
    const remembered = this.memory.get(key);
    if (remembered) return remembered;
    const stored = await store.getEmbedding(modelId, sha256).catch(() => undefined);
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
      this.current = new InferenceBatcher(
        model,
        () => this.preparing > 0,
        () => this.inHand > 0,
      );
      this.currentModel = model;
    }
    return this.current;
  }
}

/** An image's way to the batcher, as the batcher's order and waits need to know it. */
interface Progress {
  /** Its request's number: requests are numbered as they come (the order the indexer claims in). */
  readonly order: number;
  /** Its bytes are here (fetched, or refetched by a revalidation). */
  holding(): void;
  /** It is queued for a run, or answered without one; called once, and the first call counts. */
  prepared(): void;
}

/** The model that loaded is not the one an image was prepared for (a switch while it loaded). */
class ModelChanged extends Error {
  override readonly name = 'ModelChanged';
}

const timeoutError = (error: DeadlineError) => new EmbedError({ reason: 'timeout', detail: error.message }, { cause: error });

const cacheKey = (modelId: string, sha256: string) => `${modelId}\u0000${sha256}`;
