// The decode worker's path for bench/page-pixels/page.ts: the file fetched, decoded with the
// engine's own decodeBitmap and its crop window read back and resized, as the extension does.
import { decodeBitmap, readPixels } from '../../src/engine/decode';
import { resizeAndCrop, sourceWindow } from '../../src/engine/preprocess';

export interface WorkerReply {
  id: number;
  decodeMs?: number;
  readMs?: number;
  /** The model input, uint8 HWC RGB. */
  crop?: Uint8Array;
  error?: string;
}

self.onmessage = async (e: MessageEvent<{ id: number; url: string; size: number }>) => {
  const { id, url, size } = e.data;
  try {
    const response = await fetch(url);
    const blob = new Blob([await response.arrayBuffer()], { type: response.headers.get('content-type') ?? '' });
    let t = performance.now();
    const bitmap = await decodeBitmap(blob);
    const decodeMs = performance.now() - t;
    t = performance.now();
    const window = readPixels(bitmap, sourceWindow(bitmap.width, bitmap.height, size));
    const readMs = performance.now() - t;
    bitmap.close();
    const crop = resizeAndCrop(window, size);
    const reply: WorkerReply = { id, decodeMs, readMs, crop };
    (self as unknown as Worker).postMessage(reply, [crop.buffer]);
  } catch (error) {
    (self as unknown as Worker).postMessage({ id, error: String(error) } satisfies WorkerReply);
  }
};
