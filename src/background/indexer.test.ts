import { afterEach, describe, expect, it, vi } from 'vitest';

vi.mock('webextension-polyfill', () => ({ default: {} }));
const { Indexer, pickTab } = await import('./indexer');
const { EmbedError, EmbeddingPipeline, BATCH } = await import('./embedding-pipeline');
const { DownloadCancelled, DownloadNeedsConsent } = await import('./model-errors');
const { ensureTab, forgetTab, allTabs } = await import('./tabs');

import type { EmbedRequest, EmbedResult } from './embedding-pipeline';
import type { TabState } from './tabs';
import type { LoadedModel } from './engine-host';
import type { ModelSpec } from '../engine/types';

const img = (url: string, top: number) => ({ url, kind: 'img' as const, width: 100, height: 100, top, visible: true, alt: '' });

function tabWith(tabId: number, count: number, host: string): TabState {
  const tab = ensureTab(tabId, `https://${host}/`, false);
  tab.updateFrame(0, `https://${host}/`, Array.from({ length: count }, (_, i) => img(`https://${host}/${i}.png`, i)), 0);
  return tab;
}

/** A pipeline whose images on `slowHost` answer only when released; the rest at once. */
function fakePipeline(slowHost = 'slow.test') {
  const order: string[] = [];
  let loads = 0;
  const held: (() => void)[] = [];
  const pipeline = {
    async start() {
      loads++;
      return {} as never;
    },
    async embed({ url }: EmbedRequest): Promise<EmbedResult> {
      order.push(url);
      if (new URL(url).host === slowHost) {
        await new Promise<void>((resolve) => held.push(resolve));
        throw new EmbedError({ reason: 'timeout', detail: 'loading the image: no answer within 30 s' });
      }
      return { kind: 'embedding', embedding: Float32Array.from([1, 0]), modelId: 'fixture', source: 'model' };
    },
  };
  return { pipeline, order, held, loads: () => loads };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 10));
/** Tabs the person asked for, and the indexer's predicate over them. */
function askedTabs() {
  const asked = new Set<number>();
  return { asked, mayIndex: (tab: TabState) => asked.has(tab.tabId) };
}

afterEach(() => {
  for (const tab of [...allTabs()]) forgetTab(tab.tabId);
});

describe('indexing queue', () => {
  it('fetches nothing and loads no model for a tab nobody asked for', async () => {
    const { pipeline, order, loads } = fakePipeline();
    const { asked, mayIndex } = askedTabs();
    const indexer = new Indexer(pipeline, () => undefined, mayIndex);
    const tab = tabWith(1, 3, 'a.test');
    indexer.kick();
    await settle();
    expect({ order, loads: loads() }).toEqual({ order: [], loads: 0 });
    asked.add(1);
    indexer.kick();
    await settle();
    expect(order).toHaveLength(3);
    expect(tab.counts()).toMatchObject({ indexed: 3, pending: 0 });
  });

  it('background indexing (the setting) indexes without asking', async () => {
    const { pipeline, order } = fakePipeline();
    const indexer = new Indexer(pipeline, () => undefined, () => true);
    tabWith(2, 2, 'b.test');
    indexer.kick();
    await settle();
    expect(order).toHaveLength(2);
  });

  it('a tab of never-answering images does not delay another tab, and its images fail with their reason', async () => {
    const { pipeline, order, held } = fakePipeline();
    const { asked, mayIndex } = askedTabs();
    const indexer = new Indexer(pipeline, () => undefined, mayIndex);
    const slow = tabWith(3, 40, 'slow.test');
    asked.add(3);
    indexer.focus(3, true);
    indexer.kick();
    await settle();
    const fast = tabWith(4, 12, 'fast.test');
    asked.add(4);
    indexer.kick();
    await settle();
    // The slow tab holds its share of places only; the other tab indexes meanwhile.
    expect(fast.counts()).toMatchObject({ indexed: 12, pending: 0 });
    expect(order.filter((u) => u.includes('slow.test'))).toHaveLength(2 * BATCH);
    for (const release of held.splice(0)) release();
    await settle();
    expect(slow.failures(1)).toEqual([{ url: 'https://slow.test/0.png', failure: { reason: 'timeout', detail: 'loading the image: no answer within 30 s' } }]);
    while (held.length) {
      for (const release of held.splice(0)) release();
      await settle();
    }
    expect(slow.counts()).toMatchObject({ failed: 40, pending: 0 });
  });

  it('takes turns: the popup\'s tab first, then the active tab, then round-robin', () => {
    const tabs = [{ tabId: 5 }, { tabId: 6 }, { tabId: 7 }];
    const none = () => 0;
    expect(pickTab(tabs, none, null)?.tabId).toBe(5);
    expect(pickTab(tabs, none, 5)?.tabId).toBe(6);
    expect(pickTab(tabs, none, 7)?.tabId).toBe(5);
    expect(pickTab(tabs, (id) => (id === 7 ? 2 : id === 6 ? 1 : 0), 7)?.tabId).toBe(7);
    expect(pickTab(tabs, (id) => (id === 6 ? 1 : 0), 6)?.tabId).toBe(6);
    expect(pickTab([], none, null)).toBeUndefined();
  });

  it('tabs with equal standing alternate, so a long page does not go first to the end', async () => {
    const { pipeline, order } = fakePipeline();
    const indexer = new Indexer(pipeline, () => undefined, () => true);
    tabWith(8, 20, 'long.test');
    tabWith(9, 4, 'short.test');
    indexer.kick();
    await settle();
    // The short page's images were among the first claimed, not after the long page's twenty.
    expect(order.slice(0, 8).filter((u) => u.includes('short.test'))).toHaveLength(4);
  });

  it('a model that fails while the first images are prepared fails every image of the tab with reason model', async () => {
    let failLoad!: () => void;
    const loadFailed = new Promise<void>((resolve) => (failLoad = resolve));
    const claimed: string[] = [];
    const pipeline = {
      // A model on this device: images may be prepared while it loads.
      async start() {},
      async embed({ url }: EmbedRequest): Promise<EmbedResult> {
        claimed.push(url);
        await loadFailed;
        throw new EmbedError({ reason: 'model', detail: 'model unavailable: no memory' });
      },
    };
    const indexer = new Indexer(pipeline, () => undefined, () => true);
    const tab = tabWith(10, 30, 'fails.test');
    indexer.kick();
    await settle();
    expect(claimed.length).toBeGreaterThan(0);
    failLoad();
    await settle();
    expect(tab.counts()).toMatchObject({ failed: 30, pending: 0 });
    expect(new Set(tab.failures(30).map((f) => f.failure.reason))).toEqual(new Set(['model']));
    // No image started again after the failure.
    expect(claimed.length).toBeLessThan(30);
  });
});

/**
 * A model behind the download question, as the engine host answers: it refuses with
 * DownloadNeedsConsent until `yes()`, then loads; the refusal is wrapped as EmbeddingPipeline.model()
 * wraps it. `cancel()` makes the next answers DownloadCancelled (Cancel during the download).
 */
function modelBehindQuestion() {
  let state: 'ask' | 'yes' | 'cancelled' | 'not-found' = 'ask';
  const fetched: string[] = [];
  const answer = async (): Promise<LoadedModel> => {
    if (state === 'ask') throw new DownloadNeedsConsent({ label: 'Fixture' } as ModelSpec, 7_700_000);
    if (state === 'cancelled') throw new DownloadCancelled();
    if (state === 'not-found') throw new Error('HTTP 404 for https://hub.test/onnx/vision_model.onnx');
    return {} as LoadedModel;
  };
  const real = new EmbeddingPipeline({ model: answer, loadBytes: () => Promise.reject(new Error('unused')), prepare: () => Promise.reject(new Error('unused')) });
  const pipeline = {
    // Not on this device: start() waits for the model, as EmbeddingPipeline.start() does then.
    model: () => real.model(),
    start: () => real.model().then(() => undefined),
    async embed({ url }: EmbedRequest): Promise<EmbedResult> {
      await real.model();
      fetched.push(url);
      return { kind: 'embedding', embedding: Float32Array.from([1, 0]), modelId: 'fixture', source: 'model' };
    },
  };
  return { pipeline, fetched, set: (s: typeof state) => (state = s) };
}

describe('indexing while the download question waits', () => {
  it('leaves the images pending, neither fetched nor failed, until the yes; then indexes them', async () => {
    const model = modelBehindQuestion();
    const indexer = new Indexer(model.pipeline, () => undefined, () => true);
    const tab = tabWith(10, 6, 'q.test');
    indexer.kick();
    await settle();
    expect(tab.counts()).toMatchObject({ found: 6, pending: 6, failed: 0, indexed: 0 });
    expect(model.fetched).toEqual([]);
    // More images reported (the queue is kicked again): still waiting, still nothing failed.
    tab.updateFrame(1, 'https://q.test/frame', [img('https://q.test/frame.png', 0)], 0);
    indexer.kick();
    await settle();
    expect(tab.counts()).toMatchObject({ pending: 7, failed: 0 });
    model.set('yes');
    indexer.kick();
    await settle();
    expect(tab.counts()).toMatchObject({ indexed: 7, pending: 0, failed: 0 });
  });

  it('a download cancelled while images are in flight puts them back in the queue, not among the failures', async () => {
    const model = modelBehindQuestion();
    model.set('cancelled');
    const pipeline = {
      ...model.pipeline,
      // The model was there when the run started; the download of the next one was cancelled.
      start: async () => undefined,
    };
    const indexer = new Indexer(pipeline, () => undefined, () => true);
    const tab = tabWith(11, 3, 'c.test');
    indexer.kick();
    await settle();
    expect(tab.counts()).toMatchObject({ pending: 3, failed: 0 });
    expect(tab.failures()).toEqual([]);
  });

  it('a download that really failed still fails the waiting images, with reason model', async () => {
    const model = modelBehindQuestion();
    model.set('not-found');
    const indexer = new Indexer(model.pipeline, () => undefined, () => true);
    const tab = tabWith(12, 2, 'f.test');
    indexer.kick();
    await settle();
    expect(tab.counts()).toMatchObject({ failed: 2, pending: 0 });
    expect(tab.failures(1)[0].failure).toEqual({ reason: 'model', detail: 'model unavailable: HTTP 404 for https://hub.test/onnx/vision_model.onnx' });
  });
});
