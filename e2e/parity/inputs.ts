// Deterministic inputs shared by the parity page (browser) and the parity test (Node), so
// both runtimes see bit-identical pixels without shipping megabytes through the DevTools
// protocol. Token ids are computed once in Node and handed to the page.

export const IMAGE_SIZE = 256;
export const PER_IMAGE = 3 * IMAGE_SIZE * IMAGE_SIZE;

/** count distinct images in [0, 1], CHW float32: colour gradients with a per-image pattern. */
export function parityImages(count: number): Float32Array {
  const s = IMAGE_SIZE;
  const out = new Float32Array(count * PER_IMAGE);
  for (let n = 0; n < count; n++) {
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < s; y++) {
        for (let x = 0; x < s; x++) {
          const v = 0.5 + 0.5 * Math.sin((x * (c + 1) + y * (n + 2)) / (9 + 3 * n) + c * n);
          out[n * PER_IMAGE + c * s * s + y * s + x] = v;
        }
      }
    }
  }
  return out;
}

export const PARITY_TEXTS = ['a photo of a cat', 'a red sports car on a wet road', 'diagram of a neural network', 'sunset'];

/** FNV-1a over the bytes, so the test can confirm the page generated the very same pixels. */
export function checksum(data: Float32Array): number {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0;
  return h;
}
