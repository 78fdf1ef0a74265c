import { beforeEach, describe, expect, it } from 'vitest';
import { BackgroundIndexing } from './background-indexing';

const WINDOW = 1;
const OTHER_WINDOW = 2;
/** Tabs the person asked for, as AskedTabs answers (the tests' tabs add themselves). */
let asked = new Set<number>();
const tab = (tabId: number, pageUrl: string, isAsked = false, pending = true) => {
  if (isAsked) asked.add(tabId);
  return { tabId, pageUrl, hasPending: () => pending };
};

beforeEach(() => {
  asked = new Set();
});

function enabledPolicy(): BackgroundIndexing {
  const policy = new BackgroundIndexing(asked);
  policy.configure({ enabled: true, excludedSites: [] });
  return policy;
}

describe('BackgroundIndexing', () => {
  it('serves asked tabs always, unasked ones only when on', () => {
    const policy = new BackgroundIndexing(asked);
    const a = tab(1, 'https://a.test/', true);
    const b = tab(2, 'https://b.test/');
    policy.shown(2, WINDOW);
    expect(policy.mayIndex(a, [a])).toBe(true);
    expect(policy.mayIndex(b, [b])).toBe(false);
    policy.configure({ enabled: true, excludedSites: [] });
    expect(policy.mayIndex(b, [b])).toBe(true);
  });

  it('leaves a tab opened in the background alone until it is shown, and forgets closed tabs', () => {
    const policy = enabledPolicy();
    const b = tab(2, 'https://b.test/');
    expect(policy.mayIndex(b, [b])).toBe(false);
    policy.shown(2, WINDOW);
    expect(policy.mayIndex(b, [b])).toBe(true);
    policy.tabClosed(2);
    expect(policy.mayIndex(b, [b])).toBe(false); // a new tab that reuses the id starts unseen
  });

  it('pauses a tab while another tab of its window is in front, and resumes it when shown again', () => {
    const policy = enabledPolicy();
    const b = tab(2, 'https://b.test/');
    policy.shown(2, WINDOW);
    policy.shown(3, WINDOW);
    expect(policy.mayIndex(b, [b])).toBe(false);
    policy.shown(2, WINDOW);
    expect(policy.mayIndex(b, [b])).toBe(true);
  });

  it('goes on with a tab in front of its own window while another window changes tabs', () => {
    const policy = enabledPolicy();
    const b = tab(2, 'https://b.test/');
    policy.shown(2, WINDOW);
    policy.shown(3, OTHER_WINDOW);
    policy.shown(4, OTHER_WINDOW);
    expect(policy.mayIndex(b, [b])).toBe(true);
    policy.windowClosed(WINDOW);
    expect(policy.mayIndex(b, [b])).toBe(false);
  });

  it('pauses a tab moved to another window behind that window\'s tab in front', () => {
    const policy = enabledPolicy();
    const b = tab(2, 'https://b.test/');
    policy.shown(2, WINDOW);
    policy.shown(2, OTHER_WINDOW); // dragged out, shown in its new window
    policy.shown(5, WINDOW); // its old window shows another tab: b is still on screen
    expect(policy.mayIndex(b, [b])).toBe(true);
    policy.shown(6, OTHER_WINDOW);
    expect(policy.mayIndex(b, [b])).toBe(false);
  });

  it('never pauses a tab the person asked for, shown or not', () => {
    const policy = enabledPolicy();
    const a = tab(1, 'https://a.test/', true);
    policy.shown(1, WINDOW);
    policy.shown(3, WINDOW);
    expect(policy.mayIndex(a, [a])).toBe(true);
  });

  it('waits while a tab the person asked for has images pending', () => {
    const policy = enabledPolicy();
    policy.shown(2, WINDOW);
    const b = tab(2, 'https://b.test/');
    expect(policy.mayIndex(b, [b, tab(1, 'https://a.test/', true, true)])).toBe(false);
    expect(policy.mayIndex(b, [b, tab(1, 'https://a.test/', true, false)])).toBe(true);
  });

  it('never indexes excluded sites unasked (subdomains included), but does when asked', () => {
    const policy = new BackgroundIndexing(asked);
    policy.configure({ enabled: true, excludedSites: ['bank.test'] });
    policy.shown(2, WINDOW);
    policy.shown(3, OTHER_WINDOW);
    expect(policy.mayIndex(tab(2, 'https://www.bank.test/x'), [])).toBe(false);
    expect(policy.mayIndex(tab(3, 'https://news.test/'), [])).toBe(true);
    expect(policy.mayIndex(tab(2, 'https://www.bank.test/x', true), [])).toBe(true);
  });
});

describe('BackgroundIndexing and minimised windows', () => {
  it('pauses the tab in front of a minimised window, and resumes it when the window is restored', () => {
    const policy = enabledPolicy();
    const b = tab(2, 'https://b.test/');
    const c = tab(3, 'https://c.test/');
    policy.shown(2, WINDOW);
    policy.shown(3, OTHER_WINDOW);
    policy.windowStates([{ id: WINDOW, state: 'minimized' }, { id: OTHER_WINDOW, state: 'normal' }]);
    expect(policy.mayIndex(b, [b, c])).toBe(false);
    expect(policy.mayIndex(c, [b, c])).toBe(true);
    policy.windowStates([{ id: WINDOW, state: 'maximized' }, { id: OTHER_WINDOW, state: 'normal' }]);
    expect(policy.mayIndex(b, [b, c])).toBe(true);
  });

  it('still serves a tab the person asked for in a minimised window', () => {
    const policy = enabledPolicy();
    const a = tab(1, 'https://a.test/', true);
    policy.shown(1, WINDOW);
    policy.windowStates([{ id: WINDOW, state: 'minimized' }]);
    expect(policy.mayIndex(a, [a])).toBe(true);
  });
});
