import { afterEach, describe, expect, it, vi } from 'vitest';

vi.mock('webextension-polyfill', () => ({ default: {} }));
const { Indexer, pickTab } = await import('./indexer');
const { EmbedError, BATCH } = await import('./embedding-pipeline');
const { ensureTab, forgetTab, allTabs } = await import('./tabs');

import type { EmbedRequest, EmbedResult } from './embedding-pipeline';
import type { TabState } from './tabs';

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

afterEach(() => {
  for (const tab of [...allTabs()]) forgetTab(tab.tabId);
});

describe('indexing queue', () => {
  it('fetches nothing and loads no model for a tab nobody asked for', async () => {
    const { pipeline, order, loads } = fakePipeline();
    const indexer = new Indexer(pipeline, () => undefined);
    const tab = tabWith(1, 3, 'a.test');
    indexer.kick();
    await settle();
    expect({ order, loads: loads() }).toEqual({ order: [], loads: 0 });
    tab.ask();
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
    const indexer = new Indexer(pipeline, () => undefined);
    const slow = tabWith(3, 40, 'slow.test');
    slow.ask();
    indexer.focus(3, true);
    indexer.kick();
    await settle();
    const fast = tabWith(4, 12, 'fast.test');
    fast.ask();
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
    const indexer = new Indexer(pipeline, () => undefined);
    const tab = tabWith(10, 30, 'fails.test');
    tab.ask();
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
