// Runs in a plain page (Chromium or Firefox), in the page's main world, where a content script's
// code also runs: can the model input come from the pixels the page already decoded to show a
// picture, instead of a second decode in the extension's decode worker? For one picture: show it
// as a page does (an <img> at tile size, decoded and painted), then read its crop window from it
// on this main thread as a content script would (canvas drawImage + getImageData, then the
// Pillow-exact resize), and compare with the decode worker's path on the same file (fetch,
// createImageBitmap, read-back in a Worker). Bundled by bench/page-pixels.bench.ts.
import { compare } from '../fidelity';
import { resizeAndCrop, sourceWindow, toPixelValues } from '../../src/engine/preprocess';
import type { WorkerReply } from './worker';

export interface PixelsRequest {
  url: string;
  size: number;
  /** The width the page shows the picture at (CSS px). */
  shownWidth: number;
}

export interface PixelsRecord {
  url: string;
  width: number;
  height: number;
  /** src set → decoded and two frames painted: the page's own work, for reference. */
  shownMs: number;
  /** On the main thread, synchronous: canvas drawImage of the crop window + getImageData. */
  mainReadMs: number;
  /** On the main thread: the Pillow-exact resize and crop of that window, and the float input. */
  mainPreprocessMs: number;
  /** On the main thread: the crop as base64, how a content script would send it (JSON messaging). */
  mainEncodeMs: number;
  /** The read threw (a canvas tainted by a picture of another origin): why. */
  refused?: string;
  /** The decode worker's path on the same file: decode (decoder threads) and the window's read-back. */
  workerDecodeMs: number;
  workerReadMs: number;
  /** Model input (uint8 HWC RGB) from the page's pixels against the worker's: max |Δ| in levels. */
  maxDelta: number;
  differing: number;
}

const now = () => performance.now();
const frame = () => new Promise<void>((resolve) => requestAnimationFrame(() => resolve()));

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
let nextId = 1;
const waiting = new Map<number, (reply: WorkerReply) => void>();
worker.onmessage = (e: MessageEvent<WorkerReply>) => {
  waiting.get(e.data.id)?.(e.data);
  waiting.delete(e.data.id);
};
const inWorker = (url: string, size: number) =>
  new Promise<WorkerReply>((resolve) => {
    const id = nextId++;
    waiting.set(id, resolve);
    worker.postMessage({ id, url, size });
  });

function base64(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

export async function measure({ url, size, shownWidth }: PixelsRequest): Promise<PixelsRecord> {
  const img = new Image();
  img.style.width = `${shownWidth}px`;
  let t = now();
  img.src = url;
  document.body.append(img);
  await img.decode();
  await frame();
  await frame();
  const shownMs = now() - t;
  const width = img.naturalWidth;
  const height = img.naturalHeight;
  const window = sourceWindow(width, height, size);

  t = now();
  const canvas = document.createElement('canvas');
  canvas.width = window.width;
  canvas.height = window.height;
  const context = canvas.getContext('2d', { willReadFrequently: true })!;
  context.drawImage(img, window.left, window.top, window.width, window.height, 0, 0, window.width, window.height);
  let data: Uint8ClampedArray | undefined;
  let refused: string | undefined;
  try {
    data = context.getImageData(0, 0, window.width, window.height).data;
  } catch (error) {
    refused = String(error);
  }
  const mainReadMs = now() - t;
  canvas.width = 0;

  let mainPreprocessMs = NaN;
  let mainEncodeMs = NaN;
  let crop: Uint8Array | undefined;
  if (data) {
    t = now();
    crop = resizeAndCrop({ data, width: window.width, height: window.height, within: { left: window.left, top: window.top, of: { width, height } } }, size);
    toPixelValues(crop, size);
    mainPreprocessMs = now() - t;
    t = now();
    base64(crop);
    mainEncodeMs = now() - t;
  }
  img.remove();

  const shown = { url, width, height, shownMs, mainReadMs, mainPreprocessMs, mainEncodeMs, refused };
  // A refused picture has nothing to compare; the worker could not fetch it either (no CORS).
  if (!crop) return { ...shown, workerDecodeMs: NaN, workerReadMs: NaN, maxDelta: NaN, differing: NaN };
  const reply = await inWorker(url, size);
  if (reply.error) throw new Error(`worker: ${reply.error}`);
  return { ...shown, workerDecodeMs: reply.decodeMs!, workerReadMs: reply.readMs!, ...compare(crop, reply.crop!) };
}

(globalThis as unknown as { measure: typeof measure }).measure = measure;
