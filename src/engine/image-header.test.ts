import { describe, expect, it } from 'vitest';
import { readImageHeader } from './image-header';
import { encodePng } from './png';

const be32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
const be16 = (n: number) => [(n >> 8) & 255, n & 255];
const le16 = (n: number) => [n & 255, (n >> 8) & 255];
const le24 = (n: number) => [n & 255, (n >> 8) & 255, (n >> 16) & 255];
const le32 = (n: number) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255];
const text = (s: string) => [...s].map((c) => c.charCodeAt(0));
const bytes = (...parts: number[][]) => new Uint8Array(parts.flat());

const pngHeader = (w: number, h: number) => bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], be32(13), text('IHDR'), be32(w), be32(h), [8, 6, 0, 0, 0]);

function jpegHeader(w: number, h: number, opts: { orientation?: number; sof?: number } = {}): Uint8Array {
  const app0 = [0xff, 0xe0, ...be16(16), ...text('JFIF\0'), 1, 1, 0, 0, 1, 0, 1, 0, 0];
  const tiff = [...text('MM'), 0, 42, ...be32(8), ...be16(1), ...be16(0x0112), ...be16(3), ...be32(1), ...be16(opts.orientation ?? 1), 0, 0, ...be32(0)];
  const exif = [...text('Exif\0\0'), ...tiff];
  const app1 = opts.orientation ? [0xff, 0xe1, ...be16(exif.length + 2), ...exif] : [];
  const dqt = [0xff, 0xdb, ...be16(67), 0, ...new Array(64).fill(1)];
  const sof = [0xff, opts.sof ?? 0xc0, ...be16(17), 8, ...be16(h), ...be16(w), 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1];
  return bytes([0xff, 0xd8], app0, app1, dqt, [0xff], sof, [0xff, 0xda, 0, 2]);
}

function riff(chunk: string, payload: number[]): Uint8Array {
  return bytes(text('RIFF'), le32(payload.length + 12), text('WEBP'), text(chunk), le32(payload.length), payload);
}

function box(type: string, ...content: number[][]): number[] {
  const body = content.flat();
  return [...be32(body.length + 8), ...text(type), ...body];
}

function avif(w: number, h: number, irot?: number): Uint8Array {
  const ispe = box('ispe', [0, 0, 0, 0], be32(w), be32(h));
  const thumb = box('ispe', [0, 0, 0, 0], be32(64), be32(32));
  const props = box('ipco', thumb, ispe, irot === undefined ? [] : box('irot', [irot]));
  const meta = box('meta', [0, 0, 0, 0], box('hdlr', [0, 0, 0, 0, 0, 0, 0, 0], text('pict'), new Array(12).fill(0)), box('iprp', props));
  return bytes(box('ftyp', text('avif'), be32(0), text('mif1'), text('avif')), meta);
}

describe('image sizes from headers, without decoding', () => {
  it('reads PNG, including a 20000x20000 bomb from its 33 header bytes', () => {
    expect(readImageHeader(pngHeader(20000, 20000))).toEqual({ format: 'png', width: 20000, height: 20000, swapsAxes: false });
    const real = encodePng({ width: 7, height: 3, data: new Uint8ClampedArray(7 * 3 * 4).fill(200) });
    expect(readImageHeader(real)).toMatchObject({ width: 7, height: 3 });
  });

  it('reads JPEG from the first SOFn after other segments, with EXIF orientation', () => {
    expect(readImageHeader(jpegHeader(4000, 3000))).toEqual({ format: 'jpeg', width: 4000, height: 3000, swapsAxes: false });
    expect(readImageHeader(jpegHeader(4000, 3000, { sof: 0xc2 }))).toMatchObject({ width: 4000, height: 3000 }); // progressive
    expect(readImageHeader(jpegHeader(4000, 3000, { orientation: 6 }))).toMatchObject({ width: 4000, height: 3000, swapsAxes: true });
    expect(readImageHeader(jpegHeader(4000, 3000, { orientation: 3 }))).toMatchObject({ swapsAxes: false });
    // A DHT segment (0xC4) is not a frame header.
    const dht = jpegHeader(10, 10);
    const withDht = bytes([0xff, 0xd8, 0xff, 0xc4, 0, 4, 0, 0], [...dht.subarray(2)]);
    expect(readImageHeader(withDht)).toMatchObject({ width: 10, height: 10 });
    // Scan data before any frame header, or cut short: unknown.
    expect(readImageHeader(bytes([0xff, 0xd8, 0xff, 0xda, 0, 2]))).toBeNull();
    expect(readImageHeader(jpegHeader(4000, 3000).subarray(0, 40))).toBeNull();
  });

  it('reads GIF and BMP (both DIB header kinds, top-down bitmaps too)', () => {
    expect(readImageHeader(bytes(text('GIF89a'), le16(640), le16(480), [0, 0, 0]))).toEqual({ format: 'gif', width: 640, height: 480, swapsAxes: false });
    expect(readImageHeader(bytes(text('GIF87a'), le16(1), le16(2), [0, 0, 0]))).toMatchObject({ width: 1, height: 2 });
    const bmpInfo = bytes(text('BM'), le32(0), le32(0), le32(54), le32(40), le32(30000), le32(-20000 >>> 0), le16(1), le16(24));
    expect(readImageHeader(bmpInfo)).toEqual({ format: 'bmp', width: 30000, height: 20000, swapsAxes: false });
    const bmpCore = bytes(text('BM'), le32(0), le32(0), le32(26), le32(12), le16(300), le16(200), le16(1), le16(24));
    expect(readImageHeader(bmpCore)).toMatchObject({ width: 300, height: 200 });
  });

  it('reads WebP: lossy (VP8), lossless (VP8L) and extended (VP8X)', () => {
    const vp8 = riff('VP8 ', [0, 0, 0, 0x9d, 0x01, 0x2a, ...le16(1920), ...le16(1080), 0, 0]);
    expect(readImageHeader(vp8)).toEqual({ format: 'webp', width: 1920, height: 1080, swapsAxes: false });
    const bits = (16383 - 1) | ((9999 - 1) << 14);
    const vp8l = riff('VP8L', [0x2f, ...le32(bits), 0, 0, 0, 0, 0]);
    expect(readImageHeader(vp8l)).toMatchObject({ width: 16383, height: 9999 });
    const vp8x = riff('VP8X', [0, 0, 0, 0, ...le24(20000 - 1), ...le24(20000 - 1), 0, 0]);
    expect(readImageHeader(vp8x)).toMatchObject({ width: 20000, height: 20000 });
  });

  it('reads AVIF/HEIF from the largest ispe property, and irot quarter turns', () => {
    expect(readImageHeader(avif(8192, 6000))).toEqual({ format: 'avif', width: 8192, height: 6000, swapsAxes: false });
    expect(readImageHeader(avif(8192, 6000, 1))).toMatchObject({ swapsAxes: true });
    expect(readImageHeader(avif(8192, 6000, 2))).toMatchObject({ swapsAxes: false });
  });

  it('knows nothing of other bytes, truncated headers or zero sizes', () => {
    expect(readImageHeader(new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeNull();
    expect(readImageHeader(pngHeader(100, 100).subarray(0, 20))).toBeNull();
    expect(readImageHeader(pngHeader(0, 100))).toBeNull();
    expect(readImageHeader(new Uint8Array(0))).toBeNull();
  });
});
