import { describe, expect, it, vi } from 'vitest';

// No storage.session: the fallback to memory is what the default area gives.
vi.mock('webextension-polyfill', () => ({ default: { storage: {} } }));
const { AskedTabs } = await import('./asked-tabs');
const { memoryArea } = await import('./session-area');
const { BackgroundIndexing } = await import('./background-indexing');
const { TabState } = await import('./tabs');

const img = (url: string) => ({ url, kind: 'img' as const, width: 100, height: 100, top: 0, visible: true, alt: '' });

describe('tabs asked for', () => {
  it('are kept in session storage and come back after a restart', async () => {
    const area = memoryArea();
    const before = new AskedTabs(area);
    expect(before.add(4)).toBe(true);
    expect(before.add(4)).toBe(false);
    before.add(9);
    before.delete(4);
    await before.flushed();
    expect(area.data.askedTabs).toEqual([9]);
    const after = new AskedTabs(area);
    expect(after.has(9)).toBe(false);
    expect(await after.restore()).toEqual([9]);
    expect(after.has(9)).toBe(true);
  });

  it('take only tab ids from storage', async () => {
    const tabs = new AskedTabs(memoryArea({ askedTabs: [3, 'x', -1, 2.5, null, 7] }));
    expect(await tabs.restore()).toEqual([3, 7]);
    expect(await new AskedTabs(memoryArea({ askedTabs: 'nope' })).restore()).toEqual([]);
  });

  it('a new page in the tab is asked for only while the tab\'s popup is open', async () => {
    const area = memoryArea();
    const tabs = new AskedTabs(area);
    tabs.add(4);
    tabs.navigated(4, true);
    expect(tabs.has(4)).toBe(true);
    tabs.navigated(4, false);
    expect(tabs.has(4)).toBe(false);
    // A popup opened on a page it could not index asks for the next page the tab shows.
    tabs.navigated(5, true);
    await tabs.flushed();
    expect(area.data.askedTabs).toEqual([5]);
  });

  it('are the one record the indexing predicate reads: a restored tab is served as soon as its page reports', async () => {
    const asked = new AskedTabs(memoryArea({ askedTabs: [6] }));
    const policy = new BackgroundIndexing(asked);
    const tab = new TabState(6, 'https://a.test/', false);
    tab.updateFrame(0, 'https://a.test/', [img('https://a.test/1.png')], 0);
    expect(policy.mayIndex(tab, [tab])).toBe(false);
    await asked.restore();
    expect(policy.mayIndex(tab, [tab])).toBe(true);
    // The tab's own state has no say: a report of another page changes nothing until the tab navigates.
    tab.updateFrame(0, 'https://a.test/next', [img('https://a.test/2.png')], 0);
    expect(policy.mayIndex(tab, [tab])).toBe(true);
    asked.navigated(6, false);
    expect(policy.mayIndex(tab, [tab])).toBe(false);
  });

  it('without storage.session, are kept in memory for as long as the background lives', async () => {
    const first = new AskedTabs();
    first.add(12);
    await first.flushed();
    expect(await new AskedTabs().restore()).toEqual([12]);
  });
});
