// Commands to a tab's content scripts; a page that is gone or has no content script is not an error.
import browser from 'webextension-polyfill';
import type { PageCommand } from '../messages';

export function sendToTab(tabId: number, command: PageCommand, frameId?: number): void {
  browser.tabs.sendMessage(tabId, command, frameId === undefined ? undefined : { frameId }).catch(() => undefined);
}
