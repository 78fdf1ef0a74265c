// The page's right-click menu: "Find similar images" and "Classify image", on any kind of image
// the discovery finds. The browser's menu only knows <img> (`srcUrl`), so the items show wherever
// an image can be under the pointer, and the frame that was right-clicked says which discovered
// image that was (content/context-target.ts); when none, the page says so plainly.
import browser, { type Menus, type Tabs } from 'webextension-polyfill';
import { type PageCommand } from '../messages';
import { isImageUrl, parseContextTargetResponse } from '../message-validators';
import { describe } from '../errors';
import { t } from '../i18n';
import { sendToTab } from './page-commands';

export const MENU_SIMILAR = 'find-similar';
export const MENU_CLASSIFY = 'classify-image';
/** Where an image (a CSS background, a canvas, an SVG, a poster) can be under the pointer. */
const CONTEXTS: Menus.ContextType[] = ['page', 'frame', 'link', 'image', 'video'];

export function createPageMenus(): void {
  browser.contextMenus
    .removeAll()
    .then(() => {
      browser.contextMenus.create({ id: MENU_SIMILAR, title: t('menuFindSimilar'), contexts: CONTEXTS });
      browser.contextMenus.create({ id: MENU_CLASSIFY, title: t('menuClassify'), contexts: CONTEXTS });
    })
    .catch((error: unknown) => console.error('context menu', error));
}

export interface PageMenuActions {
  /** Ranks the tab's images against this one and lights the page up. */
  similar(tabId: number, url: string, frameId: number): Promise<void>;
  /** Classifies it; the card on the page shows the pending state, the answer or the failure. */
  classify(tabId: number, url: string, frameId: number): Promise<unknown>;
}

/** The discovered image under the last right-click in that frame; null when there was none. */
async function imageUnderPointer(tabId: number, frameId: number, srcUrl: string | undefined): Promise<string | null> {
  const command: PageCommand = { type: 'context-target' };
  const answer = await browser.tabs.sendMessage(tabId, command, { frameId }).catch(() => undefined);
  const target = parseContextTargetResponse(answer);
  if (target) return target.url;
  // No content script answered (a page it cannot run in): the browser's own idea of an <img>.
  return srcUrl && isImageUrl(srcUrl) ? srcUrl : null;
}

/** What `contextMenus.onClicked` calls (and e2e tests, since headless browsers cannot open native menus). */
export async function onMenuClicked(info: Menus.OnClickData, tab: Tabs.Tab | undefined, actions: PageMenuActions): Promise<void> {
  if (info.menuItemId !== MENU_SIMILAR && info.menuItemId !== MENU_CLASSIFY) return;
  const tabId = tab?.id;
  if (tabId === undefined || tabId < 0) return;
  const frameId = info.frameId ?? 0;
  const url = await imageUnderPointer(tabId, frameId, info.srcUrl);
  if (!url) {
    sendToTab(tabId, { type: 'notice', kind: 'no-image' }, frameId);
    return;
  }
  if (info.menuItemId === MENU_CLASSIFY) {
    // The card shows the failure next to the image.
    await actions.classify(tabId, url, frameId).catch((error: unknown) => console.error('classify failed', error));
    return;
  }
  try {
    await actions.similar(tabId, url, frameId);
  } catch (error) {
    sendToTab(tabId, { type: 'notice', kind: 'similar-failed', detail: describe(error) }, frameId);
  }
}
