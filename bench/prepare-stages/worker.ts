// Runs in a dedicated Worker of a plain page (Chromium or Firefox), like the extension's decode
// worker: times each stage of prepareImage (src/engine/prepare-image.ts) on one image file, and
// the alternatives measured against it. Bundled by bench/prepare-stages.bench.ts.
import { decodeBitmap, readPixels } from '../../src/engine/decode';
import { drawCropPreview, drawPreview, encodePreview, previewSize } from '../../src/engine/prepare-image';
import { preprocess, resizeAndCrop, sourceWindow, toPixelValues, type RGBAImage } from '../../src/engine/preprocess';
import { compare } from '../fidelity';

export interface StageRequest {
  url: string;
  type: string;
  size: number;
  /** Intermediate shortest sides, as multiples of `size`, to decode at instead of full size. */
  factors: number[];
}

export interface FidelityRecord {
  factor: number;
  quality: ResizeQuality;
  /** The intermediate's shortest side; 0 when the source is not larger than it (full decode kept). */
  side: number;
  decodeMs: number;
  readBackMs: number;
  preprocessMs: number;
  /** Against the full-decode path's model input (uint8 HWC RGB). */
  maxDelta: number;
  differing: number;
}

export interface StageRecord {
  url: string;
  width: number;
  height: number;
  decodeMs: number;
  readBackMs: number;
  preprocessMs: number;
  /** The preview from the model input's crop (as built): its draw, then its encode. */
  previewDrawMs: number;
  previewEncodeMs: number;
  /** prepareImage's stages as built, end to end. */
  totalMs: number;
  /** The preview drawn from the whole bitmap by halving steps, with its encode (before). */
  previewWholeMs: number;
  /** The whole picture read back and preprocessed (before the window), and its difference to the window's input. */
  fullReadBackMs: number;
  fullPreprocessMs: number;
  windowMaxDelta: number;
  /** The window read back through a VideoFrame (no canvas) instead: its time and difference; NaN where unsupported. */
  videoFrameMs: number;
  videoFrameMaxDelta: number;
  previewHighMs: number;
  previewMediumMs: number;
  previewLowMs: number;
  reduced: FidelityRecord[];
}

export interface ReferenceRequest {
  png: string;
  rgb: string;
  size: number;
  factors: number[];
}

export interface ReferenceRecord {
  factor: number;
  quality: ResizeQuality;
  side: number;
  maxDelta: number;
  differing: number;
}

const now = () => performance.now();

/** The bitmap decoded so that its shortest side is `side` (straight alpha, oriented as shown). */
function decodeAt(blob: Blob, width: number, height: number, side: number, quality: ResizeQuality): Promise<ImageBitmap> {
  const scale = side / Math.min(width, height);
  return createImageBitmap(blob, {
    imageOrientation: 'from-image',
    premultiplyAlpha: 'none',
    colorSpaceConversion: 'default',
    resizeWidth: Math.max(side, Math.round(width * scale)),
    resizeHeight: Math.max(side, Math.round(height * scale)),
    resizeQuality: quality,
  });
}

async function reducedPath(blob: Blob, width: number, height: number, size: number, factor: number, quality: ResizeQuality, reference: Uint8Array): Promise<FidelityRecord> {
  const side = factor * size;
  if (Math.min(width, height) <= side) return { factor, quality, side: 0, decodeMs: 0, readBackMs: 0, preprocessMs: 0, maxDelta: 0, differing: 0 };
  let t = now();
  const bitmap = await decodeAt(blob, width, height, side, quality);
  const decodeMs = now() - t;
  t = now();
  let image: RGBAImage;
  try {
    image = readPixels(bitmap, sourceWindow(bitmap.width, bitmap.height, size));
  } finally {
    bitmap.close();
  }
  const readBackMs = now() - t;
  t = now();
  const rgb = resizeAndCrop(image, size);
  const preprocessMs = now() - t;
  return { factor, quality, side, decodeMs, readBackMs, preprocessMs, ...compare(rgb, reference) };
}

/** WebCodecs' copy of a bitmap's pixels, converted to RGBA by the browser: one copy, no canvas. */
async function readThroughVideoFrame(bitmap: ImageBitmap, rect: { left: number; top: number; width: number; height: number }, expected: Uint8Array | Uint8ClampedArray) {
  if (typeof VideoFrame !== 'function') return { videoFrameMs: NaN, videoFrameMaxDelta: NaN };
  const begin = now();
  const frame = new VideoFrame(bitmap, { timestamp: 0 });
  const data = new Uint8Array(rect.width * rect.height * 4);
  try {
    await frame.copyTo(data, { rect: { x: rect.left, y: rect.top, width: rect.width, height: rect.height }, format: 'RGBA' } as VideoFrameCopyToOptions);
  } finally {
    frame.close();
  }
  const videoFrameMs = now() - begin;
  return { videoFrameMs, videoFrameMaxDelta: compare(data, new Uint8Array(expected.buffer, expected.byteOffset, expected.length)).maxDelta };
}

async function stages({ url, type, size, factors }: StageRequest): Promise<StageRecord> {
  const blob = new Blob([await (await fetch(url)).arrayBuffer()], { type });
  const spec = { imageSize: size };
  const start = now();
  let t = start;
  const bitmap = await decodeBitmap(blob);
  const decodeMs = now() - t;
  const { width, height } = bitmap;
  t = now();
  const window = readPixels(bitmap, sourceWindow(width, height, size));
  const readBackMs = now() - t;
  t = now();
  const crop = resizeAndCrop(window, size);
  toPixelValues(crop, size);
  const preprocessMs = now() - t;
  t = now();
  const canvas = drawCropPreview(crop, size);
  const previewDrawMs = now() - t;
  t = now();
  const preview = canvas ? await encodePreview(canvas) : null;
  const previewEncodeMs = now() - t;
  if (!preview) throw new Error(`no preview for ${url}`);
  const totalMs = now() - start;
  t = now();
  const whole = drawPreview(bitmap);
  if (!whole || !(await encodePreview(whole))) throw new Error(`no whole-picture preview for ${url}`);
  const previewWholeMs = now() - t;

  const { videoFrameMs, videoFrameMaxDelta } = await readThroughVideoFrame(bitmap, sourceWindow(width, height, size), window.data).catch((error) => {
    console.warn(`VideoFrame read-back: ${String(error)}`);
    return { videoFrameMs: NaN, videoFrameMaxDelta: NaN };
  });
  t = now();
  const image = readPixels(bitmap);
  const fullReadBackMs = now() - t;
  t = now();
  preprocess(image, spec);
  const fullPreprocessMs = now() - t;

  bitmap.close();
  // The preview in one step at each smoothing quality (as built: halving steps, above). Each on a
  // bitmap of its own (Skia keeps a bitmap's mip levels once built), and timed with its encode:
  // a canvas may defer the drawing until its pixels are needed.
  const previewWith = async (quality: ImageSmoothingQuality) => {
    const fresh = await decodeBitmap(blob);
    const begin = now();
    const preview = previewSize(fresh);
    const drawn = new OffscreenCanvas(preview.width, preview.height);
    const context = drawn.getContext('2d')!;
    context.imageSmoothingQuality = quality;
    context.drawImage(fresh, 0, 0, drawn.width, drawn.height);
    await encodePreview(drawn);
    const ms = now() - begin;
    fresh.close();
    return ms;
  };
  const previewHighMs = await previewWith('high');
  const previewMediumMs = await previewWith('medium');
  const previewLowMs = await previewWith('low');

  const reference = resizeAndCrop(image, size);
  const windowMaxDelta = compare(resizeAndCrop(window, size), reference).maxDelta;
  const reduced: FidelityRecord[] = [];
  for (const factor of factors) {
    for (const quality of ['high', 'medium'] as const) reduced.push(await reducedPath(blob, width, height, size, factor, quality, reference));
  }
  return { url, width, height, decodeMs, readBackMs, preprocessMs, previewDrawMs, previewEncodeMs, totalMs, previewWholeMs, fullReadBackMs, fullPreprocessMs, windowMaxDelta, videoFrameMs, videoFrameMaxDelta, previewHighMs, previewMediumMs, previewLowMs, reduced };
}

/** A reference case (../shared/refs/preprocess): the reduced decode against Pillow's expected bytes. */
async function referenceCase({ png, rgb, size, factors }: ReferenceRequest): Promise<ReferenceRecord[]> {
  const blob = await (await fetch(png)).blob();
  const expected = new Uint8Array(await (await fetch(rgb)).arrayBuffer());
  const full = await decodeBitmap(blob);
  const { width, height } = full;
  const records: ReferenceRecord[] = [];
  try {
    records.push({ factor: 0, quality: 'high', side: Math.min(width, height), ...compare(resizeAndCrop(readPixels(full), size), expected) });
  } finally {
    full.close();
  }
  for (const factor of factors) {
    for (const quality of ['high', 'medium'] as const) {
      const side = factor * size;
      if (Math.min(width, height) <= side) {
        records.push({ factor, quality, side: 0, maxDelta: 0, differing: 0 });
        continue;
      }
      const bitmap = await decodeAt(blob, width, height, side, quality);
      try {
        records.push({ factor, quality, side, ...compare(resizeAndCrop(readPixels(bitmap), size), expected) });
      } finally {
        bitmap.close();
      }
    }
  }
  return records;
}

addEventListener('message', async (event: MessageEvent<{ id: number; stage?: StageRequest; reference?: ReferenceRequest }>) => {
  const { id, stage, reference } = event.data;
  try {
    const result = stage ? await stages(stage) : await referenceCase(reference!);
    postMessage({ id, result });
  } catch (error) {
    postMessage({ id, error: String(error) });
  }
});
postMessage({ ready: true });
