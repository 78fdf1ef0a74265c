// The indexing queue: claims the tabs' pending images and runs each through the embedding
// pipeline. Enough images stay in flight that fetching and decoding the next ones overlaps with
// inference of the current batch. Tabs take turns: the tab whose popup is open first, then the
// active tab, then the others round-robin, and no tab holds more than its share of the places in
// flight, so a tab of slow or never-answering images never delays another (each image has its
// own deadline, see embedding-pipeline.ts). Only tabs the person asked for are indexed.
import { describe } from '../errors';
import { awaitsDownloadAnswer } from './model-errors';
import { BATCH, EmbedError, type EmbeddingPipeline } from './embedding-pipeline';
import { blobDataUrl } from './memory-thumbnails';
import { mark } from './timeline';
import { allTabs, type ImageEntry, type ImageFailure, type TabState } from './tabs';

/**
 * One tab's share of the places in flight: two batches, one in inference and the next being
 * fetched and decoded meanwhile (with one batch, a tab's next images would start only as the
 * last run ends, and runs would alternate between full and nearly empty).
 */
const IN_FLIGHT_PER_TAB = 2 * BATCH;
/** Twice a tab's share: the rest stays free for the other tabs. */
const IN_FLIGHT = 2 * IN_FLIGHT_PER_TAB;
/** Images claimed from a tab at a time before the next tab's turn. */
const CLAIM = BATCH / 2;

type ChangeListener = (tab: TabState) => void;

/** Which tab goes next among those with work: the highest priority, then round-robin after `lastServed`. */
export function pickTab<T extends { tabId: number }>(candidates: T[], priority: (tabId: number) => number, lastServed: number | null): T | undefined {
  if (candidates.length === 0) return undefined;
  const top = Math.max(...candidates.map((tab) => priority(tab.tabId)));
  const ring = candidates.filter((tab) => priority(tab.tabId) === top).sort((a, b) => a.tabId - b.tabId);
  return (lastServed === null ? undefined : ring.find((tab) => tab.tabId > lastServed)) ?? ring[0];
}

export class Indexer {
  private running = false;
  /** Tabs whose popup is open go first. */
  private readonly focusTabs = new Set<number>();
  /** The browser's active tab goes next. */
  private activeTab: number | null = null;
  private lastServed: number | null = null;
  private readonly inFlightByTab = new Map<number, number>();
  /** Wakes a loop waiting on images in flight: new work may fit in the places left. */
  private wake: (() => void) | null = null;
  /** Set when the model failed to load during a run: everything waiting fails with it. */
  private modelFailure: ImageFailure | null = null;
  /**
   * Set when the model waits for the person's answer to its download question: images stay
   * pending (neither fetched nor failed) until a yes kicks the queue again.
   */
  private awaitingAnswer = false;

  constructor(
    private readonly pipeline: Pick<EmbeddingPipeline, 'start' | 'embed'>,
    private readonly onChange: ChangeListener,
    /** Whether the tab's images may be fetched and embedded now (the person asked, or background indexing is on). */
    private readonly mayIndex: (tab: TabState) => boolean,
  ) {}

  focus(tabId: number, on: boolean): void {
    if (on) this.focusTabs.add(tabId);
    else this.focusTabs.delete(tabId);
  }

  isFocused(tabId: number): boolean {
    return this.focusTabs.has(tabId);
  }

  setActive(tabId: number): void {
    this.activeTab = tabId;
  }

  /** Starts the loop if it is idle and some tab has work it may do; safe to call on every new image. */
  kick(): void {
    // No work, no model: the model is not even loaded before a tab is asked for.
    if (this.running) return this.wake?.();
    if (!this.nextTab()) return;
    this.running = true;
    this.loop()
      .catch((error) => console.error('indexer stopped', error))
      .finally(() => {
        this.running = false;
        if (!this.modelFailure && !this.awaitingAnswer) this.kick();
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

  private priority = (tabId: number): number => (this.focusTabs.has(tabId) ? 2 : tabId === this.activeTab ? 1 : 0);

  private nextTab(): TabState | undefined {
    const candidates = [...allTabs()].filter((tab) => (this.inFlightByTab.get(tab.tabId) ?? 0) < IN_FLIGHT_PER_TAB && this.mayIndex(tab) && tab.hasPending());
    return pickTab(candidates, this.priority, this.lastServed);
  }

  private async loop(): Promise<void> {
    this.modelFailure = null;
    this.awaitingAnswer = false;
    try {
      // A model on this device loads while the first images are fetched and decoded; one to
      // download is waited for (nothing is fetched for it before then).
      await this.pipeline.start();
    } catch (error) {
      this.awaitingAnswer = awaitsDownloadAnswer(error);
      if (this.awaitingAnswer) return;
      this.modelFailure = failureOf(error);
    }
    const inFlight = new Set<Promise<void>>();
    while (!this.modelFailure && !this.awaitingAnswer) {
      const room = IN_FLIGHT - inFlight.size;
      const tab = room > 0 ? this.nextTab() : undefined;
      if (tab) {
        this.lastServed = tab.tabId;
        const share = IN_FLIGHT_PER_TAB - (this.inFlightByTab.get(tab.tabId) ?? 0);
        for (const entry of tab.claim(Math.min(room, share, CLAIM))) {
          mark('image-claimed', { url: entry.url });
          this.inFlightByTab.set(tab.tabId, (this.inFlightByTab.get(tab.tabId) ?? 0) + 1);
          const indexing: Promise<void> = this.index(tab, entry).finally(() => {
            inFlight.delete(indexing);
            const left = (this.inFlightByTab.get(tab.tabId) ?? 1) - 1;
            if (left > 0) this.inFlightByTab.set(tab.tabId, left);
            else this.inFlightByTab.delete(tab.tabId);
          });
          inFlight.add(indexing);
        }
      } else if (inFlight.size > 0) {
        await Promise.race([...inFlight, new Promise<void>((resolve) => (this.wake = resolve))]);
        this.wake = null;
      } else return;
    }
    await Promise.all(inFlight);
    const failure = this.modelFailure;
    if (!failure) return; // waiting for the person's answer: the images stay pending
    // The model could not load: every waiting image says why, instead of spinning forever
    // (and no image starts another load attempt; they go again once the model is ready).
    for (const tab of allTabs()) {
      if (!this.mayIndex(tab)) continue;
      for (const entry of tab.claim(Infinity)) tab.markFailed(entry, failure);
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
        onPreview: (preview) => void blobDataUrl(preview).then((t) => tab.setThumbnail(entry.url, t), () => undefined),
      });
      if (result.kind === 'embedding') tab.markIndexed(entry, result.embedding, result.modelId);
    } catch (error) {
      if (awaitsDownloadAnswer(error)) {
        // The download was cancelled meanwhile: not the image's failure, it waits with the others.
        tab.requeue((e) => e === entry);
        this.awaitingAnswer = true;
      } else {
        const failure = failureOf(error);
        tab.markFailed(entry, failure);
        if (failure.reason === 'model') this.modelFailure ??= failure;
      }
    }
    this.onChange(tab);
  }
}

function failureOf(error: unknown): ImageFailure {
  return error instanceof EmbedError ? error.failure : { reason: 'unexpected', detail: describe(error) };
}
