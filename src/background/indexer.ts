// The indexing pipeline: URL cache → fetch → SHA-256 → embedding cache → decode →
// preprocess → batched inference → store. Fetching and decoding the next batch overlaps
// with inference of the current one.
import { decodeImageBlob } from '../engine/decode';
import { preprocess } from '../engine/preprocess';
import { l2normalize } from '../engine/similarity';
import { getEmbedding, getUrl, putEmbedding, putUrl, URL_FRESH_MS } from '../store/db';
import { engineHost, type LoadedModel } from './engine-host';
import { describe } from '../errors';
import { markIfDuplicate } from './duplicates';
import { sha256Hex } from '../bytes';
import { loadImageBytes } from './image-source';
import { makeThumbnail } from './thumbnail';
import { allTabs, nextPending, type ImageEntry, type TabState } from './tabs';

/** Starts the error of an image that failed because the model could not load (main.ts retries those). */
export const MODEL_UNAVAILABLE = 'model unavailable';

/** Images per inference call: big enough to amortise a run, small enough for steady progress. */
const BATCH = 8;

interface Prepared {
  tab: TabState;
  entry: ImageEntry;
  sha256?: string;
  pixels?: Float32Array;
}

type ChangeListener = (tab: TabState) => void;

export class Indexer {
  private running = false;
  private onChange: ChangeListener;
  /** Tabs whose popup is open go first. */
  private focusTabs = new Set<number>();

  constructor(onChange: ChangeListener) {
    this.onChange = onChange;
  }

  focus(tabId: number, on: boolean): void {
    if (on) this.focusTabs.add(tabId);
    else this.focusTabs.delete(tabId);
  }

  /** Starts the loop if it is idle; safe to call on every new image. */
  kick(): void {
    if (this.running) return;
    this.running = true;
    this.loop()
      .catch((error) => console.error('indexer stopped', error))
      .finally(() => {
        this.running = false;
        if (this.takeBatch(false).length > 0) this.kick();
      });
  }

  private takeBatch(claim = true): { tab: TabState; entry: ImageEntry }[] {
    const tabs = [...allTabs()].sort((a, b) => Number(this.focusTabs.has(b.tabId)) - Number(this.focusTabs.has(a.tabId)));
    for (const tab of tabs) {
      const entries = nextPending(tab, BATCH);
      if (entries.length === 0) continue;
      if (claim) for (const entry of entries) entry.status = 'working';
      return entries.map((entry) => ({ tab, entry }));
    }
    return [];
  }

  private async loop(): Promise<void> {
    let model: LoadedModel;
    try {
      model = await engineHost.get();
    } catch (error) {
      // The model could not load: every waiting image says why, instead of spinning forever.
      for (const tab of allTabs()) {
        for (const entry of tab.entries.values()) {
          if (entry.status === 'pending') {
            entry.status = 'failed';
            entry.error = `${MODEL_UNAVAILABLE}: ${describe(error)}`;
          }
        }
        this.onChange(tab);
      }
      return;
    }
    let preparing = this.prepareBatch(model, this.takeBatch());
    for (;;) {
      const batch = await preparing;
      if (batch.length === 0) return;
      preparing = this.prepareBatch(model, this.takeBatch());
      await this.embedBatch(model, batch);
    }
  }

  private prepareBatch(model: LoadedModel, batch: { tab: TabState; entry: ImageEntry }[]): Promise<Prepared[]> {
    return Promise.all(batch.map(({ tab, entry }) => this.prepare(model, tab, entry)));
  }

  private async prepare(model: LoadedModel, tab: TabState, entry: ImageEntry): Promise<Prepared> {
    const { spec } = model;
    try {
      // A recently hashed URL whose embedding is stored costs neither a fetch nor a model run.
      const known = await getUrl(entry.url).catch(() => undefined);
      if (known && Date.now() - known.fetchedAt < URL_FRESH_MS) {
        if (markIfDuplicate(tab, entry, known.sha256)) return this.duplicate(tab, entry);
        const cached = await getEmbedding(spec.id, known.sha256).catch(() => undefined);
        if (cached) {
          this.finish(tab, entry, spec.id, cached);
          return { tab, entry };
        }
      }
      const fetched = await loadImageBytes({ url: entry.url, tab, frameId: entry.frameId });
      const sha256 = await sha256Hex(fetched.bytes);
      // Only web addresses name the same bytes next time (blob: and page-local names do not).
      if (!tab.incognito && /^https?:/i.test(entry.url)) {
        await putUrl({ url: entry.url, sha256, etag: fetched.etag, lastModified: fetched.lastModified, size: fetched.bytes.length, fetchedAt: Date.now() }).catch(() => undefined);
      }
      if (markIfDuplicate(tab, entry, sha256)) return this.duplicate(tab, entry);
      const cached = await getEmbedding(spec.id, sha256).catch(() => undefined);
      if (cached) {
        this.finish(tab, entry, spec.id, cached);
        return { tab, entry };
      }
      let image;
      try {
        image = await decodeImageBlob(fetched.blob);
      } catch {
        throw new Error(`cannot decode ${fetched.blob.type || 'this file'} as an image`);
      }
      // Not awaited: the preview must not hold up inference.
      makeThumbnail(fetched.blob).then((t) => (entry.thumbnail = t), () => undefined);
      return { tab, entry, sha256, pixels: preprocess(image, spec) };
    } catch (error) {
      entry.status = 'failed';
      entry.error = describe(error);
      this.onChange(tab);
      return { tab, entry };
    }
  }

  private async embedBatch(model: LoadedModel, batch: Prepared[]): Promise<void> {
    const todo = batch.filter((p): p is Required<Prepared> => p.pixels !== undefined && p.sha256 !== undefined);
    if (todo.length === 0) return;
    const { spec, engine } = model;
    const plane = 3 * spec.imageSize * spec.imageSize;
    const input = new Float32Array(todo.length * plane);
    todo.forEach((p, i) => input.set(p.pixels, i * plane));
    let embeddings: Float32Array[];
    try {
      embeddings = await engine.embedImages(input, todo.length);
    } catch (error) {
      for (const p of todo) {
        p.entry.status = 'failed';
        p.entry.error = `inference failed: ${describe(error)}`;
        this.onChange(p.tab);
      }
      return;
    }
    await Promise.all(
      todo.map(async (p, i) => {
        const vector = l2normalize(embeddings[i]);
        if (!p.tab.incognito) await putEmbedding(spec.id, p.sha256, vector).catch(() => undefined);
        this.finish(p.tab, p.entry, spec.id, vector);
      }),
    );
  }

  /** Same bytes as another image of the tab: nothing to embed (see duplicates.ts). */
  private duplicate(tab: TabState, entry: ImageEntry): Prepared {
    this.onChange(tab);
    return { tab, entry };
  }

  private finish(tab: TabState, entry: ImageEntry, modelId: string, embedding: Float32Array): void {
    entry.status = 'indexed';
    entry.embedding = embedding;
    entry.modelId = modelId;
    entry.error = undefined;
    this.onChange(tab);
  }
}
