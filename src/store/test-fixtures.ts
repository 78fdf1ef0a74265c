// Shared helpers of the store tests (not shipped: only *.test.ts import this).
import { l2normalize } from '../engine/similarity';
import type { PageImageInput, PageInput } from './pages';

export const sha = (n: number): string => n.toString(16).padStart(64, '0');

export const unitVector = (seed: number, dim = 512): Float32Array =>
  l2normalize(Float32Array.from({ length: dim }, (_, i) => Math.sin(seed * 7.3 + i * 0.37)));

export const thumbnailBlob = (bytes = 500, type = 'image/webp'): Blob => new Blob([new Uint8Array(bytes).fill(7)], { type });

export function image(n: number, extra: Partial<PageImageInput> = {}): PageImageInput {
  return { sha256: sha(n), src: `https://cdn.test/${n}.jpg`, alt: `picture ${n}`, width: 300, height: 200, ...extra };
}

export function page(url: string, images: PageImageInput[], visitedAt = 1000, modelId = 'm'): PageInput {
  return { url, title: `Title of ${url}`, favicon: null, visitedAt, modelId, images };
}

let dbCounter = 0;
/** A database name no other test uses (fake-indexeddb is shared by a whole test file). */
export const freshDbName = (): string => `lens-test-${process.pid}-${++dbCounter}`;
