// Identical bytes at different addresses (the same picture from two CDN hosts, cache-busting
// query strings, a blob: copy of a shown image) are one image to the person looking at the page.
// With the mergeDuplicates setting on (the default), the first entry with given bytes stands for
// all of them: the others are not counted in `found`, never ranked as separate results, and when
// the first is highlighted (or revealed) every element showing any copy lights up.
// De-duplication by address happens earlier, in the content script (one entry per URL).
import type { ImageEntry, TabState } from './tabs';

let merge = true;

/** Returns whether the setting changed. */
export function setMergeDuplicates(on: boolean): boolean {
  if (merge === on) return false;
  merge = on;
  return true;
}

/**
 * Records the entry's bytes; if another entry of the tab already has them, marks this one a copy
 * of it and returns true (the caller then skips embedding it).
 */
export function markIfDuplicate(tab: TabState, entry: ImageEntry, sha256: string): boolean {
  entry.sha256 = sha256;
  if (!merge) return false;
  for (const other of tab.entries.values()) {
    if (other !== entry && other.sha256 === sha256 && !other.duplicateOf && other.status !== 'failed') {
      entry.duplicateOf = other.url;
      entry.status = 'indexed';
      entry.embedding = undefined;
      entry.error = undefined;
      return true;
    }
  }
  return false;
}

/** The URL and the URLs of all its copies: what the page should light up for one result. */
export function copiesOf(tab: TabState, url: string): string[] {
  const urls = [url];
  for (const entry of tab.entries.values()) if (entry.duplicateOf === url) urls.push(entry.url);
  return urls;
}

/** After the setting changed: copies become separate images again, or images with equal bytes merge. */
export function regroupDuplicates(tab: TabState): void {
  for (const entry of tab.entries.values()) {
    if (!merge && entry.duplicateOf) {
      entry.duplicateOf = undefined;
      entry.status = 'pending'; // re-indexing costs no model run: its bytes' embedding is cached
    } else if (merge && entry.sha256 && !entry.duplicateOf && entry.status === 'indexed') {
      markIfDuplicate(tab, entry, entry.sha256);
    }
  }
}
