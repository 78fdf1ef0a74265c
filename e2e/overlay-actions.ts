// Driving what the extension shows on a page as a person would: a real right-click on an element
// (the content script records what is under it), the context-menu handler the browser would call
// (headless browsers cannot open native menus; test builds expose it as __lensTest.onMenuClicked),
// and real clicks inside our (open, in test builds) shadow root.
import type { ChromiumHarness, FirefoxHarness, Harness, HPage } from './browsers';

export function raw(harness: Harness, page: HPage) {
  return harness.name === 'chromium' ? (harness as ChromiumHarness).raw(page) : (harness as FirefoxHarness).raw(page);
}

/** A real right-click in the middle of the element (the content script records what is under it). */
export async function rightClick(harness: Harness, page: HPage, colour: string): Promise<void> {
  const selector = `[data-colour="${colour}"]`;
  await page.evaluate((s) => document.querySelector(s)!.scrollIntoView({ block: 'center' }), selector);
  await page.evaluate((s) => {
    for (const old of document.querySelectorAll('[data-card-target]')) old.removeAttribute('data-card-target');
    document.querySelector(s)!.setAttribute('data-card-target', '1');
  }, selector);
  const r = await page.evaluate((s) => {
    const b = document.querySelector(s)!.getBoundingClientRect();
    return { x: b.left + b.width / 2, y: b.top + b.height / 2 };
  }, selector);
  await raw(harness, page).mouse.click(r.x, r.y, { button: 'right' });
}

/** A real right-click on the text at the top of page-nav.html (#intro): no image under the pointer. */
export async function rightClickText(harness: Harness, page: HPage): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, 0));
  const intro = await page.evaluate(() => {
    const b = document.getElementById('intro')!.getBoundingClientRect();
    return { x: b.left + 20, y: b.top + b.height / 2 };
  });
  await raw(harness, page).mouse.click(intro.x, intro.y, { button: 'right' });
}

/** A real click on a control inside our (open) shadow root. */
export async function clickInOverlay(harness: Harness, page: HPage, testid: string): Promise<void> {
  const selector = `[data-testid=${testid}]`;
  if (harness.name === 'chromium') await (harness as ChromiumHarness).raw(page).click(selector); // playwright's CSS pierces open shadow roots
  else await (harness as FirefoxHarness).raw(page).click(`pierce/${selector}`);
}

/** Calls the background's context-menu handler, the one `contextMenus.onClicked` calls. */
export async function menuClick(harness: Harness, tabId: number, menuItemId: 'find-similar' | 'classify-image'): Promise<void> {
  const info = { menuItemId, frameId: 0, editable: false, pageUrl: '' };
  if (harness.name === 'chromium') {
    await harness.evalInExtension(([i, t]) => (globalThis as any).__lensTest.onMenuClicked(i, { id: t }) as Promise<void>, [info, tabId] as const);
    return;
  }
  await harness.evalInExtension(async ([i, t]) => {
    const bg = (await (globalThis as any).browser.runtime.getBackgroundPage()) as any;
    await bg.__lensTest.onMenuClicked(i, { id: t });
  }, [info, tabId] as const);
}
