// Image bytes that only the page can give: the frame that reported the image draws or reads it
// (see content/read-image.ts) and answers with a data: URL, validated here. When even the page
// cannot read the pixels (cross-origin, no CORS, and the site refused our own fetch), a crop of
// a screenshot of the tab is the last resort: it shows exactly what the person sees.
import browser from 'webextension-polyfill';
import { type PageCommand } from '../messages';
import { parseCaptureResponse, parsePageImageResponse } from '../message-validators';
import { Limiter } from '../concurrency';
import { dataUrlToImage, ImageFetchError, type FetchedImage } from './image-bytes';
import { withDeadline } from './deadline';

/**
 * Longest the page may take to draw an image for us: an image that never loads there would
 * otherwise hold one of the tab's page-read slots for good.
 */
const PAGE_READ_MS = 8_000;

/** Chrome allows two captureVisibleTab calls per second; one at a time, spaced out, stays under. */
const CAPTURE_GAP_MS = 600;
const captures = new Limiter(1);
let lastCaptureAt = 0;

/**
 * An image only a screenshot can read, while its tab is in the background: its entry fails with
 * reason `needs-visible-tab` and is tried again when the tab is shown (see main.ts).
 */
export class NeedsVisibleTabError extends ImageFetchError {
  constructor() {
    super('it can only be read from the screen while its tab is shown');
  }
}

/** The page could not give the pixels; `capturable` says a screenshot would show them. */
export class PageReadError extends ImageFetchError {
  constructor(
    message: string,
    readonly capturable: boolean,
  ) {
    super(message);
  }
}

function sendToFrame(tabId: number, frameId: number, command: PageCommand): Promise<unknown> {
  return browser.tabs.sendMessage(tabId, command, { frameId }).catch(() => {
    throw new ImageFetchError('the page did not answer (the image left the page, or the page was closed)');
  });
}

/** Asks the frame for the image's pixels (or to draw `svg`, markup fetched by the background). */
export async function readFromPage(tabId: number, frameId: number, url: string, svg?: string): Promise<FetchedImage> {
  const answer = sendToFrame(tabId, frameId, { type: 'read-image', url, ...(svg === undefined ? {} : { svg }) });
  const response = parsePageImageResponse(await withDeadline(answer, PAGE_READ_MS, 'the page drawing the image'));
  if (!response) throw new ImageFetchError('the page sent no usable image');
  if (!response.ok) throw new PageReadError(response.error, response.capturable);
  return dataUrlToImage(response.dataUrl);
}

/** Crops the image out of a screenshot of the visible tab (top frame only, fully on screen). */
export async function captureFromScreen(tabId: number, frameId: number, url: string): Promise<FetchedImage> {
  if (frameId !== 0) throw new ImageFetchError('the pixels cannot be read inside this frame');
  // captureVisibleTab shows whatever tab is in front: ours must be, before and after.
  const shown = async (): Promise<boolean> => (await browser.tabs.get(tabId).catch(() => undefined))?.active === true;
  return captures.run(async () => {
    const tab = await browser.tabs.get(tabId);
    if (!tab.active) throw new NeedsVisibleTabError();
    const wait = lastCaptureAt + CAPTURE_GAP_MS - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const prepared = parseCaptureResponse(await sendToFrame(tabId, frameId, { type: 'prepare-capture', url }));
    if (!prepared) throw new ImageFetchError('the page did not say where the image is');
    if (!prepared.ok) throw new ImageFetchError(`cannot capture the image: ${prepared.error}`);
    let shot: string;
    try {
      if (!(await shown())) throw new NeedsVisibleTabError();
      shot = await browser.tabs.captureVisibleTab(tab.windowId, { format: 'png' });
    } catch (error) {
      if (error instanceof ImageFetchError || !(await shown())) throw new NeedsVisibleTabError();
      throw new ImageFetchError(`cannot capture the tab (${(error as Error).message})`);
    } finally {
      lastCaptureAt = Date.now();
    }
    if (!(await shown())) throw new NeedsVisibleTabError();
    const screen = await createImageBitmap(dataUrlToImage(shot).blob);
    try {
      const { x, y, width, height, devicePixelRatio: scale } = prepared.rect;
      const sx = Math.max(0, Math.round(x * scale));
      const sy = Math.max(0, Math.round(y * scale));
      const sw = Math.min(screen.width - sx, Math.round(width * scale));
      const sh = Math.min(screen.height - sy, Math.round(height * scale));
      if (sw <= 0 || sh <= 0) throw new ImageFetchError('the image is outside the captured area');
      const canvas = new OffscreenCanvas(sw, sh);
      const context = canvas.getContext('2d');
      if (!context) throw new ImageFetchError('no 2D canvas available');
      context.drawImage(screen, sx, sy, sw, sh, 0, 0, sw, sh);
      const blob = await canvas.convertToBlob({ type: 'image/png' });
      return { blob, bytes: new Uint8Array(await blob.arrayBuffer()), etag: null, lastModified: null };
    } finally {
      screen.close();
    }
  });
}
