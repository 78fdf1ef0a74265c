import { describe, expect, it } from 'vitest';
import { contentSenderTab, isOwnExtensionPage } from './senders';

const self = { id: 'ours', baseUrl: 'chrome-extension://ours/' };

describe('sender checks', () => {
  it('take requests from our own pages only', () => {
    expect(isOwnExtensionPage({ id: 'ours', url: 'chrome-extension://ours/src/popup/popup.html' }, self)).toBe(true);
    expect(isOwnExtensionPage({ id: 'ours', url: 'chrome-extension://ours/src/popup/popup.html?tab=3', tab: { id: 3 } }, self)).toBe(true);
    expect(isOwnExtensionPage({ id: 'ours', url: 'chrome-extension://ours/src/options/options.html' }, self)).toBe(true);
    // Our content script in a page, another extension's frame, a frame with no address, a look-alike address.
    expect(isOwnExtensionPage({ id: 'ours', url: 'https://evil.test/', tab: { id: 3 } }, self)).toBe(false);
    expect(isOwnExtensionPage({ id: 'theirs', url: 'chrome-extension://theirs/frame.html' }, self)).toBe(false);
    expect(isOwnExtensionPage({ id: 'ours' }, self)).toBe(false);
    expect(isOwnExtensionPage({ id: 'ours', url: 'chrome-extension://ours.evil/x.html' }, self)).toBe(false);
    expect(isOwnExtensionPage({ id: 'theirs', url: 'chrome-extension://ours/src/popup/popup.html' }, self)).toBe(false);
  });

  it('take content messages from our content scripts in a tab', () => {
    expect(contentSenderTab({ id: 'ours', url: 'https://a.test/', tab: { id: 7 } }, self)).toBe(7);
    expect(contentSenderTab({ id: 'ours', url: 'https://a.test/' }, self)).toBeNull();
    expect(contentSenderTab({ id: 'theirs', url: 'https://a.test/', tab: { id: 7 } }, self)).toBeNull();
    expect(contentSenderTab({ id: 'ours', url: 'chrome-extension://ours/src/popup/popup.html', tab: { id: 7 } }, self)).toBeNull();
    expect(contentSenderTab({ id: 'ours', url: 'https://a.test/', tab: { id: -1 } }, self)).toBeNull();
  });
});
