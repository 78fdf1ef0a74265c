// Draws the extension icon (a lens over a blue tile) at the sizes the manifests name, into
// public/icons (committed: they are the artwork). Run after changing the drawing: npm run icons
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodePng } from '../src/engine/png';

export const ICON_SIZES = [16, 32, 48, 128] as const;

/** Coverage of one pixel by the shape, from 4x4 supersampling, for smooth edges at 16 px. */
function draw(size: number): Uint8Array {
  const data = new Uint8Array(size * size * 4);
  const S = 4;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let tile = 0, ring = 0, handle = 0;
      for (let sy = 0; sy < S; sy++) {
        for (let sx = 0; sx < S; sx++) {
          const u = (x + (sx + 0.5) / S) / size, v = (y + (sy + 0.5) / S) / size;
          // rounded square tile
          const r = 0.2, dx = Math.max(Math.abs(u - 0.5) - (0.5 - r), 0), dy = Math.max(Math.abs(v - 0.5) - (0.5 - r), 0);
          if (dx * dx + dy * dy <= r * r) tile++;
          // lens ring centred at (0.44, 0.44)
          const d = Math.hypot(u - 0.44, v - 0.44);
          if (d >= 0.2 && d <= 0.29) ring++;
          // handle along the diagonal
          const t = (u + v) / 2, off = Math.abs(u - v) / Math.SQRT2;
          if (t > 0.63 && t < 0.82 && off < 0.065) handle++;
        }
      }
      const n = S * S, i = (y * size + x) * 4;
      const white = Math.min(1, (ring + handle) / n);
      const alpha = tile / n;
      // gradient blue tile, white lens
      const g = y / size;
      data[i] = Math.round((1 - white) * (47 + 20 * g) + white * 255);
      data[i + 1] = Math.round((1 - white) * (107 - 30 * g) + white * 255);
      data[i + 2] = Math.round((1 - white) * 255 + white * 255);
      data[i + 3] = Math.round(alpha * 255);
    }
  }
  return data;
}

export function writeIcons(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const size of ICON_SIZES) writeFileSync(join(dir, `icon-${size}.png`), encodePng({ data: draw(size), width: size, height: size }));
}

if (process.argv[1] && import.meta.filename === process.argv[1]) writeIcons(join(import.meta.dirname, '..', 'public', 'icons'));
