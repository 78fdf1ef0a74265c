// Re-embedding the remembered pages with the current model, in the background, after a model
// change. Stored thumbnails are too small to embed faithfully, so each picture is fetched again
// from the address the page loaded it from, through the one embedding pipeline and with no tab:
// a plain request without cookies (image-request.ts), never more than any page could send. A
// picture whose address is gone, refused or now serves other bytes is counted, not embedded.
//
//   const job = new ReembedJob({ store, pipeline, busy, onProgress });
//   void job.run();      // resolves with the final progress
//   job.cancel();        // stops before the next picture
//
// The job yields to the indexing the person waits for: while `busy()` says a visible or asked
// tab has images pending, it pauses between pictures.
import { describe } from '../errors';
import type { ReembedView } from '../messages';
import type { LensStore } from '../store/lens-store';
import type { PageInput } from '../store/pages';
import type { PageRecord } from '../store/schema';
import type { EmbeddingPipeline } from './embedding-pipeline';

/** What the popup shows of the job (fields documented in messages.ts). */
export type ReembedProgress = ReembedView;

export interface ReembedDeps {
  store: LensStore;
  pipeline: Pick<EmbeddingPipeline, 'model' | 'embed'>;
  /** Whether indexing the person waits for is under way: the job pauses meanwhile. */
  busy(): boolean;
  onProgress(progress: ReembedProgress): void;
  /** A page now has the current model's embeddings (the history index adds them). */
  reembedded?(page: PageInput, embeddings: ReadonlyMap<string, Float32Array>): void;
  /** How often a paused job looks again (default PAUSE_MS). */
  pauseMs?: number;
}

export const PAUSE_MS = 1_000;
const PAGES_PER_READ = 500;

/** The addresses of stored pages with no embedding of `modelId`, newest first, at most `limit`. */
export async function pagesWithout(store: LensStore, modelId: string, limit = Infinity): Promise<string[]> {
  const out: string[] = [];
  let before: number | undefined;
  for (;;) {
    const pages = await store.recentPages(PAGES_PER_READ, before);
    for (const p of pages) if (!p.modelIds.includes(modelId) && out.length < limit) out.push(p.url);
    if (pages.length < PAGES_PER_READ || out.length >= limit) return out;
    before = pages[pages.length - 1].visitedAt;
  }
}

export class ReembedJob {
  private cancelled = false;
  private state: ReembedProgress;

  constructor(
    private readonly deps: ReembedDeps,
    modelId = '',
  ) {
    this.state = { modelId, state: 'running', pagesDone: 0, pagesTotal: 0, imagesEmbedded: 0, unreachable: 0, error: null };
  }

  get progress(): ReembedProgress {
    return { ...this.state };
  }

  get finished(): boolean {
    return this.state.state === 'done' || this.state.state === 'cancelled' || this.state.state === 'failed';
  }

  cancel(): void {
    this.cancelled = true;
  }

  async run(): Promise<ReembedProgress> {
    try {
      const modelId = (await this.deps.pipeline.model()).spec.id;
      this.update({ modelId });
      const pages = await pagesWithout(this.deps.store, modelId);
      this.update({ pagesTotal: pages.length });
      for (const url of pages) {
        if (!(await this.reembedPage(url, modelId))) break;
        this.update({ pagesDone: this.state.pagesDone + 1 });
      }
      this.update({ state: this.cancelled ? 'cancelled' : 'done' });
    } catch (error) {
      this.update({ state: 'failed', error: describe(error) });
    }
    return this.progress;
  }

  private update(change: Partial<ReembedProgress>): void {
    this.state = { ...this.state, ...change };
    this.deps.onProgress(this.progress);
  }

  /** Waits while the indexer has the person's work; false when cancelled meanwhile. */
  private async mayGoOn(): Promise<boolean> {
    while (!this.cancelled && this.deps.busy()) {
      if (this.state.state !== 'paused') this.update({ state: 'paused' });
      await new Promise((resolve) => setTimeout(resolve, this.deps.pauseMs ?? PAUSE_MS));
    }
    if (!this.cancelled && this.state.state === 'paused') this.update({ state: 'running' });
    return !this.cancelled;
  }

  /** Embeds the page's pictures the model lacks; false when the job was cancelled. */
  private async reembedPage(url: string, modelId: string): Promise<boolean> {
    const page = await this.deps.store.getPage(url);
    if (!page || page.modelIds.includes(modelId)) return !this.cancelled; // forgotten or done meanwhile
    const embeddings = new Map<string, Float32Array>();
    for (const sha256 of page.hashes) {
      if (!(await this.mayGoOn())) return false;
      const stored = await this.deps.store.getEmbedding(modelId, sha256);
      const embedding = stored ?? (await this.fetchAndEmbed(page, sha256, modelId));
      if (embedding) embeddings.set(sha256, embedding);
      else this.update({ unreachable: this.state.unreachable + 1 });
    }
    if (embeddings.size === 0) return !this.cancelled;
    const input: PageInput = {
      url: page.url,
      title: page.title,
      favicon: page.favicon,
      visitedAt: page.visitedAt,
      modelId,
      images: page.images.filter((i) => embeddings.has(i.sha256)),
    };
    await this.deps.store.putPage(input);
    this.deps.reembedded?.(input, embeddings);
    return !this.cancelled;
  }

  /** The picture's embedding from any of the addresses it was seen at, if one still serves the same bytes. */
  private async fetchAndEmbed(page: PageRecord, sha256: string, modelId: string): Promise<Float32Array | undefined> {
    const addresses = [...new Set(page.images.filter((i) => i.sha256 === sha256).map((i) => i.src))];
    for (const url of addresses) {
      try {
        // Other bytes at the address are another picture: stop before the model runs on them.
        const result = await this.deps.pipeline.embed({ url, isDuplicate: (got) => got !== sha256 });
        if (result.kind !== 'embedding' || result.modelId !== modelId) continue;
        if (result.source === 'model') this.update({ imagesEmbedded: this.state.imagesEmbedded + 1 });
        return result.embedding;
      } catch {
        // Gone, refused or undecodable here: the next address may still serve it.
      }
    }
    return undefined;
  }
}
