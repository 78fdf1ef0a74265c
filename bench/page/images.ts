// The test pages: N distinct pages of `count` distinct pictures each (JPEG, PNG and WebP in turn,
// 200-3000 px on each side), 12 of them in the first viewport of a 1280×800 window. Chromium
// draws and encodes them (static/generate.js) and also hands back every picture preprocessed
// (shortest edge resize + centre crop, RGB) for the baselines, which thus run on exactly the
// pictures the extension indexes. Generated once into .cache/bench-page/images/.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { toPixelValues } from './static/pixels.js';

export const VISIBLE = 12;
const COLUMNS = 4;
const TYPES = [
  ['image/jpeg', 'jpg'],
  ['image/png', 'png'],
  ['image/webp', 'webp'],
] as const;
/** Displayed size of every picture: four columns and three rows fill the first viewport. */
const CELL = { width: 300, height: 240 };

export interface PageImage {
  file: string;
  type: string;
  width: number;
  height: number;
  seed: number;
  label: string;
}

export interface TestPage {
  index: number;
  /** Path on the bench server. */
  path: string;
  images: PageImage[];
  /** Paths (on the bench server) of the images in the first viewport. */
  visible: string[];
  /** Encoded bytes per image, in page order. */
  bytes: number[];
}

export const imagePath = (page: number, file: string): string => `/img/${page}/${file}`;

/** Sizes from a seeded generator: the same pages on every machine and every run. */
function pageImages(page: number, count: number): PageImage[] {
  let seed = 0x9e3779b9 ^ (page * 7919);
  const next = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  return Array.from({ length: count }, (_, i) => {
    const [type, ext] = TYPES[i % TYPES.length];
    return {
      file: `${String(i).padStart(3, '0')}.${ext}`,
      type,
      width: 200 + Math.floor(next() * 2801),
      height: 200 + Math.floor(next() * 2801),
      seed: page * 100_000 + i,
      label: `${page}.${i}`,
    };
  });
}

function pageHtml(page: number, images: PageImage[]): string {
  const cells = images
    .map((img) => `<img src="${imagePath(page, img.file)}" width="${CELL.width}" height="${CELL.height}" alt="picture ${img.label}">`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Benchmark page ${page}</title>
<style>body{margin:0;font:14px sans-serif}main{display:grid;grid-template-columns:repeat(${COLUMNS},${CELL.width}px);gap:8px;padding:8px}
img{object-fit:cover;display:block}</style></head>
<body><main>
${cells}
</main></body></html>
`;
}

/** Writes (or reuses) pages 0..n-1 with `count` images each; `sizes` are the crop sizes the baselines need. */
export async function ensurePages(
  cache: string,
  n: number,
  count: number,
  sizes: number[],
  openPage: (path: string) => Promise<Page>,
): Promise<TestPage[]> {
  const pages: TestPage[] = [];
  for (let k = 0; k < n; k++) {
    const dir = join(cache, `page-${k}`);
    const images = pageImages(k, count);
    const html = pageHtml(k, images);
    const done = join(dir, 'bytes.json');
    const fresh =
      existsSync(done) &&
      readFileSync(join(dir, 'index.html'), 'utf8') === html &&
      sizes.every((s) => existsSync(join(dir, `pre-${s}.rgb`)));
    if (!fresh) {
      const tab = await openPage('/blank.html');
      try {
        const bytes = await tab.evaluate(
          async (arg) => ((await import('/generate.js' as string)) as { generate(a: unknown): Promise<number[]> }).generate(arg),
          { dir: `page-${k}`, entries: images, sizes },
        );
        writeFileSync(join(dir, 'index.html'), html);
        writeFileSync(done, JSON.stringify(bytes));
      } finally {
        await tab.close();
      }
    }
    pages.push({
      index: k,
      path: `/page/${k}.html`,
      images,
      visible: images.slice(0, VISIBLE).map((img) => imagePath(k, img.file)),
      bytes: JSON.parse(readFileSync(done, 'utf8')) as number[],
    });
  }
  return pages;
}

/** Preprocessed pictures of a page as the models take them (see static/pixels.js). */
export function pixelValues(cache: string, page: number, size: number, count: number): Float32Array {
  return toPixelValues(readFileSync(join(cache, `page-${page}`, `pre-${size}.rgb`)), size, count);
}
