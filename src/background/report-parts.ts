// A frame's image list may arrive in parts (content script: one big message is a long task for
// the page to send). The background acts on a frame's list only once it is whole, so the tab's
// state never sees half a report (which would drop, then re-add, the images of the other parts).

import { MAX_IMAGES_PER_MESSAGE, type ContentMessage, type FoundImage } from '../messages';

type ImagesFound = Extract<ContentMessage, { type: 'images-found' }>;

interface Pending {
  scan: number;
  parts: (FoundImage[] | undefined)[];
  received: number;
}

export class ReportAssembly {
  private readonly pending = new Map<string, Pending>();

  /**
   * The frame's whole report once its last missing part arrived (a report sent in one message is
   * whole at once); undefined while parts are missing. A part of a newer report drops the parts of
   * an older one: the frame has scanned again and only its newest list counts.
   */
  add(tabId: number, frameId: number, message: ImagesFound): ImagesFound | undefined {
    const key = `${tabId}/${frameId}`;
    const part = message.part;
    if (!part) {
      this.pending.delete(key);
      return message;
    }
    let entry = this.pending.get(key);
    if (!entry || entry.scan !== part.scan || entry.parts.length !== part.count) {
      entry = { scan: part.scan, parts: new Array<FoundImage[] | undefined>(part.count).fill(undefined), received: 0 };
      this.pending.set(key, entry);
    }
    if (entry.parts[part.index] === undefined) entry.received++;
    entry.parts[part.index] = message.images;
    if (entry.received < part.count) return undefined;
    this.pending.delete(key);
    const images = entry.parts.flatMap((p) => p ?? []);
    if (images.length > MAX_IMAGES_PER_MESSAGE) return undefined; // more than a frame may list: not a report of ours
    const { part: _, ...whole } = message;
    return { ...whole, images };
  }

  forgetTab(tabId: number): void {
    for (const key of this.pending.keys()) if (key.startsWith(`${tabId}/`)) this.pending.delete(key);
  }
}
