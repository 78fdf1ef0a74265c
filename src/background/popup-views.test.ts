import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FoundImage } from '../messages';

vi.mock('webextension-polyfill', () => ({ default: { tabs: { get: async () => ({ url: 'https://a.test/' }) } } }));
vi.mock('./engine-host', () => ({ engineHost: { status: { state: 'idle' } } }));
vi.mock('./memory', () => ({ storageView: () => ({ persistent: true, errors: 0, error: null }) }));
vi.mock('./history-search', () => ({ scopedResults: (_tabId: number, results: unknown[]) => ({ results }) }));
const { pushAllViews, pushResults, pushView, servePopup } = await import('./popup-views');
const { ensureTab } = await import('./tabs');

type Listener = (message: unknown) => void;

/** A popup's port as servePopup sees it; `views` are the `done` counts of the views it was sent. */
function popupPort() {
  const listeners: Listener[] = [];
  const views: number[] = [];
  const port = {
    onMessage: { addListener: (l: Listener) => listeners.push(l) },
    onDisconnect: { addListener: () => undefined },
    postMessage: (m: { view: { indexed: number; failed: number } }) => views.push(m.view.indexed + m.view.failed),
  };
  return { port, views, send: (m: unknown) => listeners.forEach((l) => l(m)) };
}

const img = (i: number): FoundImage => ({ url: `https://a.test/${i}.png`, kind: 'img', width: 100, height: 100, top: i, visible: true, alt: '' });

/** A tab showing `count` images and a popup subscribed to it, its first view received. */
async function subscribed(tabId: number, count: number) {
  const tab = ensureTab(tabId, 'https://a.test/', false);
  tab.updateFrame(0, 'https://a.test/', Array.from({ length: count }, (_, i) => img(i)), 0);
  const popup = popupPort();
  servePopup(popup.port as never, { opened: () => undefined, closed: () => undefined });
  popup.send({ type: 'subscribe', tabId });
  await vi.advanceTimersByTimeAsync(0);
  return { tab, popup };
}

describe('pushView', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('sends the first change at once, then at most one view per interval while images index, and the settled view without waiting', async () => {
    const { tab, popup } = await subscribed(41, 3);
    expect(popup.views).toEqual([0]); // the view on subscribing

    const [a, b, c] = tab.claim(3);
    tab.markIndexed(a, Float32Array.of(1), 'm');
    pushView(41);
    await vi.advanceTimersByTimeAsync(0);
    expect(popup.views).toEqual([0, 1]);

    tab.markIndexed(b, Float32Array.of(1), 'm');
    pushView(41);
    await vi.advanceTimersByTimeAsync(100);
    expect(popup.views).toEqual([0, 1]); // within the interval: waits

    // The last image: nothing left to index, so its view goes at once.
    tab.markIndexed(c, Float32Array.of(1), 'm');
    pushView(41);
    await vi.advanceTimersByTimeAsync(0);
    expect(popup.views).toEqual([0, 1, 3]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(popup.views).toEqual([0, 1, 3]);
  });

  it('keeps views of the model\'s status to one per interval, even for a tab with nothing left to index', async () => {
    const { tab, popup } = await subscribed(42, 1);
    tab.markIndexed(tab.claim(1)[0], Float32Array.of(1), 'm');
    expect(popup.views).toHaveLength(1);
    // A download's progress: many reports a second.
    for (let i = 0; i < 30; i++) {
      pushAllViews();
      await vi.advanceTimersByTimeAsync(10);
    }
    // Thirty reports in 300 ms: one view at once, then one per 150 ms.
    expect(popup.views.length - 1).toBeLessThanOrEqual(1 + 300 / 150);
  });

  it('sends new results at once, without waiting behind the view that just carried the images\' count', async () => {
    const { tab, popup } = await subscribed(43, 2);
    const [a] = tab.claim(2);
    tab.markIndexed(a, Float32Array.of(1), 'm');
    pushView(43);
    await vi.advanceTimersByTimeAsync(5);
    expect(popup.views).toEqual([0, 1]);
    // The query's results ranked again with that image, a few milliseconds later.
    pushResults(43);
    await vi.advanceTimersByTimeAsync(0);
    expect(popup.views).toEqual([0, 1, 1]);
  });
});
