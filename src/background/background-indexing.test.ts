import { describe, expect, it } from 'vitest';
import { BackgroundIndexing } from './background-indexing';

const tab = (tabId: number, pageUrl: string, asked = false, pending = true) => ({ tabId, pageUrl, asked, hasPending: () => pending });

describe('BackgroundIndexing', () => {
  it('serves asked tabs always, unasked ones only when on', () => {
    const policy = new BackgroundIndexing();
    const a = tab(1, 'https://a.test/', true);
    const b = tab(2, 'https://b.test/');
    policy.shown(2);
    expect(policy.mayIndex(a, [a])).toBe(true);
    expect(policy.mayIndex(b, [b])).toBe(false);
    policy.configure({ enabled: true, excludedSites: [] });
    expect(policy.mayIndex(b, [b])).toBe(true);
  });

  it('leaves a tab opened in the background alone until it is first shown, and forgets closed tabs', () => {
    const policy = new BackgroundIndexing();
    policy.configure({ enabled: true, excludedSites: [] });
    const b = tab(2, 'https://b.test/');
    expect(policy.mayIndex(b, [b])).toBe(false);
    policy.shown(2);
    expect(policy.mayIndex(b, [b])).toBe(true);
    policy.shown(3); // another tab comes to the front: the page already looked at goes on
    expect(policy.mayIndex(b, [b])).toBe(true);
    policy.tabClosed(2);
    expect(policy.mayIndex(b, [b])).toBe(false); // a new tab that reuses the id starts unseen
  });

  it('waits while a tab the person asked for has images pending', () => {
    const policy = new BackgroundIndexing();
    policy.configure({ enabled: true, excludedSites: [] });
    policy.shown(2);
    const b = tab(2, 'https://b.test/');
    expect(policy.mayIndex(b, [b, tab(1, 'https://a.test/', true, true)])).toBe(false);
    expect(policy.mayIndex(b, [b, tab(1, 'https://a.test/', true, false)])).toBe(true);
  });

  it('never indexes excluded sites unasked (subdomains included), but does when asked', () => {
    const policy = new BackgroundIndexing();
    policy.configure({ enabled: true, excludedSites: ['bank.test'] });
    policy.shown(2);
    policy.shown(3);
    expect(policy.mayIndex(tab(2, 'https://www.bank.test/x'), [])).toBe(false);
    expect(policy.mayIndex(tab(3, 'https://news.test/'), [])).toBe(true);
    expect(policy.mayIndex(tab(2, 'https://www.bank.test/x', true), [])).toBe(true);
  });
});
