// The indexing queue: claims the tabs' pending images (tabs whose popup is open first) and runs
// each through the embedding pipeline. Enough images stay in flight that fetching and decoding
// the next ones overlaps with inference of the current batch.
import { describe } from '../errors';
import { BATCH, EmbedError, type EmbeddingPipeline } from './embedding-pipeline';
import { makeThumbnail } from './thumbnails';
import { allTabs, type ImageEntry, type ImageFailure, type TabState } from './tabs';

/** Two batches: one in inference, the next being fetched and decoded. */
const IN_FLIGHT = 2 * BATCH;

type ChangeListener = (tab: TabState) => void;

export class Indexer {
  private running = false;
  /** Tabs whose popup is open go first. */
  private readonly focusTabs = new Set<number>();
  /** Set when the model failed to load during a run: everything waiting fails with it. */
  private modelFailure: ImageFailure | null = null;

  constructor(
    private readonly pipeline: EmbeddingPipeline,
    private readonly onChange: ChangeListener,
  ) {}

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
        if (!this.modelFailure && this.nextTab()) this.kick();
      });
  }

  /** Puts the chosen images of every tab back in the queue (see TabState.requeue). */
  requeue(which: (entry: ImageEntry) => boolean): void {
    let any = false;
    for (const tab of allTabs()) {
      if (!tab.requeue(which)) continue;
      this.onChange(tab);
      any = true;
    }
    if (any) this.kick();
  }

  private nextTab(): TabState | undefined {
    const tabs = [...allTabs()].filter((tab) => tab.hasPending());
    return tabs.find((tab) => this.focusTabs.has(tab.tabId)) ?? tabs[0];
  }

  private async loop(): Promise<void> {
    this.modelFailure = null;
    try {
      await this.pipeline.model();
    } catch (error) {
      this.modelFailure = failureOf(error);
    }
    const inFlight = new Set<Promise<void>>();
    while (!this.modelFailure) {
      const room = IN_FLIGHT - inFlight.size;
      const tab = room > 0 ? this.nextTab() : undefined;
      if (tab) {
        for (const entry of tab.claim(room)) {
          const indexing: Promise<void> = this.index(tab, entry).finally(() => inFlight.delete(indexing));
          inFlight.add(indexing);
        }
      } else if (inFlight.size > 0) await Promise.race(inFlight);
      else return;
    }
    await Promise.all(inFlight);
    // The model could not load: every waiting image says why, instead of spinning forever
    // (and no image starts another load attempt; they go again once the model is ready).
    for (const tab of allTabs()) {
      for (const entry of tab.claim(Infinity)) tab.markFailed(entry, this.modelFailure);
      this.onChange(tab);
    }
  }

  private async index(tab: TabState, entry: ImageEntry): Promise<void> {
    try {
      const result = await this.pipeline.embed({
        url: entry.url,
        tab,
        frameId: entry.frameId,
        isDuplicate: (sha256) => tab.recordBytes(entry, sha256),
        // Not awaited: the preview must not hold up inference.
        onBytes: (fetched) => void makeThumbnail(fetched.blob).then((t) => tab.setThumbnail(entry.url, t), () => undefined),
      });
      if (result.kind === 'embedding') tab.markIndexed(entry, result.embedding, result.modelId);
    } catch (error) {
      const failure = failureOf(error);
      tab.markFailed(entry, failure);
      if (failure.reason === 'model') this.modelFailure ??= failure;
    }
    this.onChange(tab);
  }
}

function failureOf(error: unknown): ImageFailure {
  return error instanceof EmbedError ? error.failure : { reason: 'unexpected', detail: describe(error) };
}
