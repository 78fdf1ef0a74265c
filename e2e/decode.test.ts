// The engine decodes images with the browser's own decoder (src/engine/decode.ts), in the
// background where the pipeline runs. Chromium only: these checks need code run in the
// background, which the harness can do in Chromium's service worker but not in Firefox's
// event page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { launchChromium, type ChromiumHarness } from './browsers';
import { CHROME_DIR } from './test-build';

const REFS = resolve('../shared/refs/preprocess');
const referenceCases = (JSON.parse(readFileSync(join(REFS, 'cases.json'), 'utf8')) as { name: string; expected: string }[]).map((c) => ({
  name: c.name,
  png: Array.from(readFileSync(join(REFS, `${c.name}.png`))),
  expected: new Uint8Array(readFileSync(join(REFS, c.expected))),
}));

/** Largest difference in uint8 levels and how many bytes differ. */
function delta(actual: ArrayLike<number>, expected: ArrayLike<number>): { max: number; differing: number } {
  let max = 0;
  let differing = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (d) differing++;
    max = Math.max(max, d);
  }
  return { max, differing };
}

type RGB = [number, number, number];

describe('browser decoding in the background (Chromium)', () => {
  let harness: ChromiumHarness;
  beforeAll(async () => {
    harness = await launchChromium(resolve('dist-test/chrome'));
  });
  afterAll(async () => harness?.close());

  it('applies EXIF orientation: a 40x20 JPEG tagged "rotate 90° clockwise" decodes as 20x40', async () => {
    const decoded = await harness.evalInExtension(async () => {
      // Left half red, right half blue, stored landscape.
      const canvas = new OffscreenCanvas(40, 20);
      const ctx = canvas.getContext('2d')!;
      ctx.fillStyle = '#f00';
      ctx.fillRect(0, 0, 20, 20);
      ctx.fillStyle = '#00f';
      ctx.fillRect(20, 0, 20, 20);
      const jpeg = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/jpeg', quality: 1 })).arrayBuffer());
      // APP1 Exif segment, big-endian TIFF, IFD0 with one entry: Orientation (0x0112) = 6.
      const tiff = [0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0];
      const payload = [0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff];
      const app1 = [0xff, 0xe1, (payload.length + 2) >> 8, (payload.length + 2) & 0xff, ...payload];
      const tagged = new Uint8Array([...jpeg.subarray(0, 2), ...app1, ...jpeg.subarray(2)]);
      const decode = (globalThis as any).__lensTest.decodeImageBlob as (b: Blob) => Promise<{ data: Uint8ClampedArray; width: number; height: number }>;
      const image = await decode(new Blob([tagged], { type: 'image/jpeg' }));
      const at = (x: number, y: number) => Array.from(image.data.subarray((y * image.width + x) * 4, (y * image.width + x) * 4 + 3));
      return { width: image.width, height: image.height, top: at(10, 5), bottom: at(10, 35) };
    });
    expect([decoded.width, decoded.height]).toEqual([20, 40]);
    const near = (a: number[], b: RGB) => a.every((v, i) => Math.abs(v - b[i]) < 40);
    // Rotating 90° clockwise puts the stored left (red) half on top.
    expect(near(decoded.top, [255, 0, 0]), `top ${decoded.top}`).toBe(true);
    expect(near(decoded.bottom, [0, 0, 255]), `bottom ${decoded.bottom}`).toBe(true);
  });

  it('keeps straight (not premultiplied) alpha, so compositing on white is exact', async () => {
    const pixel = await harness.evalInExtension(async () => {
      const canvas = new OffscreenCanvas(4, 4);
      const ctx = canvas.getContext('2d')!;
      ctx.fillStyle = 'rgba(0, 0, 255, 0.5)';
      ctx.fillRect(0, 0, 4, 4);
      const png = await canvas.convertToBlob({ type: 'image/png' });
      const decode = (globalThis as any).__lensTest.decodeImageBlob as (b: Blob) => Promise<{ data: Uint8ClampedArray }>;
      return Array.from((await decode(png)).data.subarray(0, 4));
    });
    expect(pixel[2]).toBeGreaterThan(250); // premultiplied would read ~128
    expect(Math.abs(pixel[3] - 128)).toBeLessThan(2);
  });

  it('makes the preview from the model input: its square crop at 192 a side, a fine black-and-white pattern an even grey, transparency on white', async () => {
    const previews = await harness.evalInExtension(async () => {
      type Prepare = (b: Blob, spec: { imageSize: number }) => Promise<{ preview: Blob | null }>;
      const prepare = (globalThis as any).__lensTest.prepareImage as Prepare;
      const read = async (blob: Blob) => {
        const bitmap = await createImageBitmap(blob);
        const ctx = new OffscreenCanvas(bitmap.width, bitmap.height).getContext('2d')!;
        ctx.drawImage(bitmap, 0, 0);
        const { data } = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
        const levels = Array.from({ length: data.length / 4 }, (_, i) => data[i * 4 + 1]);
        const centre = levels[Math.floor(bitmap.height / 2) * bitmap.width + Math.floor(bitmap.width / 2)];
        return { width: bitmap.width, height: bitmap.height, min: Math.min(...levels), max: Math.max(...levels), centre, corner: levels[0] };
      };
      // One-pixel stripes, 2400x1600: a preview sampling a pixel here and there would be black or white in places.
      const canvas = new OffscreenCanvas(2400, 1600);
      const ctx = canvas.getContext('2d')!;
      ctx.fillStyle = '#fff';
      ctx.fillRect(0, 0, 2400, 1600);
      ctx.fillStyle = '#000';
      for (let x = 0; x < 2400; x += 2) ctx.fillRect(x, 0, 1, 1600);
      const stripes = await prepare(await canvas.convertToBlob({ type: 'image/png' }), { imageSize: 256 });
      // Transparent but for a dark square in the middle: the preview shows the rest on white.
      const sparse = new OffscreenCanvas(900, 300);
      sparse.getContext('2d')!.fillRect(420, 120, 60, 60);
      const clear = await prepare(await sparse.convertToBlob({ type: 'image/png' }), { imageSize: 256 });
      // Red, green and blue thirds side by side: the model's centre crop, and so the preview, is all green.
      const thirds = new OffscreenCanvas(900, 300);
      const tctx = thirds.getContext('2d')!;
      ['#f00', '#0f0', '#00f'].forEach((colour, i) => {
        tctx.fillStyle = colour;
        tctx.fillRect(i * 300, 0, 300, 300);
      });
      const thirdsPrepared = await prepare(await thirds.convertToBlob({ type: 'image/png' }), { imageSize: 256 });
      const channels = async (blob: Blob) => {
        const bitmap = await createImageBitmap(blob);
        const ctx = new OffscreenCanvas(bitmap.width, bitmap.height).getContext('2d')!;
        ctx.drawImage(bitmap, 0, 0);
        const { data } = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
        let red = 0;
        let blue = 0;
        let green = 255;
        for (let i = 0; i < data.length; i += 4) {
          red = Math.max(red, data[i]);
          green = Math.min(green, data[i + 1]);
          blue = Math.max(blue, data[i + 2]);
        }
        return { red, green, blue };
      };
      return { stripes: await read(stripes.preview!), clear: await read(clear.preview!), thirds: await channels(thirdsPrepared.preview!) };
    });
    expect([previews.stripes.width, previews.stripes.height]).toEqual([192, 192]);
    expect(previews.stripes.min, JSON.stringify(previews.stripes)).toBeGreaterThan(100);
    expect(previews.stripes.max, JSON.stringify(previews.stripes)).toBeLessThan(156);
    expect([previews.clear.width, previews.clear.height]).toEqual([192, 192]);
    expect(previews.clear.corner).toBeGreaterThan(250);
    expect(previews.clear.centre).toBeLessThan(60);
    // The resize filter and JPEG let a little of the edges in, far from the neighbouring thirds' full red or blue.
    expect(previews.thirds.red, JSON.stringify(previews.thirds)).toBeLessThan(90);
    expect(previews.thirds.blue, JSON.stringify(previews.thirds)).toBeLessThan(90);
    expect(previews.thirds.green, JSON.stringify(previews.thirds)).toBeGreaterThan(200);
  });

  it('prepareImage closes the full-size bitmap once the crop is on its canvas, before the read-back allocates as much again', async () => {
    const calls = await harness.evalInExtension(async () => {
      type Prepare = (b: Blob, spec: { imageSize: number }) => Promise<unknown>;
      const prepare = (globalThis as any).__lensTest.prepareImage as Prepare;
      const canvas = new OffscreenCanvas(1200, 900);
      canvas.getContext('2d')!.fillRect(100, 100, 300, 300);
      const picture = await canvas.convertToBlob({ type: 'image/png' });
      const log: string[] = [];
      const context = OffscreenCanvasRenderingContext2D.prototype;
      const { getImageData } = context;
      const { close } = ImageBitmap.prototype;
      context.getImageData = function (this: OffscreenCanvasRenderingContext2D, ...args: Parameters<typeof getImageData>) {
        log.push(`read ${args[2]}x${args[3]}`);
        return getImageData.apply(this, args);
      };
      ImageBitmap.prototype.close = function (this: ImageBitmap) {
        log.push(`close ${this.width}x${this.height}`);
        return close.call(this);
      };
      try {
        await prepare(picture, { imageSize: 256 });
      } finally {
        context.getImageData = getImageData;
        ImageBitmap.prototype.close = close;
      }
      return log;
    });
    // The crop's source window: the centre 900x900 and the columns the resize filter reaches
    // beyond it (preprocess.ts, sourceWindow). The preview reads nothing back; the last close is
    // the one every path makes, of a bitmap already closed (0x0).
    expect(calls).toEqual(['read 1x1', 'close 1200x900', 'read 904x900', 'close 0x0']);
  });

  it('bounds decoding: a 20000x20000 PNG is refused from its header, an over-budget image is shrunk, empty pixels fail', async () => {
    const outcome = await harness.evalInExtension(async () => {
      type Decode = (b: Blob, o?: { maxPixels?: number; targetSize?: number }) => Promise<{ data: Uint8ClampedArray; width: number; height: number }>;
      const decode = (globalThis as any).__lensTest.decodeImageBlob as Decode;
      const attempt = (blob: Blob, options?: { maxPixels?: number; targetSize?: number }) =>
        decode(blob, options).then(
          (image) => ({ width: image.width, height: image.height, pixel: Array.from(image.data.subarray(0, 4)) }),
          (error: Error) => ({ error: error.message }),
        );
      // A real 1000x800 PNG, then its IHDR rewritten to 20000x20000: the decoder is never asked.
      const canvas = new OffscreenCanvas(1000, 800);
      const ctx = canvas.getContext('2d')!;
      ctx.fillStyle = '#0a0';
      ctx.fillRect(0, 0, 1000, 800);
      const png = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
      const bomb = png.slice();
      new DataView(bomb.buffer).setUint32(16, 20000);
      new DataView(bomb.buffer).setUint32(20, 20000);
      const empty = new OffscreenCanvas(50, 50);
      empty.getContext('2d'); // nothing drawn: fully transparent
      const blank = await empty.convertToBlob({ type: 'image/png' });
      return {
        bomb: await attempt(new Blob([bomb], { type: 'image/png' })),
        shrunk: await attempt(new Blob([png], { type: 'image/png' }), { maxPixels: 200_000, targetSize: 64 }),
        tooNarrow: await attempt(new Blob([png], { type: 'image/png' }), { maxPixels: 200_000, targetSize: 600 }),
        blank: await attempt(blank),
        // prepareImage reads back only the crop's window (decode.ts, readPixels): an empty one fails as well.
        blankPrepared: await ((globalThis as any).__lensTest.prepareImage as (b: Blob, s: { imageSize: number }) => Promise<unknown>)(blank, { imageSize: 256 }).then(
          () => ({}),
          (error: Error) => ({ error: error.message }),
        ),
      };
    });
    expect(outcome.bomb).toEqual({ error: 'too many pixels to decode safely: 20000x20000 (400 MP)' });
    expect(outcome.shrunk).toMatchObject({ width: 500, height: 400 });
    expect((outcome.shrunk as { pixel: number[] }).pixel).toEqual([0, 170, 0, 255]);
    expect(outcome.tooNarrow).toMatchObject({ error: expect.stringContaining('too narrow to shrink') });
    expect(outcome.blank).toMatchObject({ error: expect.stringContaining('pixels could not be read') });
    expect(outcome.blankPrepared).toMatchObject({ error: expect.stringContaining('pixels could not be read') });
  });
});

/**
 * Runs in the extension's service worker: every reference case and a few generated wide and tall
 * pictures through prepareImage and through the whole-picture path, as HWC uint8 (float32 x/255
 * back to its byte: exact, as this spec has no mean/std).
 */
const modelInputs = async (cases: { name: string; png: number[] }[]) => {
  type Prepare = (b: Blob, spec: { imageSize: number }) => Promise<{ pixels: Float32Array; preview: Blob | null }>;
  type Decode = (b: Blob) => Promise<{ data: Uint8ClampedArray; width: number; height: number }>;
  type Preprocess = (image: { data: Uint8ClampedArray; width: number; height: number }, spec: { imageSize: number }) => Float32Array;
  const lens = (globalThis as any).__lensTest as { prepareImage: Prepare; decodeImageBlob: Decode; preprocess: Preprocess };
  const spec = { imageSize: 256 };
  const hwc = (chw: Float32Array) => {
    const plane = 256 * 256;
    return Array.from({ length: plane * 3 }, (_, i) => Math.round(chw[(i % 3) * plane + Math.floor(i / 3)] * 255));
  };
  const both = async (blob: Blob) => ({
    prepared: hwc((await lens.prepareImage(blob, spec)).pixels),
    whole: hwc(lens.preprocess(await lens.decodeImageBlob(blob), spec)),
  });
  const references = [];
  for (const c of cases) references.push({ name: c.name, ...(await both(new Blob([new Uint8Array(c.png)], { type: 'image/png' }))) });
  // Wide and tall pictures in every format, with detail up to the edges the window cuts.
  const generated = [];
  for (const [width, height, type] of [
    [2400, 900, 'image/jpeg'],
    [700, 2100, 'image/webp'],
    [1500, 1100, 'image/png'],
  ] as const) {
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d')!;
    for (let x = 0; x < width; x += 7) {
      ctx.fillStyle = `rgb(${(x * 37) % 256}, ${(x * 11) % 256}, ${(x * 5) % 256})`;
      ctx.fillRect(x, (x * 13) % height, 7, height / 3);
    }
    generated.push({ name: `${width}x${height} ${type}`, ...(await both(await canvas.convertToBlob({ type, quality: 0.9 }))) });
  }
  return { references, generated };
};

// Firefox's read-back of the window is checked by bench/prepare-stages.bench.ts (max |Δ| 0 on
// its pictures and the reference cases): here, the same check run from an extension page found
// the evaluated function in about:blank, without the event page's test hooks.
describe("the model input read back from the crop's window (Chromium)", () => {
  let harness: ChromiumHarness;
  beforeAll(async () => {
    harness = await launchChromium(CHROME_DIR);
  });
  afterAll(async () => harness?.close());

  it("prepareImage's model input is the whole picture's, and Pillow's within 1 level", async () => {
    const outcome = await harness.evalInExtension(modelInputs, referenceCases.map(({ name, png }) => ({ name, png })));
    for (const { name, prepared, whole } of [...outcome.references, ...outcome.generated]) {
      expect(delta(prepared, whole), name).toEqual({ max: 0, differing: 0 });
    }
    for (const { name, prepared } of outcome.references) {
      const { max, differing } = delta(prepared, referenceCases.find((c) => c.name === name)!.expected);
      console.log(`${name}: max |Δ| ${max} against Pillow, ${((100 * differing) / (256 * 256 * 3)).toFixed(3)} % of bytes differ`);
      expect(max, name).toBeLessThanOrEqual(1);
    }
  }, 180_000);
});
