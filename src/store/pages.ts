// Pages of the visual memory: what a visit contributes (pure; both stores use it).
//
//   store.putPage({ url, title, favicon, visitedAt, modelId, images: [{ sha256, src, alt, width, height, thumbnail? }] })
//
// A revisit merges into the stored page: images are keyed by (sha256, src), model ids
// accumulate, and visitedAt keeps the latest visit.

import type { PageImage, PageRecord } from './schema';

export const THUMBNAIL_MAX_BYTES = 8 * 1024;
export const THUMBNAIL_TYPES: readonly string[] = ['image/webp', 'image/jpeg', 'image/png'];
/** Past these, a page is not an ordinary page: keep the first ones rather than grow without bound. */
export const MAX_PAGE_IMAGES = 2000;
export const MAX_TEXT = 1000;
export const MAX_FAVICON_CHARS = 8 * 1024;

export interface PageImageInput extends PageImage {
  /** A preview of at most THUMBNAIL_MAX_BYTES; stored once per sha256. */
  thumbnail?: Blob;
}

export interface PageInput {
  url: string;
  title: string;
  favicon: string | null;
  visitedAt: number;
  /** The model that embedded this visit's images. */
  modelId: string;
  images: PageImageInput[];
}

/** Lower-case hostname, the unit of "forget this site"; '' for addresses without one. */
export function siteOf(url: string): string {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return '';
  }
}

export const isSha256 = (s: unknown): s is string => typeof s === 'string' && /^[0-9a-f]{64}$/.test(s);

export function checkThumbnail(blob: Blob): void {
  if (blob.size > THUMBNAIL_MAX_BYTES) throw new RangeError(`thumbnail of ${blob.size} bytes exceeds ${THUMBNAIL_MAX_BYTES}`);
  if (!THUMBNAIL_TYPES.includes(blob.type)) throw new RangeError(`thumbnail type "${blob.type}" is not one of ${THUMBNAIL_TYPES.join(', ')}`);
}

const clip = (s: string, max = MAX_TEXT): string => (s.length > max ? s.slice(0, max) : s);
const finiteSize = (n: number): number => (Number.isFinite(n) && n > 0 ? Math.round(n) : 0);

function checkImage(i: PageImage): PageImage {
  if (!isSha256(i.sha256)) throw new RangeError(`image hash "${String(i.sha256).slice(0, 80)}" is not a lower-case SHA-256`);
  return { sha256: i.sha256, src: clip(String(i.src), 4 * MAX_TEXT), alt: clip(String(i.alt ?? '')), width: finiteSize(i.width), height: finiteSize(i.height) };
}

/** The page record after this visit, merged with what was stored (if anything). Throws RangeError on malformed input. */
export function mergePage(existing: PageRecord | undefined, input: PageInput, lastUsed: number): PageRecord {
  if (!input.url || !Number.isFinite(input.visitedAt)) throw new RangeError('a page needs a url and a finite visitedAt');
  const images = new Map<string, PageImage>();
  for (const i of existing?.images ?? []) images.set(`${i.sha256} ${i.src}`, i);
  for (const i of input.images) {
    if (images.size >= MAX_PAGE_IMAGES) break;
    const image = checkImage(i);
    images.set(`${image.sha256} ${image.src}`, image);
  }
  const all = [...images.values()];
  const favicon = input.favicon && input.favicon.length <= MAX_FAVICON_CHARS ? input.favicon : (existing?.favicon ?? null);
  const newer = !existing || input.visitedAt >= existing.visitedAt;
  return {
    url: input.url,
    site: siteOf(input.url),
    title: clip(newer ? input.title : existing.title),
    favicon,
    visitedAt: Math.max(input.visitedAt, existing?.visitedAt ?? -Infinity),
    modelIds: [...new Set([...(existing?.modelIds ?? []), ...(input.modelId ? [input.modelId] : [])])],
    images: all,
    hashes: [...new Set(all.map((i) => i.sha256))],
    lastUsed,
  };
}

/** The thumbnails a visit brings, one per picture, each checked. */
export function visitThumbnails(input: PageInput): Map<string, Blob> {
  const out = new Map<string, Blob>();
  for (const i of input.images) {
    if (!i.thumbnail || out.has(i.sha256)) continue;
    checkThumbnail(i.thumbnail);
    out.set(i.sha256, i.thumbnail);
  }
  return out;
}
