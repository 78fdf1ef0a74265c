// What can be done with a result besides looking at it: open it, copy its address or its pixels,
// download it (one or several). Every action reports what happened in words, failures included.
import browser from 'webextension-polyfill';
import { describe } from '../errors';
import { previewOf } from './thumbnail';
import { formatNumber, t, tn } from '../i18n';

/** Addresses the browser itself can open or download (page-local and blob: ones live only in the page). */
export function isAddressable(url: string): boolean {
  return /^(https?:|data:image\/)/i.test(url);
}

export async function openInNewTab(url: string): Promise<string> {
  if (!/^https?:/i.test(url)) return t('popupOpenPageOnly');
  await browser.tabs.create({ url, active: true });
  return t('popupOpened');
}

export async function copyAddress(url: string): Promise<string> {
  if (!isAddressable(url)) return t('popupNoAddress');
  await navigator.clipboard.writeText(url);
  return t('popupAddressCopied');
}

/** The image's bytes: from its address, else the background's preview (then `preview` is true). */
async function imageBlob(tabId: number, url: string): Promise<{ blob: Blob; preview: boolean }> {
  if (isAddressable(url)) {
    try {
      const response = await fetch(url, { credentials: 'omit', referrerPolicy: 'no-referrer' });
      if (response.ok) return { blob: await response.blob(), preview: false };
    } catch {
      // hotlink protection, expired link, offline: the preview below is what is left
    }
  }
  return { blob: await (await fetch(await previewOf(tabId, url))).blob(), preview: true };
}

/** Copies the pixels as PNG (the one image type every clipboard accepts). */
export async function copyImage(tabId: number, url: string): Promise<string> {
  const { blob, preview } = await imageBlob(tabId, url);
  const bitmap = await createImageBitmap(blob);
  const canvas = document.createElement('canvas');
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  canvas.getContext('2d')!.drawImage(bitmap, 0, 0);
  bitmap.close();
  const png = await new Promise<Blob>((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error(t('popupPngFailed')))), 'image/png'));
  await navigator.clipboard.write([new ClipboardItem({ 'image/png': png })]);
  return preview ? t('popupPreviewCopied') : t('popupImageCopied');
}

/**
 * Asks for the optional "downloads" permission. Must be the first thing a click handler awaits:
 * browsers grant permission requests only during the user's gesture.
 */
export function requestDownloads(): Promise<boolean> {
  return browser.permissions.request({ permissions: ['downloads'] });
}

/** Downloads each image by its address (the browser names the files); returns a sentence. */
export async function downloadImages(urls: readonly string[]): Promise<string> {
  const addressable = urls.filter(isAddressable);
  const skipped = urls.length - addressable.length;
  const failures: string[] = [];
  for (const url of addressable) {
    try {
      await browser.downloads.download({ url, conflictAction: 'uniquify' });
    } catch (error) {
      failures.push(describe(error));
    }
  }
  const done = addressable.length - failures.length;
  const parts = [tn('popupDownloading', done, formatNumber(done))];
  if (skipped) parts.push(tn('popupDownloadSkipped', skipped, formatNumber(skipped)));
  if (failures.length) parts.push(t('popupDownloadFailures', formatNumber(failures.length), failures[0]));
  return parts.join(' ');
}
